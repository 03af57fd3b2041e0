"""Owner autocomplete: the member suggestions endpoint, and the owner inputs that resolve a typed member.

alice owns Acme; dave (Dave Okafor) and erin (Erin Lindqvist) are Acme marketers, and 25
teammates make the workspace larger than a suggestion list. Globex has its own Dave, and carol
is Tidings staff: neither is ever suggested to, nor accepted as an owner by, Acme.
"""

import re

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.forms import ContactFilterForm, OwnerLookup, ValuesForm
from tidings.tests.principals import system

OPTION = re.compile(r'<option value="([^"]+)"(?: label="([^"]*)")?>')
SUGGEST = "/w/acme/contacts/owners/suggest/"
DAVE = "Dave Okafor <dave@acme.example>"
NOT_A_MEMBER = "No member of this workspace matches: pick one from the list, or type a member's email."


def _options(response) -> list[str]:
    return [value.replace("&lt;", "<").replace("&gt;", ">") for value, _ in OPTION.findall(response.content.decode())]


def _member(workspace, email, first="", last="", role="marketer"):
    from tidings.accounts.actions import membership_create, user_create

    user = user_create(email=email, password=None, first_name=first, last_name=last)
    membership_create(workspace=workspace, user=user, role=role, principal=system(workspace))
    return user


@pytest.fixture
def dave(acme):
    return _member(acme, "dave@acme.example", "Dave", "Okafor")


@pytest.fixture
def erin(acme):
    return _member(acme, "erin@acme.example", "Erin", "Lindqvist")


@pytest.fixture
def teammates(acme):
    return [_member(acme, f"teammate{n:02}@acme.example", "Teammate", f"{n:02}") for n in range(25)]


@pytest.fixture
def globex_dave(globex):
    return _member(globex, "dave@globex.example", "Dave", "Globex")


@pytest.fixture
def lin(in_acme):
    return actions.contact_create({"email": "lin@people.example", "firstname": "Lin"}, principal=system())


# The suggestions endpoint


def test_owner_suggestions_name_a_member_by_part_of_the_name(alice_client, dave, erin):
    response = alice_client.get(SUGGEST, {"owner": "okaf"})

    assert response.status_code == 200
    assert _options(response) == [DAVE]


def test_owner_suggestions_name_a_member_by_part_of_the_email(alice_client, dave, erin):
    assert _options(alice_client.get(SUGGEST, {"owner": "erin@acme"})) == ["Erin Lindqvist <erin@acme.example>"]


def test_every_word_typed_must_match_the_name_or_email(alice_client, dave, erin):
    assert _options(alice_client.get(SUGGEST, {"owner": "dave okafor"})) == [DAVE]
    assert _options(alice_client.get(SUGGEST, {"owner": "dave lindqvist"})) == []


def test_a_member_without_a_name_is_suggested_by_email(alice_client, acme):
    assert _options(alice_client.get(SUGGEST, {"owner": "alice"})) == ["alice@acme.example"]


def test_owner_suggestions_are_at_most_twenty_in_name_order(alice_client, teammates):
    names = _options(alice_client.get(SUGGEST, {"owner": "teammate"}))

    assert names == [f"Teammate {n:02} <teammate{n:02}@acme.example>" for n in range(20)]


def test_owner_suggestions_never_name_another_workspaces_member_or_staff(alice_client, dave, globex_dave, carol):
    assert _options(alice_client.get(SUGGEST, {"owner": "dave"})) == [DAVE]
    assert _options(alice_client.get(SUGGEST, {"owner": "globex"})) == []
    assert _options(alice_client.get(SUGGEST, {"owner": "carol"})) == []


def test_owner_suggestions_for_nothing_typed_are_empty(alice_client, dave):
    response = alice_client.get(SUGGEST)

    assert response.status_code == 200
    assert b"<option" not in response.content


def test_the_filter_is_also_offered_me_and_nobody(alice_client, dave):
    assert _options(alice_client.get(SUGGEST, {"owner": "no", "keywords": "1"})) == ["Nobody"]
    assert _options(alice_client.get(SUGGEST, {"owner": "M", "keywords": "1"}))[0] == "Me"  # then members
    assert _options(alice_client.get(SUGGEST, {"owner": "no"})) == []


def test_owner_suggestions_need_contacts_view(arun_client, dave):
    assert arun_client.get(SUGGEST, {"owner": "dave"}).status_code == 403


