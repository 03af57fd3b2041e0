"""The one write path: checked, batched, and repeated strings (URLs) stored once per workspace."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tidings.events import actions, store
from tidings.events.models import Event, EventString
from tidings.events.registry import DICTIONARY_KINDS, URL, code_for
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


@pytest.fixture
def page_hit():
    return code_for("page.hit")


def test_events_of_many_contacts_are_written_in_one_call(in_acme, page_hit):
    rows = [{"type": page_hit, "contact_id": n, "data": {"page": n}} for n in range(1, 2501)]

    written = actions.events_record(rows, principal=system())

    assert written == 2500
    assert Event.objects.filter(type=page_hit).count() == 2500


def test_a_url_is_stored_once_and_events_hold_its_id(in_acme, page_hit):
    url = "https://shop.acme.example/pricing"
    actions.events_record([{"type": page_hit, "contact_id": n, "data": {"url": url}} for n in (1, 2, 3)],
                          principal=system())  # fmt: skip

    string = EventString.objects.get()
    assert string.value == url
    assert {e.data["url"] for e in Event.objects.all()} == {string.id}


def test_a_url_loses_its_query_string_and_fragment_before_it_is_stored(in_acme, page_hit):
    actions.events_record(
        [{"type": page_hit, "contact_id": 1, "data": {"url": "https://acme.example/welcome?email=ada%40x.example#t"}}],
        principal=system(),
    )

    assert list(EventString.objects.values_list("value", flat=True)) == ["https://acme.example/welcome"]


def test_known_strings_cost_one_query(in_acme):
    kind = DICTIONARY_KINDS[URL]
    urls = [f"https://acme.example/p/{n}" for n in range(50)]
    store.string_ids(kind, urls)

    with CaptureQueriesContext(connections["region_eu"]) as queries:
        ids = store.string_ids(kind, urls)

    assert len(queries) == 1
    assert len(set(ids.values())) == 50


def test_each_workspace_has_its_own_dictionary(in_acme, globex, page_hit):
    url = "https://shared.example/"
    actions.events_record([{"type": page_hit, "contact_id": 1, "data": {"url": url}}], principal=system())
    with use_workspace(globex):
        actions.events_record([{"type": page_hit, "contact_id": 1, "data": {"url": url}}], principal=system())
        assert EventString.objects.count() == 1

    assert EventString.objects.count() == 1
    assert EventString.unscoped_objects.using("region_eu").filter(workspace_id=globex.id).count() == 0


def test_an_event_belongs_to_a_contact_or_a_visitor(in_acme, page_hit):
    with pytest.raises(ValueError, match="contact or a visitor"):
        actions.events_record([{"type": page_hit, "data": {"page": 1}}], principal=system())


def test_a_single_saved_event_goes_through_the_same_checks_and_encoding(in_acme, page_hit):
    event = Event.objects.create(
        type=page_hit, contact_id=1, data={"url": "https://acme.example/a?x=1", "ip": "198.51.100.9"}
    )

    assert event.data["ip"] == "198.51.100.0/24"
    assert EventString.objects.get(pk=event.data["url"]).value == "https://acme.example/a"
