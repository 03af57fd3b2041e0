"""The duplicates finder: candidate pairs per reason, dismissals, paging, and a merge that keeps chosen values."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tidings.accounts.permissions import Principal, Via
from tidings.audit.models import AuditEntry
from tidings.contacts import actions, duplicates, selectors
from tidings.contacts.models import Contact
from tidings.tests.principals import system


def _contact(**values):
    return actions.contact_create(values, principal=system())


def _pairs(**kwargs):
    return [(p.contact.id, p.other.id, p.reasons) for p in duplicates.duplicate_candidates(**kwargs).items]


def test_two_contacts_with_the_same_phone_are_a_pair(in_acme):
    lin = _contact(email="lin@tern.example", firstname="Lin", phone="+44 20 7946 0001")
    mae = _contact(email="mae@heron.example", firstname="Mae", phone="+44 (20) 7946-0001")

    assert _pairs() == [(lin.id, mae.id, ("phone",))]


def test_two_contacts_with_the_same_mobile_are_a_pair(in_acme):
    lin = _contact(email="lin@tern.example", mobile="+33 6 12 34 56 78")
    mae = _contact(email="mae@heron.example", mobile="+33612345678")

    assert _pairs() == [(lin.id, mae.id, ("mobile",))]


def test_one_contacts_phone_as_the_others_mobile_is_a_pair(in_acme):
    lin = _contact(email="lin@tern.example", phone="+1 555 0100")
    mae = _contact(email="mae@heron.example", mobile="+1 555 0100")

    assert _pairs() == [(lin.id, mae.id, ("phone_mobile",))]


def test_same_company_domain_and_a_shared_name_word_is_a_pair(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada", lastname="Quillfeather")
    other = _contact(email="a.quillfeather@quill.example", firstname="A.", lastname="Quillfeather")

    assert _pairs() == [(ada.id, other.id, ("domain_name",))]


def test_same_domain_without_a_shared_name_word_is_not_a_pair(in_acme):
    _contact(email="ada@quill.example", firstname="Ada", lastname="Quillfeather")
    _contact(email="bo@quill.example", firstname="Bo", lastname="Brightwater")

    assert _pairs() == []


def test_a_shared_name_word_in_different_domains_is_not_a_pair(in_acme):
    _contact(email="ada@quill.example", firstname="Ada")
    _contact(email="ada@heron.example", firstname="Ada")

    assert _pairs() == []


def test_a_free_mail_domain_does_not_count_as_the_same_domain(in_acme):
    _contact(email="ada.q@gmail.com", firstname="Ada")
    _contact(email="ada.b@gmail.com", firstname="Ada")

    assert _pairs() == []


def test_several_reasons_are_listed_together(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada", phone="0100")
    other = _contact(email="ada.q@quill.example", firstname="Ada", phone="0100")

    assert _pairs() == [(ada.id, other.id, ("phone", "domain_name"))]


def test_a_dismissed_pair_does_not_come_back(in_acme):
    lin = _contact(email="lin@tern.example", phone="0100")
    mae = _contact(email="mae@heron.example", phone="0100")
    kit = _contact(email="kit@kite.example", phone="0100")

    actions.duplicate_dismiss(mae.id, lin.id, principal=system())

    assert _pairs() == [(lin.id, kit.id, ("phone",)), (mae.id, kit.id, ("phone",))]


def test_dismissing_twice_keeps_one_record_and_audits_once(in_acme):
    lin = _contact(email="lin@tern.example", phone="0100")
    mae = _contact(email="mae@heron.example", phone="0100")

    actions.duplicate_dismiss(lin.id, mae.id, principal=system())
    actions.duplicate_dismiss(mae.id, lin.id, principal=system())

    entries = AuditEntry.objects.using("region_eu").filter(action="contact.duplicate_dismissed")
    assert [(e.target_id, e.data) for e in entries] == [(str(lin.id), {"other_id": mae.id})]


def test_dismissing_needs_contacts_edit(in_acme, alice):
    lin = _contact(email="lin@tern.example", phone="0100")
    mae = _contact(email="mae@heron.example", phone="0100")
    viewer = Principal(workspace=in_acme, user=alice, permissions=frozenset({"contacts:view"}), via=Via.TOKEN)

    with pytest.raises(PermissionDenied):
        actions.duplicate_dismiss(lin.id, mae.id, principal=viewer)

    assert len(_pairs()) == 1


def test_erasing_a_contact_erases_its_dismissals(in_acme):
    from tidings.contacts.models import DuplicateDismissal

    lin = _contact(email="lin@tern.example", phone="0100")
    mae = _contact(email="mae@heron.example", phone="0100")
    actions.duplicate_dismiss(lin.id, mae.id, principal=system())

    actions.contact_delete(mae.id, principal=system())

    assert not DuplicateDismissal.objects.exists()


def test_pages_follow_each_other_without_repeating_a_pair(in_acme):
    people = [_contact(email=f"p{i}@tern.example", phone="0100") for i in range(4)]
    ids = [p.id for p in people]

    first = duplicates.duplicate_candidates(limit=4)
    second = duplicates.duplicate_candidates(limit=4, after=first.next_cursor)

    listed = [(p.contact.id, p.other.id) for p in first.items + second.items]
    assert listed == [(a, b) for a in ids for b in ids if a < b]
    assert second.next_cursor is None


def test_one_pair_a_page_walks_every_pair_once(in_acme):
    people = [_contact(email=f"p{i}@tern.example", phone="0100") for i in range(4)]
    ids = [p.id for p in people]
    listed, cursor = [], None
    for _ in range(10):
        page = duplicates.duplicate_candidates(limit=1, after=cursor)
        listed += [(p.contact.id, p.other.id) for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert listed == [(a, b) for a in ids for b in ids if a < b]


def test_a_forged_cursor_is_refused(in_acme):
    with pytest.raises(ValidationError):
        duplicates.duplicate_candidates(after="not-a-cursor")


def test_the_finder_costs_the_same_queries_for_2_or_12_pairs(in_acme):
    def queries() -> int:
        with (
            CaptureQueriesContext(connections["region_eu"]) as region,
            CaptureQueriesContext(connections["default"]) as default,
        ):
            duplicates.duplicate_candidates()
        return len(region) + len(default)

    _contact(email="a@quill.example", firstname="Ada", phone="0100")
    _contact(email="b@quill.example", firstname="Ada", phone="0100")
    few = queries()
    for i in range(3):
        _contact(email=f"c{i}@quill.example", firstname="Ada", phone="0100")
    many = queries()

    assert len(duplicates.duplicate_candidates().items) == 10
    assert few == many


def test_the_finder_sees_only_its_workspace(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    _contact(email="lin@tern.example", phone="0100")
    with use_workspace(globex):
        _contact(email="mae@heron.example", phone="0100")
        assert _pairs() == []

    assert _pairs() == []


# ----------------------------------------------------------------------------------------------
# The merge, field by field


def test_a_merge_writes_the_chosen_losers_values_into_the_winner(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada", lastname="Quillfeather", city="London")
    twin = _contact(email="ada.q@quill.example", firstname="Augusta", lastname="Quillfeather", city="Paris")

    actions.contact_merge(ada.id, twin.id, choices={"email": "loser", "firstname": "loser"}, principal=system())

    merged = selectors.contact_get(ada.id)
    assert (merged.email, merged.get("firstname"), merged.get("city")) == ("ada.q@quill.example", "Augusta", "London")


def test_a_chosen_values_are_found_by_their_blind_indexes_after_the_merge(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada")
    twin = _contact(email="ada.q@quill.example", firstname="Augusta", phone="0100")

    actions.contact_merge(ada.id, twin.id, choices={"email": "loser", "firstname": "loser"}, principal=system())

    assert selectors.contact_by_unique_identifier("email", "ada.q@quill.example").id == ada.id
    assert [c.id for c in selectors.contact_search("augusta").items] == [ada.id]


def test_choosing_the_winners_empty_value_keeps_it_empty(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada")
    twin = _contact(email="ada.q@quill.example", city="Paris")

    actions.contact_merge(ada.id, twin.id, choices={"city": "winner"}, principal=system())

    assert selectors.contact_get(ada.id).get("city") is None


def test_the_merge_audit_names_the_chosen_fields_not_their_values(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada")
    twin = _contact(email="ada.q@quill.example", firstname="Augusta")

    actions.contact_merge(ada.id, twin.id, choices={"firstname": "loser", "email": "winner"}, principal=system())

    entry = AuditEntry.objects.using("region_eu").get(action="contact.merged")
    assert entry.data["from_loser"] == ["firstname"]
    assert "Augusta" not in str(entry.data)


@pytest.mark.parametrize(
    "choices",
    [{"points": "loser"}, {"no_such_field": "loser"}, {"city": "both"}],
    ids=["a rule-merged field", "an unknown field", "an unknown side"],
)
def test_an_impossible_choice_is_refused_and_nothing_merges(in_acme, choices):
    ada = _contact(email="ada@quill.example", firstname="Ada")
    twin = _contact(email="ada.q@quill.example", firstname="Augusta")

    with pytest.raises(ValidationError):
        actions.contact_merge(ada.id, twin.id, choices=choices, principal=system())

    assert set(Contact.objects.values_list("id", flat=True)) == {ada.id, twin.id}


def test_the_preview_defaults_to_the_winners_value_else_the_losers(in_acme):
    ada = _contact(email="ada@quill.example", firstname="Ada")
    twin = _contact(email="ada.q@quill.example", firstname="Augusta", city="Paris")

    preview = duplicates.merge_preview(ada.id, twin.id)

    defaults = {f.alias: f.default for f in preview.fields}
    assert (defaults["firstname"], defaults["city"], defaults["lastname"]) == ("winner", "loser", "winner")