def test_owner_suggestions_take_a_fixed_number_of_queries_however_many_members(
    alice_client, teammates, django_assert_max_num_queries
):
    alice_client.get(SUGGEST, {"owner": "teammate"})  # the session and workspace are read once warm
    with django_assert_max_num_queries(8):
        assert len(_options(alice_client.get(SUGGEST, {"owner": "teammate 0"}))) == 12  # 00-09, 10, 20


SUGGEST_SETTINGS = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TYPED = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "%", "_", "a\x00b", "<>", "<@>", "²", "9" * 30, " " * 10, "é" * 300, "Me", "nobody"]),
)


@SUGGEST_SETTINGS
@given(typed=TYPED, keywords=st.sampled_from(["", "1", "x"]))
def test_any_typed_owner_is_answered_without_a_server_error(alice_client, dave, typed, keywords):
    response = alice_client.get(SUGGEST, {"owner": typed, "keywords": keywords})

    assert response.status_code == 200


@SUGGEST_SETTINGS
@given(typed=TYPED)
def test_any_typed_owner_filter_is_answered_without_a_server_error(alice_client, dave, typed):
    assert alice_client.get("/w/acme/contacts/", {"owner": typed}).status_code < 500
    assert alice_client.get("/w/acme/contacts/export/csv/", {"owner": typed}).status_code < 500


# Resolving what was typed


def test_a_picked_label_an_email_a_full_name_and_an_id_all_name_the_member(acme, dave):
    owners = OwnerLookup(acme)

    assert owners.resolve(DAVE) == dave.pk
    assert owners.resolve("  DAVE@acme.example ") == dave.pk
    assert owners.resolve("dave  okafor") == dave.pk
    assert owners.resolve(str(dave.pk)) == dave.pk


@pytest.mark.parametrize("typed", ["dave@globex.example", "Dave Globex <dave@globex.example>", "carol@tidings.example",
                                   "Dave", "nobody@nowhere.invalid", "987654", "9" * 30])  # fmt: skip
