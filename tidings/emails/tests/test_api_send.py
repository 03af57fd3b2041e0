"""The send API, native and Mautic's shapes; a broadcast through the API reaches the SMTP server."""

from __future__ import annotations

import json

import pytest

from tidings.emails.tests.conftest import make_email, run, system


@pytest.fixture
def token(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="sender", permissions=None,
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _post(client, path, token, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **token)


def test_native_send_queues_a_broadcast_that_the_task_sends(client, token, newsletter, smtp):
    from tidings.emails.models import Send

    answer = _post(client, f"/api/v1/emails/{newsletter.pk}/send", token)
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["status"] == "queued" and body["total"] == 2
    run(Send.objects.get(pk=body["id"]))
    got = client.get(f"/api/v1/sends/{body['id']}", **token).json()
    assert got["status"] == "finished" and got["sent"] == 2 and got["done"] == 2
    listed = client.get(f"/api/v1/emails/{newsletter.pk}/sends", **token).json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    assert len(smtp.messages) == 2
    again = _post(client, f"/api/v1/emails/{newsletter.pk}/send", token)
    assert again.status_code == 202  # the first one finished: a new send may start


def test_native_pause_resume_cancel(client, token, newsletter):
    send_id = _post(client, f"/api/v1/emails/{newsletter.pk}/send", token).json()["id"]
    assert _post(client, f"/api/v1/sends/{send_id}/pause", token).json()["status"] == "paused"
    assert _post(client, f"/api/v1/sends/{send_id}/pause", token).status_code == 422
    assert _post(client, f"/api/v1/sends/{send_id}/resume", token).json()["status"] == "queued"
    assert _post(client, f"/api/v1/sends/{send_id}/cancel", token).json()["status"] == "cancelled"


def test_native_send_to_contact_with_tokens(client, token, readers, smtp):
    mail = make_email(kind="template", html="<p>{coupon}</p>")
    answer = _post(client, f"/api/v1/emails/{mail.pk}/contacts/{readers[0].id}/send", token,
                   {"tokens": {"coupon": "SPRING"}})  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "sent"
    assert "SPRING" in smtp.parsed()[0].get_body(("html",)).get_content()
    missing = _post(client, f"/api/v1/emails/{mail.pk}/contacts/987654/send", token)
    assert missing.status_code == 404


def test_native_send_of_a_skipped_contact_says_why(client, token, in_acme, smtp):
    from tidings.emails.tests.conftest import make_contact

    silent = make_contact({"email": "silent@example.example"}, consent=False)
    mail = make_email(kind="template")
    answer = _post(client, f"/api/v1/emails/{mail.pk}/contacts/{silent.id}/send", token).json()
    assert answer["status"] == "skipped" and answer["reason"] == "no_consent"
    assert not smtp.messages


def test_mautic_send_shapes(client, token, newsletter, readers, smtp):
    sent = _post(client, f"/m/acme/api/emails/{newsletter.pk}/send", token)
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["success"] == 1 and body["sentCount"] == 0 and body["failedRecipients"] == 0 and body["sendId"]
    template = make_email(kind="template", html="<p>{code}</p>")
    one = client.post(f"/m/acme/api/emails/{template.pk}/contact/{readers[0].id}/send", {"tokens[code]": "X1"},
                      **token)  # fmt: skip
    assert one.json() == {"success": True}
    assert "X1" in smtp.parsed()[-1].get_body(("html",)).get_content()


def test_mautic_send_of_an_unpublished_email_is_not_found(client, token, readers):
    draft = make_email(kind="template", published=False)
    assert _post(client, f"/m/acme/api/emails/{draft.pk}/contact/{readers[0].id}/send", token).status_code == 404
    assert _post(client, f"/m/acme/api/emails/{draft.pk}/send", token).status_code == 404


def test_a_member_without_emails_send_gets_403(client, acme, make_user, newsletter):
    from tidings.accounts.models import Membership
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    analyst = make_user("ann@acme.example")
    Membership.objects.create(workspace=acme, user=analyst, role="analyst")
    _, secret = api_token_create(workspace=acme, user=analyst, name="ro", permissions=None,
                                 principal=principal_for_user(analyst, acme))  # fmt: skip
    answer = _post(client, f"/api/v1/emails/{newsletter.pk}/send", {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
    assert answer.status_code == 403


def test_sending_settings_update_seals_the_key_and_checks_values(in_acme):
    from django.core.exceptions import ValidationError

    from tidings.emails.actions.sending import sending_settings_update
    from tidings.emails.selectors_sending import sending_settings

    sending_settings_update(principal=system(), sending_domains="News.Acme.example, acme.example", cap_count=3)
    assert sending_settings().sending_domains == ["acme.example", "news.acme.example"]
    with pytest.raises(ValidationError) as error:
        sending_settings_update(principal=system(), connections=99, dkim_private_key="not a key")
    assert "connections" in error.value.message_dict
    with pytest.raises(ValidationError):
        sending_settings_update(principal=system(), nonsense=1)


def test_a_sender_outside_the_sending_domains_is_refused(newsletter):
    from django.core.exceptions import ValidationError

    from tidings.emails.actions.sending import send_start, sending_settings_update

    sending_settings_update(principal=system(), sending_domains=["news.acme.example"])
    with pytest.raises(ValidationError):
        send_start(newsletter.pk, principal=system())


def test_erasing_a_contact_leaves_no_delivery_of_it(newsletter, readers, smtp):
    from tidings.contacts.actions import contact_delete
    from tidings.emails.actions.sending import send_start
    from tidings.emails.models import Delivery

    run(send_start(newsletter.pk, principal=system()))
    assert Delivery.objects.filter(contact_id=readers[0].id).exists()
    contact_delete(readers[0].id, principal=system())
    assert not Delivery.objects.filter(contact_id=readers[0].id).exists()
    assert Delivery.objects.filter(contact_id=readers[1].id).exists()
