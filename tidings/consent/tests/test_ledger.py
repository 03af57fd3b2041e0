"""The ledger: purposes and notices, decisions appended with their proof, state derived, and the one question."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.accounts.permissions import Principal, Via
from tidings.audit.models import AuditEntry
from tidings.consent import actions, selectors
from tidings.consent.event_types import CONSENT_GIVEN, CONSENT_WITHDRAWN
from tidings.consent.models import STANDARD_PURPOSES, ConsentRecord, Purpose
from tidings.events import actions as events
from tidings.events.models import Event
from tidings.privacy.models import LawfulBasis
from tidings.tests.principals import system


def tracker(workspace) -> Principal:
    """The narrow principal the tracker records consent as."""
    return Principal(workspace=workspace, user=None, permissions=frozenset({"consent:record"}), via=Via.TOKEN)


def record(contact_id=None, purpose="marketing_email", given=True, **extra):
    extra.setdefault("method", "form")
    return actions.consent_record(purpose=purpose, given=given, contact_id=contact_id, principal=system(), **extra)


# ----------------------------------------------------------------------------------------------
# Purposes and notices


def test_a_new_workspace_has_the_four_standard_purposes_under_consent(in_acme):
    stored = {p.key: p.lawful_basis for p in Purpose.objects.all()}
    assert stored == dict.fromkeys(STANDARD_PURPOSES, LawfulBasis.CONSENT)
    assert actions.purposes_ensure_standard(principal=system()) == []  # idempotent


def test_an_older_workspace_gets_the_standard_purposes_on_first_use(in_acme, ada):
    Purpose.objects.all().delete()  # as a workspace created before consent existed
    assert [p.key for p in selectors.purposes()] == list(STANDARD_PURPOSES)  # read as defaults

    record(ada.id, purpose="tracking")

    assert set(Purpose.objects.values_list("key", flat=True)) == set(STANDARD_PURPOSES)


def test_a_purpose_of_its_own_with_a_lawful_basis(in_acme):
    purpose = actions.purpose_create(principal=system(), key="event_invitations", name="Event invitations",
                                     lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)  # fmt: skip
    assert selectors.purpose_by_key("event_invitations").pk == purpose.pk
    with pytest.raises(ValidationError) as taken:
        actions.purpose_create(principal=system(), key="event_invitations", name="Again")
    assert "key" in taken.value.message_dict
    with pytest.raises(ValidationError) as bad:
        actions.purpose_create(principal=system(), key="Not A Key", name="", lawful_basis="whim")
    assert set(bad.value.message_dict) == {"name", "lawful_basis"} or "key" in bad.value.message_dict


def test_a_purpose_key_never_changes(in_acme):
    purpose = Purpose.objects.get(key="profiling")
    with pytest.raises(ValidationError):
        actions.purpose_update(purpose.pk, principal=system(), key="other")
    actions.purpose_update(purpose.pk, principal=system(), lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)
    assert Purpose.objects.get(pk=purpose.pk).lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS


def test_notices_get_increasing_versions_and_the_newest_is_current(in_acme):
    assert selectors.current_notice() is None
    first = actions.notice_publish(principal=system(), title="Privacy notice", url="https://acme.example/privacy")
    second = actions.notice_publish(principal=system(), title="Privacy notice 2026", text="We keep little.")
    assert (first.version, second.version) == (1, 2)
    assert selectors.current_notice().pk == second.pk
    with pytest.raises(ValidationError) as error:
        actions.notice_publish(principal=system(), title="No content")
    assert "url" in error.value.message_dict


def test_purposes_and_notices_need_privacy_manage(in_acme, acme):
    with pytest.raises(PermissionDenied):
        actions.purpose_create(principal=tracker(acme), key="mine", name="Mine")
    with pytest.raises(PermissionDenied):
        actions.notice_publish(principal=tracker(acme), title="T", url="https://acme.example/p")


# ----------------------------------------------------------------------------------------------
# Recording


def test_a_decision_is_recorded_with_its_proof_an_event_and_an_audit_entry(in_acme, acme, ada):
    actions.notice_publish(principal=system(), title="Notice", url="https://acme.example/privacy")

    rec = actions.consent_record(
        purpose="marketing_email", given=True, contact_id=ada.id, method="form", principal=tracker(acme),
        source="https://acme.example/join?email=ada@analytical.example#top", ip="203.0.113.77",
        wording="Send me the newsletter",
    )  # fmt: skip

    rec.refresh_from_db()
    assert rec.notice_version == 1  # the current notice by default
    assert rec.source == "https://acme.example/join"  # no query string, no fragment
    assert rec.ip_network == "203.0.113.0/24"  # never the address
    assert rec.wording == "Send me the newsletter"
    event = Event.objects.get(contact_id=ada.id, type=CONSENT_GIVEN)
    assert event.data == {"purpose": "marketing_email", "notice_version": 1, "method": "form", "record_id": rec.pk}
    assert AuditEntry.objects.filter(action="consent.recorded", target_id=str(ada.id)).exists()


def test_a_withdrawal_writes_consent_withdrawn(in_acme, ada):
    record(ada.id)
    record(ada.id, given=False, method="preference_centre")
    assert Event.objects.filter(contact_id=ada.id, type=CONSENT_WITHDRAWN).count() == 1


def test_a_browser_signal_is_a_refusal(in_acme, ada):
    rec = record(ada.id, purpose="tracking", given=False, method="tracker", signal="gpc")
    assert rec.signal == "gpc"
    with pytest.raises(ValidationError) as error:
        record(ada.id, purpose="tracking", given=True, method="tracker", signal="dnt")
    assert "signal" in error.value.message_dict


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"purpose": "no_such_purpose"}, "purpose"),
        ({"method": "telepathy"}, "method"),
        ({"notice_version": 9}, "notice_version"),
        ({"recorded_at": timezone.now() + datetime.timedelta(days=1)}, "recorded_at"),
        ({"contact_id": None}, "contact_id"),
    ],
)
def test_bad_values_are_refused_by_argument(in_acme, ada, extra, field):
    arguments = {"contact_id": ada.id, **extra}
    with pytest.raises(ValidationError) as error:
        record(**arguments)
    assert field in error.value.message_dict
    assert not ConsentRecord.objects.exists()


def test_an_inactive_purpose_records_nothing(in_acme, ada):
    purpose = Purpose.objects.get(key="sharing")
    actions.purpose_update(purpose.pk, principal=system(), active=False)
    with pytest.raises(ValidationError):
        record(ada.id, purpose="sharing")


def test_a_contact_or_visitor_of_another_workspace_is_not_found(in_acme, make_user, ada):
    from tidings.accounts.actions import workspace_create
    from tidings.contacts.actions import contact_create
    from tidings.tenancy.context import use_workspace

    # In Acme's region, so that the ids cannot be Acme's too.
    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("mallory@initech.example"))
    with use_workspace(initech):
        theirs = contact_create({"email": "eve@globex.example"}, principal=system())
        their_visitor = events.visitor_create(principal=system())
    with pytest.raises(actions.SubjectNotFound):
        record(theirs.id)
    with pytest.raises(actions.SubjectNotFound):
        record(visitor_id=their_visitor.pk, purpose="tracking", method="tracker")
    assert not ConsentRecord.objects.exists()


def test_recording_needs_consent_record(in_acme, acme, ada):
    reader = Principal(workspace=acme, user=None, permissions=frozenset({"privacy:view"}), via=Via.TOKEN)
    with pytest.raises(PermissionDenied):
        actions.consent_record(purpose="tracking", given=True, contact_id=ada.id, method="api", principal=reader)


def test_a_batch_is_written_whole_or_not_at_all(in_acme, ada, grace):
    earlier = timezone.now() - datetime.timedelta(days=400)
    rows = [
        {"purpose": "marketing_email", "given": True, "contact_id": ada.id, "method": "import", "recorded_at": earlier},
        {"purpose": "marketing_email", "given": True, "contact_id": grace.id, "method": "import"},
    ]
    records = actions.consent_record_many(rows, principal=system())
    assert len(records) == 2
    assert ConsentRecord.objects.get(contact_id=ada.id).recorded_at == earlier
    assert Event.objects.filter(type=CONSENT_GIVEN).count() == 2

    with pytest.raises(ValidationError) as error:
        actions.consent_record_many(rows + [{**rows[0], "method": "carrier pigeon"}], principal=system())
    assert "2.method" in error.value.message_dict
    assert ConsentRecord.objects.count() == 2
    assert AuditEntry.objects.filter(action="consent.recorded_many").count() == 1


# ----------------------------------------------------------------------------------------------
# State derived from the ledger


def test_the_state_is_the_latest_record_per_purpose(in_acme, ada):
    record(ada.id, purpose="marketing_email", given=True)
    record(ada.id, purpose="tracking", given=True, method="tracker")
    record(ada.id, purpose="marketing_email", given=False, method="preference_centre")

    state = selectors.consent_state(ada.id)

    assert set(state) == {"marketing_email", "tracking"}
    assert state["marketing_email"].given is False
    assert state["marketing_email"].method == "preference_centre"
    assert state["tracking"].given is True


def test_a_later_decision_wins_even_when_imported_afterwards_with_an_older_date(in_acme, ada):
    record(ada.id, given=False, method="preference_centre")
    actions.consent_record_many(
        [{"purpose": "marketing_email", "given": True, "contact_id": ada.id, "method": "import",
          "recorded_at": timezone.now() - datetime.timedelta(days=30)}],
        principal=system(),
    )  # fmt: skip
    assert selectors.consent_state(ada.id)["marketing_email"].given is False


def test_a_visitors_consent_joins_the_contact_once_identified(in_acme, acme, ada):
    visitor = events.visitor_create(principal=system())
    actions.consent_record(purpose="tracking", given=True, visitor_id=visitor.pk, method="tracker",
                           source="site:1", principal=tracker(acme))  # fmt: skip
    assert selectors.visitor_consents(visitor.pk)["tracking"].given is True
    assert selectors.consent_state(ada.id) == {}
    assert not selectors.purpose_allowed(ada.id, "tracking", use="tracking:profile")

    events.visitor_identify(visitor.pk, ada.id, principal=system())

    assert selectors.consent_state(ada.id)["tracking"].given is True
    assert selectors.purpose_allowed(ada.id, "tracking", use="tracking:profile")
    assert selectors.contacts_allowed([ada.id], "tracking", use="test") == {ada.id}
    # The contact's own later withdrawal (preference centre) now applies to the device too.
    record(ada.id, purpose="tracking", given=False, method="preference_centre")
    assert selectors.visitor_consents(visitor.pk)["tracking"].given is False
    assert not selectors.visitor_allowed(visitor.pk, "tracking", use="tracking:profile")


def test_a_visitor_of_another_workspace_has_no_consents(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        theirs = events.visitor_create(principal=system())
        actions.consent_record(purpose="tracking", given=True, visitor_id=theirs.pk, method="tracker",
                               principal=system())  # fmt: skip
    assert selectors.visitor_consents(theirs.pk) == {}


# A ledger step: (who records: "device" this visitor, "sibling" another device of the contact, "contact" the
# contact itself; the purpose; given) - and, between steps, maybe the identification of the device.
_STEPS = st.lists(
    st.tuples(st.sampled_from(["device", "sibling", "contact", "identify"]),
              st.sampled_from(["tracking", "profiling"]), st.booleans()),
    max_size=8,
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_STEPS)
def test_the_trackers_fast_decision_agrees_with_the_visitors_state(in_acme, acme, steps):
    from tidings.contacts.actions import contact_create

    contact = contact_create({"lastname": "Fernwhistle"}, principal=system())
    device = events.visitor_create(principal=system())
    sibling = events.visitor_create(principal=system())
    events.visitor_identify(sibling.pk, contact.pk, principal=system())
    for who, purpose, choice in steps:
        if who == "identify":
            events.visitor_identify(device.pk, contact.pk, principal=system())
            continue
        subject = {"device": {"visitor_id": device.pk}, "sibling": {"visitor_id": sibling.pk},
                   "contact": {"contact_id": contact.pk}}[who]  # fmt: skip
        actions.consent_record(purpose=purpose, given=choice, method="tracker", principal=tracker(acme), **subject)
    for purpose in ("tracking", "profiling", "marketing_email"):
        expected = selectors.visitor_consents(device.pk).get(purpose)
        assert selectors.visitor_decision(device.pk, purpose) == (None if expected is None else expected.given)


def test_the_fast_decision_of_another_workspaces_visitor_is_none(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        theirs = events.visitor_create(principal=system())
        actions.consent_record(purpose="tracking", given=True, visitor_id=theirs.pk, method="tracker",
                               principal=system())  # fmt: skip
        assert selectors.visitor_decision(theirs.pk, "tracking") is True
    assert selectors.visitor_decision(theirs.pk, "tracking") is None


# ----------------------------------------------------------------------------------------------
# The one question


def test_consent_purposes_need_a_current_given_record(in_acme, ada):
    assert not selectors.purpose_allowed(ada.id, "marketing_email", use="email:1")
    record(ada.id)
    assert selectors.purpose_allowed(ada.id, "marketing_email", use="email:1")
    record(ada.id, given=False, method="preference_centre")
    assert not selectors.purpose_allowed(ada.id, "marketing_email", use="email:1")


@pytest.mark.parametrize("basis", [LawfulBasis.LEGITIMATE_INTERESTS, LawfulBasis.CONTRACT])
def test_other_bases_are_allowed_until_the_contact_objects(in_acme, ada, basis):
    actions.purpose_create(principal=system(), key="service_updates", name="Service updates", lawful_basis=basis)
    assert selectors.purpose_allowed(ada.id, "service_updates", use="email:2")
    record(ada.id, purpose="service_updates", given=False, method="preference_centre")
    assert not selectors.purpose_allowed(ada.id, "service_updates", use="email:2")


def test_an_inactive_purpose_allows_nothing(in_acme, ada):
    record(ada.id, purpose="profiling")
    actions.purpose_update(Purpose.objects.get(key="profiling").pk, principal=system(), active=False)
    assert not selectors.purpose_allowed(ada.id, "profiling", use="scoring")
    assert selectors.contacts_allowed([ada.id], "profiling", use="scoring") == set()


def test_an_unknown_purpose_is_an_error_not_a_yes(in_acme, ada):
    with pytest.raises(Purpose.DoesNotExist):
        selectors.purpose_allowed(ada.id, "no_such_purpose", use="email:1")


def test_a_refusal_is_logged_with_ids_and_no_personal_value(in_acme, acme, ada, caplog):
    with caplog.at_level(logging.INFO, logger="tidings.consent"):
        assert not selectors.purpose_allowed(ada.id, "marketing_email", use="email:7")
    (line,) = [r for r in caplog.records if r.name == "tidings.consent"]
    assert line.workspace_id == acme.pk and line.contact_id == ada.id
    assert (line.purpose, line.use, line.reason) == ("marketing_email", "email:7", "no_consent")
    text = line.getMessage()
    for value in ("ada@analytical.example", "Ada", "Quillfeather", "London"):
        assert value not in text


def test_the_set_form_agrees_with_the_one_contact_form(in_acme, ada, grace):
    from tidings.contacts.actions import contact_create
    from tidings.contacts.selectors import contact_ids

    hedy = contact_create({"email": "hedy@frequency.example"}, principal=system())
    actions.purpose_create(principal=system(), key="service_updates", name="Service updates",
                           lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)  # fmt: skip
    visitor = events.visitor_create(principal=system())
    record(ada.id)
    record(grace.id)
    record(grace.id, given=False, method="preference_centre")
    actions.consent_record(purpose="marketing_email", given=True, visitor_id=visitor.pk, method="tracker",
                           principal=system())  # fmt: skip
    events.visitor_identify(visitor.pk, hedy.id, principal=system())
    record(ada.id, purpose="service_updates", given=False, method="preference_centre")
    everyone = [ada.id, grace.id, hedy.id]

    for key in ("marketing_email", "service_updates", "tracking"):
        one_by_one = {c for c in everyone if selectors.purpose_allowed(c, key, use="test")}
        assert selectors.contacts_allowed(everyone, key, use="test") == one_by_one, key
        from tidings.contacts.models import Contact

        in_sql = set(Contact.objects.filter(selectors.allowed_condition(key)).values_list("id", flat=True))
        assert in_sql == one_by_one, key
    assert selectors.contacts_allowed(everyone, "marketing_email", use="test") == {ada.id, hedy.id}
    assert set(contact_ids()) >= set(everyone)
