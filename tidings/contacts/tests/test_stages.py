"""Stages: the workspace's contact lifecycle stages, who may change them, and what holds a stage id.

alice owns Acme (EU); bob owns Globex (US). Acme's stages are Acme's only: a contact can be put in
no other workspace's stage by any surface, and migration 0013 made the bare numbers contacts held
into stages of their own workspace.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.accounts.permissions import Principal, Via
from tidings.audit.models import AuditEntry
from tidings.contacts import actions, selectors, selectors_stages
from tidings.contacts.models import Contact, Stage
from tidings.contacts.stage_numbers import stages_from_numbers
from tidings.tenancy.context import use_workspace
from tidings.tenancy.rls import dangerously_bypass_rls
from tidings.tests.principals import system


def _holding(acme, alice, *permissions) -> Principal:
    return Principal(workspace=acme, user=alice, permissions=frozenset(permissions), via=Via.TOKEN, credential_id=1)


def _audited(acme, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.using("region_eu").filter(workspace_id=acme.pk, action=action))


@pytest.fixture
def initech(make_user):
    """A workspace in Acme's own region (EU): its stage ids come from the same sequence as Acme's."""
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("milton@initech.example"))


@pytest.fixture
def lead(in_acme):
    return actions.stage_create({"name": "Lead", "weight": 10, "description": "Showed interest"}, principal=system())


# ---------------------------------------------------------------------------------------------
# Actions and permissions


def test_a_stage_is_created_updated_and_listed_by_weight(in_acme, lead):
    customer = actions.stage_create({"name": "  Customer ", "weight": "30"}, principal=system())
    qualified = actions.stage_create({"name": "Qualified", "weight": 20, "is_published": "no"}, principal=system())

    assert customer.name == "Customer" and customer.weight == 30 and customer.is_published
    assert [s.name for s in selectors_stages.stages()] == ["Lead", "Qualified", "Customer"]
    assert [s.name for s in selectors_stages.stages(published_only=True)] == ["Lead", "Customer"]
    renamed = actions.stage_update(qualified.id, {"name": "Sales ready", "is_published": True}, principal=system())
    assert renamed.name == "Sales ready" and renamed.weight == 20 and renamed.is_published
    assert _audited(in_acme, "stage.updated")[0].data["fields"] == ["is_published", "name"]


def test_a_stage_name_is_unique_in_the_workspace_whatever_its_case(in_acme, lead):
    with pytest.raises(ValidationError) as caught:
        actions.stage_create({"name": "lead"}, principal=system())
    assert caught.value.message_dict == {"name": ["another stage has this name"]}
    other = actions.stage_create({"name": "Customer"}, principal=system())
    with pytest.raises(ValidationError):
        actions.stage_update(other.id, {"name": "LEAD"}, principal=system())


def test_two_workspaces_may_name_a_stage_alike(in_acme, lead, initech):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Lead"}, principal=system())
        assert [s.id for s in selectors_stages.stages()] == [theirs.id]
    assert [s.id for s in selectors_stages.stages()] == [lead.id]


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Lead", "weight": 2**31}, "weight"),
        ({"name": "Lead", "weight": 1.5}, "weight"),
        ({"name": "Lead", "is_published": "maybe"}, "is_published"),
        ({"name": "Lead", "description": "a\x00b"}, "description"),
        ({"name": "Lead", "colour": "red"}, "__all__"),
    ],
)
def test_bad_stage_values_are_refused_by_field(in_acme, values, key):
    with pytest.raises(ValidationError) as caught:
        actions.stage_create(values, principal=system())
    assert key in caught.value.message_dict
    assert Stage.objects.count() == 0


def test_changing_stages_needs_contacts_edit(in_acme, alice, lead):
    viewer = _holding(in_acme, alice, "contacts:view")
    for attempt in (
        lambda: actions.stage_create({"name": "Customer"}, principal=viewer),
        lambda: actions.stage_update(lead.id, {"name": "Customer"}, principal=viewer),
        lambda: actions.stage_delete(lead.id, principal=viewer),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert [(s.id, s.name) for s in Stage.objects.all()] == [(lead.id, "Lead")]
    editor = _holding(in_acme, alice, "contacts:view", "contacts:edit")
    assert actions.stage_create({"name": "Customer"}, principal=editor).name == "Customer"


def test_deleting_a_stage_takes_it_off_its_contacts_in_one_statement_and_is_audited(in_acme, lead, ada, grace):
    customer = actions.stage_create({"name": "Customer"}, principal=system())
    actions.contacts_stage_change([ada.id], lead.id, principal=system())
    actions.contacts_stage_change([grace.id], customer.id, principal=system())

    assert actions.stage_delete(lead.id, principal=system()) == 1

    assert dict(Contact.objects.values_list("id", "stage_id")) == {ada.id: None, grace.id: customer.id}
    entry = _audited(in_acme, "stage.deleted")[0]
    assert entry.target_id == str(lead.id) and entry.data == {"contacts": 1}
    with pytest.raises(Stage.DoesNotExist):
        selectors_stages.stage_get(lead.id)


# ---------------------------------------------------------------------------------------------
# What may hold a stage id: only this workspace's stages


def test_moving_contacts_needs_a_stage_of_this_workspace(in_acme, lead, ada, initech):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Globex lead"}, principal=system())
    for wrong in (theirs.id, 0, -1, "x", 2**70):
        with pytest.raises(ValidationError) as caught:
            actions.contacts_stage_change([ada.id], wrong, principal=system())
        assert caught.value.message_dict == {"stage_id": ["choose one of the workspace's stages"]}
    assert Contact.objects.get(pk=ada.id).stage_id is None
    assert actions.contacts_stage_change([ada.id], lead.id, principal=system()) == 1
    assert actions.contacts_stage_change([ada.id], None, principal=system()) == 1


def test_a_contacts_stage_field_takes_only_this_workspaces_stages(in_acme, lead, initech):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Globex lead"}, principal=system())
    with pytest.raises(ValidationError) as caught:
        actions.contact_create({"email": "zoe@people.example", "stage": theirs.id}, principal=system())
    assert caught.value.message_dict == {"stage": ["choose one of the workspace's stages"]}
    zoe = actions.contact_create({"email": "zoe@people.example", "stage": lead.id}, principal=system())
    assert Contact.objects.get(pk=zoe.id).stage_id == lead.id


def test_the_timeline_names_the_stage(in_acme, lead, ada):
    actions.contacts_stage_change([ada.id], lead.id, principal=system())
    actions.contacts_stage_change([ada.id], None, principal=system())
    texts = [item.text for item in selectors.timeline(ada.id, describe=True).items]
    assert "Moved to stage Lead" in texts and "Left its stage" in texts


# ---------------------------------------------------------------------------------------------
# Migration 0013: bare stage numbers become each workspace's stages


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_migration_step_makes_each_workspaces_numbers_into_its_own_stages(acme, initech):
    held = {}
    for workspace, numbers in ((acme, [1, 2, 2, None]), (initech, [2, 9])):
        with use_workspace(workspace):
            for index, number in enumerate(numbers):
                contact = actions.contact_create({"email": f"p{index}@{workspace.slug}.example"}, principal=system())
                Contact.objects.filter(pk=contact.id).update(stage_id=number)  # as stored before stages existed
                held[contact.id] = (workspace.pk, number)

    with dangerously_bypass_rls():
        assert stages_from_numbers(Stage, Contact, "region_eu") == 4
        # A second run finds no bare number left.
        assert stages_from_numbers(Stage, Contact, "region_eu") == 0

    for workspace in (acme, initech):
        with use_workspace(workspace):
            names = {s.id: (s.name, s.weight) for s in selectors_stages.stages()}
            for contact_id, stage_id in Contact.objects.values_list("id", "stage_id"):
                owner, number = held[contact_id]
                assert owner == workspace.pk
                assert (names[stage_id] if stage_id else None) == ((f"Stage {number}", number) if number else None)
    with use_workspace(acme):
        assert [s.name for s in selectors_stages.stages()] == ["Stage 1", "Stage 2"]
    with use_workspace(initech):
        assert [s.name for s in selectors_stages.stages()] == ["Stage 2", "Stage 9"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_migration_step_never_moves_a_contact_twice_when_a_new_id_equals_an_old_number(acme):
    with use_workspace(acme):
        contacts = [actions.contact_create({"email": f"n{i}@acme.example"}, principal=system()) for i in range(3)]
        # The first stage made gets id 1 (an empty table) or more: numbers 1..3 overlap new ids either way.
        for contact, number in zip(contacts, (1, 2, 3), strict=True):
            Contact.objects.filter(pk=contact.id).update(stage_id=number)
    with dangerously_bypass_rls():
        stages_from_numbers(Stage, Contact, "region_eu")
    with use_workspace(acme):
        names = dict(Stage.objects.values_list("id", "name"))
        got = [names[Contact.objects.get(pk=c.id).stage_id] for c in contacts]
        assert got == ["Stage 1", "Stage 2", "Stage 3"]


# ---------------------------------------------------------------------------------------------
# The settings page


def test_the_settings_page_lists_creates_edits_and_deletes_stages(alice_client, in_acme, lead, ada):
    actions.contacts_stage_change([ada.id], lead.id, principal=system())
    base = "/w/acme/settings/stages/"

    page = alice_client.get(base).content.decode()
    assert "Lead" in page and "Showed interest" in page and 'href="/w/acme/settings/stages/new/"' in page

    created = alice_client.post(base + "new/", {"name": "Customer", "weight": "30", "is_published": "on"})
    assert created.status_code == 302
    customer = Stage.objects.get(name="Customer")
    assert customer.weight == 30 and customer.is_published

    twin = alice_client.post(base + "new/", {"name": "customer", "weight": "1"})
    assert twin.status_code == 400 and "another stage has this name" in twin.content.decode()

    edited = alice_client.post(base + f"{customer.id}/edit/", {"name": "Client", "weight": "31"})
    assert edited.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.weight, customer.is_published) == ("Client", 31, False)

    deleted = alice_client.post(base + f"{lead.id}/delete/", {"confirmed": "1"})
    assert deleted.status_code == 302
    assert not Stage.objects.filter(pk=lead.id).exists()
    assert Contact.objects.get(pk=ada.id).stage_id is None


def test_the_contact_list_filters_by_a_stage_picked_by_name(alice_client, in_acme, lead, ada, grace, initech):
    actions.contacts_stage_change([ada.id], lead.id, principal=system())
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Globex secret stage"}, principal=system())

    page = alice_client.get("/w/acme/contacts/", {"stage": lead.id}).content.decode()
    assert f'<option value="{lead.id}" selected>Lead</option>' in page
    assert "Globex secret stage" not in page
    assert "ada@analytical.example" in page and "grace@navy.example" not in page
    refused = alice_client.get("/w/acme/contacts/", {"stage": theirs.id})
    assert refused.status_code < 500 and "Globex secret stage" not in refused.content.decode()


NAMES = st.one_of(st.text(max_size=120), st.sampled_from(["", " ", "\x00", "Lead", "lead", "x" * 101]))
NUMBERS = st.one_of(st.text(max_size=12), st.integers().map(str), st.sampled_from(["²", "1e9", "-2147483648"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, weight=NUMBERS, description=st.text(max_size=50), published=st.sampled_from(["", "on", "x"]))
def test_any_settings_form_input_answers_without_a_server_error(alice_client, in_acme, name, weight, description,
                                                                published):  # fmt: skip
    response = alice_client.post("/w/acme/settings/stages/new/", {"name": name, "weight": weight,
                                 "description": description, "is_published": published})  # fmt: skip
    assert response.status_code in (302, 400)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(["name", "description", "weight", "is_published", "x"]),
                              st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                                        st.lists(st.integers(), max_size=2)), max_size=4))  # fmt: skip
def test_any_stage_values_are_saved_or_refused_by_field(in_acme, values):
    try:
        stage = actions.stage_create(values, principal=system())
    except ValidationError as error:
        assert set(error.message_dict) <= {"name", "description", "weight", "is_published", "__all__"}
    else:
        actions.stage_delete(stage.id, principal=system())
