"""Do-Not-Contact comments are encrypted under the contact's key, like notes, and still read by authorised callers."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions, selectors
from tidings.contacts.models import DoNotContact
from tidings.privacy import registry

COMMENT = "Asked by phone to stop: prefers letters to Quillfeather Lane"


@pytest.fixture
def system(in_acme):
    return system_principal(in_acme, reason="test")


def _stored_bytes() -> bytes:
    with connections["region_eu"].cursor() as cursor:
        cursor.execute("SELECT * FROM contacts_donotcontact")
        return b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for r in cursor for v in r)


def test_a_dnc_comment_is_stored_encrypted(ada, system):
    actions.dnc_add(ada.id, reason="manual", comment=COMMENT, principal=system)

    assert b"Quillfeather" not in _stored_bytes()
    assert DoNotContact.objects.get(contact_id=ada.id).comment_enc is not None


def test_the_selectors_return_the_comment_in_clear(ada, system):
    actions.dnc_add(ada.id, reason="manual", comment=COMMENT, principal=system)

    assert [row.comment for row in selectors.contact_dnc(ada.id)] == [COMMENT]
    assert [row.comment for row in selectors.contacts_dnc([ada.id])[ada.id]] == [COMMENT]


def test_a_row_read_around_the_selectors_has_no_readable_comment(ada, system):
    actions.dnc_add(ada.id, reason="manual", comment=COMMENT, principal=system)

    with pytest.raises(AttributeError, match="encrypted"):
        _ = DoNotContact.objects.get(contact_id=ada.id).comment


def test_a_comment_over_255_characters_is_refused_not_truncated(ada, system):
    with pytest.raises(ValidationError):
        actions.dnc_add(ada.id, reason="manual", comment="x" * 256, principal=system)


def test_shredding_the_contact_makes_the_comment_unreadable(ada, system):
    actions.dnc_add(ada.id, reason="manual", comment=COMMENT, principal=system)
    sealed = bytes(DoNotContact.objects.get(contact_id=ada.id).comment_enc)

    actions.contact_delete(ada.id, principal=system)

    assert not DoNotContact.objects.filter(contact_id=ada.id).exists()
    assert sealed not in _stored_bytes()


def test_the_export_holds_the_comment_in_clear(ada, system):
    actions.dnc_add(ada.id, reason="manual", comment=COMMENT, principal=system)

    package = registry.export_subject(ada.id)

    assert package["contacts.donotcontact"][0]["comment"] == COMMENT


def test_a_merge_re_encrypts_the_losers_comment_for_the_winner(ada, grace, system):
    actions.dnc_add(grace.id, channel="sms", reason="manual", comment=COMMENT, principal=system)

    actions.contact_merge(ada.id, grace.id, principal=system)

    assert [(row.channel, row.comment) for row in selectors.contact_dnc(ada.id)] == [("sms", COMMENT)]


@pytest.fixture
def bearer(acme, alice):
    from django.core.cache import cache

    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    cache.clear()  # rate limits
    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_native_api_returns_the_comment(ada, client, bearer):
    path = f"/api/v1/contacts/{ada.id}/dnc/email"

    put = client.put(path, json.dumps({"reason": "manual", "comment": COMMENT}), "application/json", **bearer)
    listed = client.get(f"/api/v1/contacts/{ada.id}/dnc", **bearer)

    assert put.status_code == 200 and put.json()["comment"] == COMMENT
    assert [row["comment"] for row in listed.json()] == [COMMENT]


def test_the_mautic_api_returns_the_comment(ada, client, bearer):
    add = client.post(f"/api/contacts/{ada.id}/dnc/email/add", {"reason": 3, "comments": COMMENT}, **bearer)
    contact = client.get(f"/api/contacts/{ada.id}", **bearer)

    assert add.status_code == 200
    assert [row["comments"] for row in contact.json()["contact"]["doNotContact"]] == [COMMENT]
