"""The contacts pages under hostile input: no page lists every tag, and odd numbers are a 4xx, never a 500."""

import re

import pytest

from tidings.contacts import actions, selectors

BIG = "99999999999999999999"  # beyond 64 bits


@pytest.fixture
def many_tags(in_acme):
    """Thirty tags named topic-00..topic-29 and one named "other", on no contact."""
    from tidings.accounts.permissions import system_principal

    principal = system_principal(in_acme, reason="test fixture")
    names = [f"topic-{i:02}" for i in range(30)] + ["other"]
    for name in names:
        actions.tag_create(name, principal=principal)
    return names


def test_the_contact_list_does_not_render_every_tag_of_the_workspace(alice_client, many_tags):
    response = alice_client.get("/w/acme/contacts/")

    assert response.status_code == 200
    assert not [name for name in many_tags if name.encode() in response.content]


def test_the_tag_inputs_ask_for_suggestions_instead(alice_client, many_tags):
    content = alice_client.get("/w/acme/contacts/").content.decode()

    assert '<datalist id="tag-suggestions">' in content
    assert 'list="tag-suggestions"' in content
    assert 'hx-get="/w/acme/contacts/tags/suggest/"' in content


def test_tag_suggestions_are_at_most_twenty_names_starting_with_what_was_typed(alice_client, many_tags):
    response = alice_client.get("/w/acme/contacts/tags/suggest/", {"tag": "topic"})

    options = re.findall(r'<option value="([^"]+)">', response.content.decode())
    assert response.status_code == 200
    assert len(options) == 20
    assert all(name.startswith("topic-") for name in options)


def test_tag_suggestions_for_nothing_typed_are_empty(alice_client, many_tags):
    response = alice_client.get("/w/acme/contacts/tags/suggest/")

    assert response.status_code == 200
    assert b"<option" not in response.content


def test_an_export_filtered_by_an_owner_in_unicode_digits_is_a_400(alice_client, ada):
    response = alice_client.get("/w/acme/contacts/export/csv/", {"owner": "²"})

    assert response.status_code == 400


def test_an_export_filtered_by_a_tag_named_with_a_unicode_digit_finds_no_one(alice_client, ada):
    response = alice_client.get("/w/acme/contacts/export/json/", {"tag": "²"})

    assert response.status_code == 200
    assert b"ada@analytical.example" not in b"".join(response.streaming_content)


def test_a_bulk_action_on_an_id_beyond_64_bits_is_refused_not_a_500(alice_client, ada):
    response = alice_client.post("/w/acme/contacts/bulk/", {"ids": [BIG], "action": "tag_add", "tag": "vip"})

    assert response.status_code == 302
    assert selectors.contact_tags(ada.id) == ["mathematics"]
