"""Field management: create, rename, reorder, archive, delete with typed confirmation."""

from tidings.contacts import actions, selectors
from tidings.tests.principals import system


def _field(alias, object="contact"):
    return next(f for f in selectors.field_definitions(object, include_archived=True) if f.alias == alias)


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

    aliases = [f.alias for f in selectors.field_definitions()]
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
    assert "shoe_size" not in [f.alias for f in selectors.field_definitions(include_archived=True)]


def test_an_analyst_cannot_manage_fields(arun_client, in_acme):
    assert arun_client.get("/w/acme/settings/fields/").status_code == 403
