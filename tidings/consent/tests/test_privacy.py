"""The ledger and privacy: an access export holds the decisions; erasure keeps them only as anonymised proof."""

from __future__ import annotations

from django.db import connections

from tidings.consent import actions, selectors
from tidings.consent.models import ConsentRecord
from tidings.contacts.actions import contact_create, contact_delete, contact_merge
from tidings.events import actions as events
from tidings.events.models import Event
from tidings.privacy.registry import erase_subject, export_subject
from tidings.tests.principals import system


def _decide(contact_id=None, visitor_id=None, **extra):
    extra.setdefault("purpose", "marketing_email")
    extra.setdefault("given", True)
    extra.setdefault("method", "form")
    return actions.consent_record(contact_id=contact_id, visitor_id=visitor_id, principal=system(), **extra)


def _seed(ada):
    """Ada consented on a form, her device to tracking (then identified as her), and she withdrew the newsletter."""
    actions.notice_publish(principal=system(), title="Notice", url="https://acme.example/privacy")
    _decide(ada.id, source="form:3", ip="198.51.100.23", wording="Yes, send me the newsletter")
    visitor = events.visitor_create(principal=system())
    _decide(visitor_id=visitor.pk, purpose="tracking", method="tracker", source="site:1", ip="2001:db8:1:2::7")
    events.visitor_identify(visitor.pk, ada.id, principal=system())
    _decide(ada.id, given=False, method="preference_centre")
    return visitor


def test_the_access_export_holds_every_decision_the_devices_included(ada):
    visitor = _seed(ada)

    rows = export_subject(ada.id)["consent.consentrecord"]

    assert [(r["purpose"], r["given"], r["method"]) for r in rows] == [
        ("marketing_email", True, "form"),
        ("tracking", True, "tracker"),
        ("marketing_email", False, "preference_centre"),
    ]
    assert rows[0]["wording"] == "Yes, send me the newsletter" and rows[0]["notice_version"] == 1
    assert rows[0]["ip_network"] == "198.51.100.0/24"
    assert rows[1]["visitor_id"] == visitor.pk


def test_erasure_keeps_the_records_as_anonymised_proof_and_nothing_of_the_person(ada, grace):
    visitor = _seed(ada)
    _decide(grace.id, ip="192.0.2.9")

    erase_subject(ada.id, reason="art17")

    kept = ConsentRecord.objects.exclude(contact_id=grace.id)
    assert kept.count() == 3, "the proof stays"
    assert set(kept.values_list("contact_id", "visitor_id", "ip_network")) == {(None, None, "")}
    assert set(kept.values_list("method", flat=True)) == {"form", "tracker", "preference_centre"}
    assert ConsentRecord.objects.get(contact_id=grace.id).ip_network == "192.0.2.0/24", "others untouched"
    assert not Event.objects.filter(contact_id=ada.id).exists()
    assert not Event.objects.filter(visitor_id=visitor.pk).exists()
    assert selectors.consent_state(ada.id) == {}
    assert selectors.visitor_consents(visitor.pk) == {}
    assert "consent.consentrecord" not in export_subject(ada.id)
    # No column of any table of the region still names her or her device.
    connection = connections["region_eu"]
    with connection.cursor() as cursor:
        for column, value in (("contact_id", ada.id), ("visitor_id", visitor.pk)):
            cursor.execute(f"SELECT COUNT(*) FROM consent_consentrecord WHERE {column} = %s", [value])  # noqa: S608
            assert cursor.fetchone()[0] == 0


def test_deleting_a_contact_anonymises_its_records_too(ada):
    _seed(ada)
    contact_delete(ada.id, principal=system())
    assert not ConsentRecord.objects.filter(contact_id=ada.id).exists()
    assert ConsentRecord.objects.filter(contact_id__isnull=True, visitor_id__isnull=True).count() == 3


def test_a_merge_moves_the_losers_decisions_to_the_winner(ada):
    twin = contact_create({"email": "ada.twin@analytical.example"}, principal=system())
    _decide(twin.id, purpose="profiling")

    contact_merge(ada.id, twin.id, principal=system())

    assert selectors.consent_state(ada.id)["profiling"].given is True
    assert not ConsentRecord.objects.filter(contact_id=twin.id).exists()
