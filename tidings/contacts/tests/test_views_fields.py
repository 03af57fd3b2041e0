"""Field management: create, rename, reorder, archive, delete with typed confirmation."""

from tidings.contacts import actions, selectors, selectors_fields
from tidings.privacy.categories import DataCategory
from tidings.tests.principals import system


def _field(alias, object="contact"):
    return next(f for f in selectors_fields.field_definitions(object, include_archived=True) if f.alias == alias)


def _create(client, **data):
    return client.post("/w/acme/settings/fields/?object=contact", {"object": "contact", "type": "text", **data})


def test_the_page_explains_encryption_and_blind_indexes(alice_client, in_acme):
    response = alice_client.get("/w/acme/settings/fields/")

    assert b"blind index" in response.content
    assert b"cannot be filtered, sorted or searched by part" in response.content


def test_a_refused_new_field_brings_the_form_back_into_view(alice_client, in_acme):
    response = _create(alice_client, label="")

    page = response.content.decode()
    assert response.status_code == 400
    assert 'action="/w/acme/settings/fields/?object=contact#new-field"' in page and 'id="new-field"' in page


def test_create_a_custom_field(alice_client, in_acme):
    response = _create(alice_client, label="Shoe size", alias="shoe_size", type="number")

    assert response.status_code == 302
    assert _field("shoe_size").type == "number"


def test_an_identifying_category_makes_the_field_encrypted(alice_client, in_acme):
    _create(alice_client, label="Loyalty number", alias="loyalty_number", category="user.unique_id",
            is_unique_identifier="on")  # fmt: skip

    assert _field("loyalty_number").is_encrypted


def test_a_health_field_needs_the_acknowledgment(alice_client, in_acme):
    refused = _create(alice_client, label="Allergies", alias="allergies", category="user.health_and_medical")
    accepted = _create(alice_client, label="Allergies", alias="allergies", category="user.health_and_medical",
                       acknowledge_sensitive="on")  # fmt: skip

    assert refused.status_code == 400 and "acknowledge_sensitive" in refused.context["form"].errors
    assert accepted.status_code == 302 and _field("allergies").sensitive_acknowledged_at is not None


def test_a_company_field_is_created_on_the_company_tab(alice_client, in_acme):
    data = {"object": "company", "type": "text", "label": "Sector code", "alias": "sector_code"}
    alice_client.post("/w/acme/settings/fields/?object=company", data)

    assert _field("sector_code", "company").object == "company"


def test_a_taken_alias_is_shown_next_to_the_alias(alice_client, in_acme):
    response = _create(alice_client, label="Mail", alias="email")

    assert "alias" in response.context["form"].errors


def test_rename_changes_the_label_only(alice_client, in_acme):
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())

    alice_client.post(f"/w/acme/settings/fields/{field.id}/label/", {"label": "Shoe size (EU)"})

    assert (_field("shoe_size").label, _field("shoe_size").alias) == ("Shoe size (EU)", "shoe_size")


def test_move_a_field_up(alice_client, in_acme):
    first = actions.field_create(alias="alpha", label="Alpha", principal=system())
    second = actions.field_create(alias="beta", label="Beta", principal=system())

    alice_client.post(f"/w/acme/settings/fields/{second.id}/move/", {"direction": "up"})

    aliases = [f.alias for f in selectors_fields.field_definitions()]
    assert aliases.index("beta") < aliases.index("alpha")
    assert first.id != second.id


def test_archive_and_restore_keep_the_data(alice_client, ada):
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    actions.contact_update(ada.id, {"shoe_size": 38}, principal=system())

    alice_client.post(f"/w/acme/settings/fields/{field.id}/archive/", {"archive": "1"})
    archived = _field("shoe_size").archived_at
    alice_client.post(f"/w/acme/settings/fields/{field.id}/archive/", {"archive": "0"})

    assert archived is not None
    assert selectors.contact_get(ada.id).get("shoe_size") == 38


def test_delete_needs_the_alias_typed(alice_client, ada):
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    actions.contact_update(ada.id, {"shoe_size": 38}, principal=system())

    wrong = alice_client.post(f"/w/acme/settings/fields/{field.id}/delete/", {"confirm": "shoe"})
    assert wrong.status_code == 400 and _field("shoe_size")

    alice_client.post(f"/w/acme/settings/fields/{field.id}/delete/", {"confirm": "shoe_size"})
    assert "shoe_size" not in [f.alias for f in selectors_fields.field_definitions(include_archived=True)]


def test_an_analyst_cannot_manage_fields(arun_client, in_acme):
    assert arun_client.get("/w/acme/settings/fields/").status_code == 403


# ---------------------------------------------------------------------------------------------- issue 8: the side panel


