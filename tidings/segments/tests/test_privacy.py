"""Segments and privacy: memberships in the erasure/export registry, sealed filter values, key rotation."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tidings.audit.models import AuditEntry, AuditOutbox
from tidings.contacts.actions import contact_create, contact_delete, contact_merge, field_create
from tidings.events.models import Event
from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import export_subject
from tidings.privacy.vault import keyring, rotate_workspace_key
from tidings.segments import actions, selectors
from tidings.segments.event_types import SEGMENT_CODES
from tidings.segments.models import MembershipStatus, Segment, SegmentMembership
from tidings.tests.principals import system

LONDONERS = {"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]}

# The searched values, and the forms they are normalised to before being indexed.
EMAIL = "ada@analytical.example"
PHONE = "+44 20 7946 0958"
CRM_ID = "CRM-77-Lovelace"
CLEAR = [EMAIL, PHONE, "442079460958", "20 7946 0958", CRM_ID, "crm-77-lovelace", "Lovelace", "lovelace"]


def members(segment) -> set[int]:
    return set(selectors.segment_member_ids(segment.pk))


def test_erasing_a_contact_leaves_no_membership_and_no_segment_event(in_acme):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)
    ada = contact_create({"email": EMAIL, "city": "London"}, principal=system())
    other = contact_create({"email": "grace@navy.example", "city": "London"}, principal=system())
    actions.segments_refresh_changed(principal=system())
    assert members(segment) == {ada.pk, other.pk}
    assert Event.objects.filter(contact_id=ada.pk, type__in=SEGMENT_CODES).exists()

    contact_delete(ada.pk, principal=system())

    assert not SegmentMembership.objects.filter(contact_id=ada.pk).exists()
    assert not Event.objects.filter(contact_id=ada.pk).exists()
    assert selectors.segment_get(segment.pk).member_count == 1
    actions.segments_refresh_changed(principal=system())  # nothing of hers comes back
    assert members(segment) == {other.pk}


def test_the_export_of_a_contact_names_its_segments(in_acme):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)
    kept_out = actions.segment_create(principal=system(), name="Newsletter", definition=LONDONERS)
    ada = contact_create({"email": EMAIL, "city": "London"}, principal=system())
    actions.segments_refresh_changed(principal=system())
    actions.segment_members_remove(kept_out.pk, [ada.pk], principal=system())

    rows = export_subject(ada.pk)["segments.segmentmembership"]

    assert [(r["segment"], r["segment_id"], r["status"]) for r in rows] == [
        ("Londoners", segment.pk, "matched by the filters"),
        ("Newsletter", kept_out.pk, "removed manually"),
    ]
    assert all(r["since"] for r in rows)


def test_merging_keeps_the_winners_membership_of_a_segment_both_are_in(in_acme):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)
    other = actions.segment_create(
        principal=system(),
        name="Gmail",
        definition={
            "filters": [{"kind": "field", "field": "email", "operator": "equals", "value": "twin@mail.example"}]
        },
    )
    ada = contact_create({"email": EMAIL, "city": "London"}, principal=system())
    twin = contact_create({"email": "twin@mail.example", "city": "London"}, principal=system())
    actions.segments_refresh_changed(principal=system())
    actions.segment_members_remove(segment.pk, [ada.pk], principal=system())  # ada is kept out by hand

    contact_merge(ada.pk, twin.pk, principal=system())

    rows = sorted(SegmentMembership.objects.values_list("segment_id", "contact_id", "status"))
    # One row per segment: the winner's manual removal wins over the loser's filter membership,
    # and the loser's membership of a segment the winner was not in moves to the winner.
    assert rows == [(segment.pk, ada.pk, MembershipStatus.REMOVED), (other.pk, ada.pk, MembershipStatus.FILTER)]
    assert selectors.segment_get(segment.pk).member_count == 0
    assert selectors.segment_get(other.pk).member_count == 1


@contextlib.contextmanager
def captured_statements():
    with contextlib.ExitStack() as stack:
        captures = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
        yield captures


def test_filter_values_on_encrypted_fields_are_never_in_clear(in_acme, caplog):
    """The issue's promise: a segment's filters on encrypted fields never put the searched value in clear anywhere."""
    caplog.set_level(logging.DEBUG)
    field_create(
        alias="crm_id", label="CRM id", category=DataCategory.UNIQUE_ID, is_unique_identifier=True, principal=system()
    )
    ada = contact_create({"email": EMAIL, "phone": PHONE, "crm_id": CRM_ID}, principal=system())
    contact_create({"email": "grace@navy.example", "phone": "+1 555 0100", "crm_id": "CRM-1"}, principal=system())
    definition = {
        "match": "all",
        "filters": [
            {"kind": "field", "field": "email", "operator": "equals", "value": EMAIL},
            {"kind": "field", "field": "phone", "operator": "in", "value": [PHONE]},
            {"kind": "group", "match": "any", "filters": [
                {"kind": "field", "field": "crm_id", "operator": "equals", "value": CRM_ID},
                {"kind": "field", "field": "crm_id", "operator": "in", "value": [CRM_ID, "CRM-0"]},
            ]},
        ],
    }  # fmt: skip
    caplog.clear()

    with captured_statements() as captures:
        preview = selectors.segment_preview(definition)
        segment = actions.segment_create(principal=system(), name="Just Ada", definition=definition)
        actions.segment_rebuild(segment.pk, principal=system())
        actions.segment_update(segment.pk, principal=system(), definition=definition)
        actions.segments_refresh_changed(principal=system())
        actions.segment_refresh_contacts([ada.pk], principal=system())
        actions.segments_rebuild_all(principal=system())

    assert preview.count == 1 and members(segment) == {ada.pk}
    statements = [json.dumps(q) for capture in captures for q in capture.captured_queries]
    assert statements, "no SQL was captured"
    stored = json.dumps(Segment.objects.get(pk=segment.pk).definition)
    audit = json.dumps(
        [list(AuditEntry.objects.values("action", "target_id", "data")), list(
            AuditOutbox.objects.using("default").values("action", "target_id", "data")
        )],
        default=str,
    )  # fmt: skip
    logs = "\n".join(record.getMessage() for record in caplog.records)
    events = json.dumps(list(Event.objects.values("type", "data")))
    assert "value_sealed" in stored
    assert any("segment.created" in a for a in [audit])
    for place, text in {"sql": "\n".join(statements), "definition": stored, "audit": audit, "logs": logs,
                        "events": events}.items():  # fmt: skip
        for value in CLEAR:
            assert value.lower() not in text.lower(), f"a searched value is in clear in the {place}"


def test_an_error_about_an_encrypted_filter_never_repeats_its_value(in_acme):
    bad = {"filters": [{"kind": "field", "field": "email", "operator": "contains", "value": EMAIL}]}
    with pytest.raises(ValidationError) as error:
        actions.segment_create(principal=system(), name="Bad", definition=bad)
    assert EMAIL not in str(error.value.message_dict)
    assert "analytical" not in str(error.value.message_dict)


def test_sealed_filter_values_survive_workspace_key_rotation(in_acme):
    ada = contact_create({"email": EMAIL, "city": "London"}, principal=system())
    contact_create({"email": "grace@navy.example", "city": "London"}, principal=system())
    definition = {"filters": [{"kind": "field", "field": "email", "operator": "equals", "value": EMAIL}]}
    segment = actions.segment_create(principal=system(), name="Just Ada", definition=definition)
    sealed_before = Segment.objects.get(pk=segment.pk).definition["filters"][0]["value_sealed"]

    first = rotate_workspace_key(principal=system())
    second = rotate_workspace_key(principal=system())  # the version the value was sealed under is retired

    assert first.retired_versions and second.retired_versions
    sealed_after = Segment.objects.get(pk=segment.pk).definition["filters"][0]["value_sealed"]
    assert sealed_after.split(".")[0] == str(second.version) != sealed_before.split(".")[0]
    assert sealed_after.split(".")[2] == sealed_before.split(".")[2]  # the value itself was never re-encrypted
    assert keyring().active_version == second.version
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.removed) == (0, 0)
    assert members(segment) == {ada.pk}
    shown = selectors.definition_for_display(Segment.objects.get(pk=segment.pk).definition)
    assert shown["filters"][0]["value"] == EMAIL
    rotated = AuditEntry.objects.filter(action="privacy.workspace_key_rotated").order_by("seq").last()
    assert rotated.data["resealed"]["segments"] == 1  # other holders (emails' DKIM keys) report theirs
