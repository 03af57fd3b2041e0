"""Events are kept as long as their type's retention class says."""

import datetime

from django.utils import timezone

from tidings.events import actions
from tidings.events.models import Event
from tidings.events.registry import RETENTION_PERIODS, Retention, code_for
from tidings.tests.principals import system


def test_behaviour_events_past_thirteen_months_go_and_records_stay(in_acme):
    long_ago = timezone.now() - RETENTION_PERIODS[Retention.BEHAVIOUR] - datetime.timedelta(days=1)
    page_hit, consent = code_for("page.hit"), code_for("consent.given")
    actions.events_record(
        [
            {"type": page_hit, "contact_id": 1, "at": long_ago},
            {"type": page_hit, "contact_id": 1},
            {"type": consent, "contact_id": 1, "at": long_ago, "data": {"purpose": "newsletter"}},
        ],
        principal=system(),
    )

    purged = actions.events_purge_expired(principal=system())

    assert purged == 1
    assert sorted(Event.objects.values_list("type", flat=True)) == sorted([page_hit, consent])