def _custom(alias="shoe_size", **kwargs):
    kwargs.setdefault("label", alias.replace("_", " ").title())
    return actions.field_create(alias=alias, principal=system(), **kwargs)


def test_the_edit_panel_opens_as_a_partial_for_htmx(alice_client, in_acme):
    field = _custom()

    response = alice_client.get(f"/w/acme/settings/fields/{field.id}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and b'id="field-panel"' in response.content
    assert b"<html" not in response.content


def test_the_edit_panel_is_a_page_without_htmx(alice_client, in_acme):
    field = _custom()

    response = alice_client.get(f"/w/acme/settings/fields/{field.id}/")

    assert response.status_code == 200 and b"<html" in response.content and b'id="field-panel"' in response.content


def test_the_panel_saves_label_and_flags_and_htmx_reloads_the_table(alice_client, in_acme):
    field = _custom()

    response = alice_client.post(
        f"/w/acme/settings/fields/{field.id}/", {"label": "Shoe size (EU)", "is_listable": "on"}, HTTP_HX_REQUEST="true"
    )

    saved = selectors_fields.field_get(field.id)
    assert response.status_code == 204 and response["HX-Redirect"].endswith("/settings/fields/?object=contact")
    assert (saved.label, saved.alias, saved.is_listable) == ("Shoe size (EU)", "shoe_size", True)


def test_a_select_field_is_refused_without_options(alice_client, in_acme):
    response = alice_client.post("/w/acme/settings/fields/", {"label": "Plan", "alias": "plan", "type": "select",
                                                             "options": "", "is_listable": "on"})  # fmt: skip

    assert response.status_code == 400 and "at least one option" in response.content.decode()
    assert "plan" not in {f.alias for f in selectors_fields.field_definitions()}


def test_the_panel_refuses_emptying_a_select_fields_options(alice_client, in_acme):
    field = _custom("plan", type="select", options=["Free", "Pro"])

    response = alice_client.post(f"/w/acme/settings/fields/{field.id}/", {"label": "Plan", "options": " \n "})

    assert response.status_code == 400 and "at least one option" in response.content.decode()
    assert [o["value"] for o in selectors_fields.field_get(field.id).options] == ["Free", "Pro"]


def test_making_a_field_required_is_refused_while_contacts_lack_it(alice_client, ada, grace):
    field = _custom()
    actions.contact_update(ada.id, {"shoe_size": 38}, principal=system())

    response = alice_client.post(f"/w/acme/settings/fields/{field.id}/", {"label": "Shoe size", "is_required": "on"})

    assert response.status_code == 400
    assert "1 contacts have no value in this field" in response.content.decode()
    assert selectors_fields.field_get(field.id).is_required is False


def test_making_a_field_required_works_once_every_contact_has_it(alice_client, ada):
    field = _custom()
    actions.contact_update(ada.id, {"shoe_size": 38}, principal=system())

    alice_client.post(f"/w/acme/settings/fields/{field.id}/", {"label": "Shoe size", "is_required": "on"})

    assert selectors_fields.field_get(field.id).is_required is True


def test_making_an_encrypted_field_unique_is_refused_with_counts_not_values(alice_client, ada, grace):
    field = _custom("nickname", label="Nickname", category=DataCategory.NAME)
    for contact in (ada, grace):
        actions.contact_update(contact.id, {"nickname": "Countess"}, principal=system())

    response = alice_client.post(f"/w/acme/settings/fields/{field.id}/",
                                 {"label": "Nickname", "is_unique_identifier": "on"})  # fmt: skip

    page = response.content.decode()
    assert field.is_encrypted and response.status_code == 400
    assert "1 contacts repeat a value another one has" in page
    assert "Countess" not in page and selectors_fields.field_get(field.id).is_unique_identifier is False


def test_the_alias_is_proposed_from_the_label(alice_client, in_acme):
    _custom("shoe_size")

    response = alice_client.get("/w/acme/settings/fields/alias/", {"label": "Shoe size", "object": "contact"})
    fresh = alice_client.get("/w/acme/settings/fields/alias/", {"label": "Größe (EU) 2026"})

    assert response.json() == {"alias": "shoe_size_2"}
    assert fresh.json() == {"alias": "grosse_eu_2026"}


def test_the_create_form_loads_the_alias_script_from_a_file(alice_client, in_acme):
    page = alice_client.get("/w/acme/settings/fields/").content.decode()

    assert 'data-alias-url="/w/acme/settings/fields/alias/?object=contact"' in page
    assert "contacts/fields.js" in page and "<script>" not in page


def test_an_analyst_cannot_open_the_edit_panel_or_the_alias_proposal(arun_client, in_acme):
    field = _custom()

    assert arun_client.get(f"/w/acme/settings/fields/{field.id}/").status_code == 403
    assert arun_client.get("/w/acme/settings/fields/alias/", {"label": "x"}).status_code == 403