def test_anyone_but_a_member_is_refused_without_repeating_what_was_typed(acme, dave, globex_dave, carol, typed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        OwnerLookup(acme).resolve(typed)
    assert refused.value.messages == [NOT_A_MEMBER]


def test_another_workspaces_member_is_refused_by_id(acme, bob):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        OwnerLookup(acme).resolve(str(bob.pk))


def test_a_name_two_members_share_asks_for_the_email(acme, dave):
    from django.core.exceptions import ValidationError

    _member(acme, "dave.o@acme.example", "Dave", "Okafor")
    with pytest.raises(ValidationError) as refused:
        OwnerLookup(acme).resolve("Dave Okafor")
    assert "type the email" in refused.value.messages[0]


def test_the_same_member_typed_differently_is_no_change(in_acme, dave):
    definitions = selectors_fields.field_definitions()
    data = {"owner": "dave@acme.example", "email": ""}

    form = ValuesForm(definitions, data, values={"owner": dave.pk}, owners=OwnerLookup(in_acme))

    assert form.is_valid(), form.errors
    assert "owner" not in form.changed_data


def test_nobody_typed_clears_the_owner(in_acme, dave):
    form = ValuesForm(selectors_fields.field_definitions(), {"owner": "nobody"}, values={"owner": dave.pk},
                      owners=OwnerLookup(in_acme))  # fmt: skip

    assert form.is_valid(), form.errors
    assert form.values(changed_only=True)["owner"] == ""


@pytest.mark.parametrize(("typed", "value"), [("", ""), ("Anyone", ""), ("me", "me"), ("Me", "me"),
                                               ("Nobody", "none"), ("none", "none")])  # fmt: skip
def test_the_filter_keeps_me_nobody_and_anyone(acme, typed, value):
    form = ContactFilterForm(QueryDict(f"owner={typed}"), owners=OwnerLookup(acme))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["owner"] == value


# The forms that use it


def test_the_contact_form_asks_for_owner_suggestions(alice_client, in_acme):
    content = alice_client.get("/w/acme/contacts/new/").content.decode()

    assert re.search(r'<input[^>]*name="owner"[^>]*list="owner-options"', content)
    assert f'hx-get="{SUGGEST}"' in content
    assert '<datalist id="owner-options"></datalist>' in content
    assert '<select name="owner"' not in content


def test_the_contact_forms_do_not_list_every_member(alice_client, lin, teammates):
    for url in ("/w/acme/contacts/new/", f"/w/acme/contacts/{lin.id}/edit/", "/w/acme/contacts/"):
        assert "teammate" not in alice_client.get(url).content.decode()


def test_the_edit_form_shows_the_owner_by_name_and_email(alice_client, lin, dave):
    actions.contact_update(lin.id, {"owner": dave.pk}, principal=system())

    content = alice_client.get(f"/w/acme/contacts/{lin.id}/edit/").content.decode()

    assert 'value="Dave Okafor &lt;dave@acme.example&gt;"' in content


def test_a_picked_member_becomes_the_owner(alice_client, lin, dave):
    response = alice_client.post(f"/w/acme/contacts/{lin.id}/edit/", {"email": "lin@people.example", "owner": DAVE})

    assert response.status_code == 302
    assert selectors.contact_get(lin.id).fields["owner"] == dave.pk


def test_without_javascript_a_members_email_typed_in_full_becomes_the_owner(alice_client, in_acme, dave):
    response = alice_client.post("/w/acme/contacts/new/", {"email": "kai@people.example", "owner": "Dave@Acme.example"})

    assert response.status_code == 302
    assert selectors.contact_by_unique_identifier("email", "kai@people.example").fields["owner"] == dave.pk


def test_an_unknown_owner_is_a_field_error_and_keeps_what_was_typed(alice_client, lin, dave):
    typed = {"email": "lin@people.example", "firstname": "Linnea", "owner": "Dave Globex <dave@globex.example>"}

    response = alice_client.post(f"/w/acme/contacts/{lin.id}/edit/", typed)

    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == [NOT_A_MEMBER]
    content = response.content.decode()
    assert 'value="Linnea"' in content
    assert 'value="Dave Globex &lt;dave@globex.example&gt;"' in content
    assert selectors.contact_get(lin.id).fields.get("firstname") == "Lin"


def test_the_filter_finds_the_contacts_of_the_member_picked(alice_client, lin, dave, ada):
    actions.contact_update(lin.id, {"owner": dave.pk}, principal=system())

    response = alice_client.get("/w/acme/contacts/", {"owner": DAVE})

    assert [row["contact"].id for row in response.context["rows"]] == [lin.id]
    # Links, the next page and a saved view carry the member's id, not the name and email typed.
    assert f"owner={dave.pk}" in response.context["first_query"]
    assert "dave%40acme" not in response.context["first_query"]


def test_the_filter_shows_an_owner_id_as_the_members_label(alice_client, lin, dave):
    content = alice_client.get("/w/acme/contacts/", {"owner": str(dave.pk)}).content.decode()

    assert 'value="Dave Okafor &lt;dave@acme.example&gt;"' in content
    assert f'hx-get="{SUGGEST}?keywords=1"' in content


def test_an_unknown_owner_in_the_filter_says_so_and_keeps_the_other_filters(alice_client, lin):
    response = alice_client.get("/w/acme/contacts/", {"owner": "someone@nowhere.invalid", "tag": "vip"})

    assert response.status_code == 200
    assert response.context["error"] == f"Check the filters: Owner: {NOT_A_MEMBER}"
    assert response.context["form"]["tag"].value() == "vip"


def test_the_filter_nobody_finds_unowned_contacts(alice_client, lin, dave, ada):
    actions.contact_update(lin.id, {"owner": dave.pk}, principal=system())

    response = alice_client.get("/w/acme/contacts/", {"owner": "Nobody"})

    assert [row["contact"].id for row in response.context["rows"]] == [ada.id]
    assert "owner=none" in response.context["first_query"]


# Owners shown by name: only the members the page names are read


def test_the_list_names_each_rows_owner(alice_client, lin, dave, teammates):
    actions.contact_update(lin.id, {"owner": dave.pk}, principal=system())

    response = alice_client.get("/w/acme/contacts/")

    assert [row["owner"] for row in response.context["rows"]] == ["Dave Okafor"]


def test_the_merge_preview_names_both_owners(alice_client, lin, dave, erin, in_acme):
    kai = actions.contact_create({"email": "kai@people.example", "owner": erin.pk}, principal=system())
    actions.contact_update(lin.id, {"owner": dave.pk}, principal=system())

    response = alice_client.get(f"/w/acme/contacts/{lin.id}/merge/{kai.id}/")

    owner = next(row for row in response.context["rows"] if row["field"].alias == "owner")
    assert (owner["winner"], owner["loser"]) == ("Dave Okafor", "Erin Lindqvist")
