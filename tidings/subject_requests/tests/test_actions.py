"""The lifecycle of a data-subject request: received, verified, approved, extended, completed or denied."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from freezegun import freeze_time

from tidings.accounts.permissions import PUBLIC_PAGE_PERMISSIONS, Principal, Via
from tidings.audit.selectors import verify_chain
from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts.models import Contact
from tidings.subject_requests import actions, selectors
from tidings.subject_requests.models import SubjectRequest
from tidings.tests.principals import system


def _visitor(workspace) -> Principal:
    return Principal(workspace=workspace, user=None, permissions=PUBLIC_PAGE_PERMISSIONS, via=Via.VISITOR)


def _verify_link(outbox) -> tuple[int, str]:
    match = re.search(r"/privacy/verify/(\d+)/(\S+)", outbox[-1].body)
    assert match, "the message holds the confirmation link"
    return int(match.group(1)), match.group(2)


def test_a_request_is_due_thirty_days_after_receipt(in_acme, ada):
    with freeze_time("2026-03-01 10:00:00"):
        row = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True,
                                      principal=system())  # fmt: skip
    assert row.due_at - row.received_at == datetime.timedelta(days=30)
    assert row.due_at.isoformat().startswith("2026-03-31T10:00")


def test_an_open_request_is_not_recorded_twice(in_acme, ada):
    first = actions.request_receive("erasure", source="operator", contact_id=ada.id, verified=True, principal=system())
    again = actions.request_receive("erasure", source="operator", contact_id=ada.id, principal=system())
    other = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True, principal=system())
    assert again.pk == first.pk and other.pk != first.pk
    assert SubjectRequest.objects.count() == 2


def test_the_public_form_mails_a_link_that_confirms_on_the_third_try(in_acme, ada, mail_after_commit):
    visitor = _visitor(in_acme)
    row = actions.request_receive("access", source="public_form", address="ADA@analytical.example ",
                                  principal=visitor)  # fmt: skip
    assert (row.status, row.contact_id) == ("unverified", ada.id)
    assert mail_after_commit[-1].to == ["ada@analytical.example"]
    request_id, code = _verify_link(mail_after_commit)
    assert not actions.verify_by_token(request_id, code[:-1] + ("A" if code[-1] != "A" else "B"), principal=visitor)
    assert not actions.verify_by_token(request_id, "", principal=visitor)
    assert actions.verify_by_token(request_id, code, principal=visitor)
    assert SubjectRequest.objects.get(pk=row.pk).status == "verified"
    assert not actions.verify_by_token(request_id, code, principal=visitor)  # used: the link stops working


def test_a_link_stops_working_after_five_wrong_codes_or_a_day(in_acme, ada, mail_after_commit):
    visitor = _visitor(in_acme)
    actions.request_receive("erasure", source="public_form", address="ada@analytical.example", principal=visitor)
    request_id, code = _verify_link(mail_after_commit)
    for _ in range(actions.MAX_CODE_ATTEMPTS):
        assert not actions.verify_by_token(request_id, "wrong", principal=visitor)
    assert not actions.verify_by_token(request_id, code, principal=visitor)
    actions.request_resend_verification(request_id, principal=system())
    _, fresh = _verify_link(mail_after_commit)
    with freeze_time(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=25)):
        assert not actions.verify_by_token(request_id, fresh, principal=visitor)


def test_an_unknown_address_is_answered_at_once_to_that_address_only(in_acme, ada, mail_after_commit):
    row = actions.request_receive("access", source="public_form", address="nobody@nowhere.example",
                                  principal=_visitor(in_acme))  # fmt: skip
    assert (row.status, row.contact_id, row.outcome) == ("completed", None, {"no_data": True})
    assert mail_after_commit[-1].to == ["nobody@nowhere.example"] and "holds none" in mail_after_commit[-1].body


def test_only_the_contacts_own_link_the_public_door_or_a_handler_may_file(in_acme, ada):
    with pytest.raises(PermissionDenied):
        actions.request_receive("access", source="preference_centre", contact_id=ada.id, principal=system())
    with pytest.raises(PermissionDenied):
        actions.request_receive("access", source="operator", contact_id=ada.id, principal=_visitor(in_acme))
    with pytest.raises(ValidationError) as caught:
        actions.request_receive("teleport", source="operator", contact_id=ada.id, principal=system())
    assert "teleport" not in str(caught.value)


def test_the_lifecycle_moves_one_step_at_a_time(in_acme, ada, mail_after_commit):
    row = actions.request_receive("rectification", source="operator", contact_id=ada.id, verified=True,
                                  details="My city is Paris, not London", principal=system())  # fmt: skip
    assert selectors.request_details(row) == "My city is Paris, not London"
    with pytest.raises(ValidationError):
        actions.request_complete(row.pk, principal=system())  # not approved yet
    actions.request_approve(row.pk, principal=system())
    actions.request_start(row.pk, principal=system())
    with pytest.raises(ValidationError):
        actions.request_extend(row.pk, days=10, reason="", principal=system())
    with pytest.raises(ValidationError):
        actions.request_extend(row.pk, days=61, reason="Backlog", principal=system())
    extended = actions.request_extend(row.pk, days=30, reason="Many requests this month", principal=system())
    assert (extended.status, extended.due_at - extended.received_at) == ("extended", datetime.timedelta(days=60))
    assert "Many requests this month" in mail_after_commit[-1].body
    with pytest.raises(ValidationError):
        actions.request_extend(row.pk, days=31, reason="Still busy", principal=system())  # over two months
    done = actions.request_complete(row.pk, principal=system())
    assert (done.status, done.details_enc) == ("completed", None)
    actions_seen = [entry.action for entry in selectors.request_history(done)]
    assert actions_seen == ["subject_request.received", "subject_request.approved", "subject_request.started",
                            "subject_request.extended", "subject_request.completed"]  # fmt: skip


def test_a_denial_needs_a_reason_and_tells_the_subject(in_acme, ada, mail_after_commit):
    row = actions.request_receive("erasure", source="operator", contact_id=ada.id, verified=True, principal=system())
    with pytest.raises(ValidationError):
        actions.request_deny(row.pk, reason="  ", principal=system())
    denied = actions.request_deny(row.pk, reason="A court order requires keeping the records", principal=system())
    assert denied.status == "denied" and "court order" in mail_after_commit[-1].body
    with pytest.raises(ValidationError):
        actions.request_approve(row.pk, principal=system())


def test_members_without_the_permission_are_refused(in_acme, ada):
    row = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True, principal=system())
    marketer = Principal(workspace=in_acme, user=None, permissions=frozenset({"privacy:view", "contacts:view"}),
                         via=Via.MEMBER)  # fmt: skip
    for step in (actions.request_approve, actions.request_verify, actions.request_complete):
        with pytest.raises(PermissionDenied):
            step(row.pk, principal=marketer)


def test_an_objection_withdraws_every_purpose_and_stops_email(in_acme, ada):
    row = actions.request_receive("objection", source="operator", contact_id=ada.id, verified=True, principal=system())
    actions.request_approve(row.pk, principal=system())
    done = actions.request_complete(row.pk, principal=system())
    assert done.outcome["purposes_withdrawn"] >= 4
    assert not any(decision.given for decision in consent_selectors.consent_state(ada.id).values())
    assert [dnc.reason for dnc in contacts_selectors.contact_dnc(ada.id)] == ["unsubscribed"]


def test_an_erasure_erases_the_contact_keeps_anonymised_proof_and_the_chain_holds(in_acme, ada, grace,
                                                                                  mail_after_commit):  # fmt: skip
    row = actions.request_receive("erasure", source="operator", contact_id=ada.id, verified=True,
                                  details="Forget me, Ada", principal=system())  # fmt: skip
    actions.request_receive("access", source="operator", contact_id=grace.id, verified=True, principal=system())
    actions.request_approve(row.pk, principal=system())
    done = actions.request_complete(row.pk, principal=system())
    assert not Contact.objects.filter(pk=ada.id).exists()
    kept = SubjectRequest.objects.get(pk=row.pk)
    assert (kept.status, kept.contact_id, kept.details_enc, kept.address_hash) == ("completed", None, None, None)
    assert done.outcome == {"erased": True, "suppressed": True}
    from tidings.emails.selectors import suppressed_indexes, suppression_index

    index = suppression_index("ada@analytical.example")  # a keyed hash of its own scope, not the blind index
    assert suppressed_indexes([index]) == {index}
    assert mail_after_commit[-1].to == ["ada@analytical.example"]  # read before the erasure
    assert list(verify_chain(in_acme.db_alias, in_acme.pk)) == []


def test_an_access_request_completes_with_a_package_of_every_store(in_acme, ada, mail_after_commit):
    row = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True, principal=system())
    actions.request_approve(row.pk, principal=system())
    actions.request_complete(row.pk, principal=system())
    assert "/privacy/package/" in mail_after_commit[-1].body
    package = selectors.access_package(SubjectRequest.objects.get(pk=row.pk))
    assert package is not None and "contacts.contact" in package
    assert any(item["kind"] == "access" for item in package["subject_requests.subjectrequest"])


def test_an_overdue_request_alerts_the_admins_once(in_acme, ada, alice, mail_after_commit):
    with freeze_time("2026-03-01 09:00:00"):
        actions.request_receive("access", source="operator", contact_id=ada.id, verified=True, principal=system())
    with freeze_time("2026-03-31 08:59:00"):
        assert actions.alert_overdue(principal=system()) == 0
        assert selectors.queue_counts().overdue == 0
    with freeze_time("2026-03-31 09:01:00"):
        assert selectors.queue_counts().overdue == 1
        assert actions.alert_overdue(principal=system()) == 1
        assert actions.alert_overdue(principal=system()) == 0
    assert "overdue" in mail_after_commit[-1].subject and mail_after_commit[-1].to == [alice.email]
