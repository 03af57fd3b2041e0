"""A workspace's own sending credentials and ESP webhook secret: sealed at rest, write-only in the settings
form, audited without values, used by the sender's connections and by the webhook's check."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails.tests.conftest import make_email, make_segment, run, system

PASSWORD = "Pw-7f3c9a-not-in-any-column"
API_KEY = "key-2b7d41e6-not-in-any-column"


def _update(**kwargs):
    from tidings.emails.actions.sending import sending_settings_update

    return sending_settings_update(principal=system(), **kwargs)


def _raw_row(workspace) -> bytes:
    """Every column of the workspace's sending settings row as the database holds it, joined."""
    with connections[workspace.db_alias].cursor() as cursor:
        cursor.execute("SELECT * FROM emails_sendingsettings WHERE workspace_id = %s", [workspace.id])
        rows = cursor.fetchall()
    assert rows
    return b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for row in rows for v in row)


def test_credentials_are_sealed_at_rest_and_open_in_memory(in_acme):
    from tidings.emails import credentials, selectors_sending
    from tidings.privacy.vault import keyring

    _update(credentials={"smtp_host": "Mail.Acme.example", "smtp_port": "2525", "smtp_username": "acme-sender",
                         "smtp_password": PASSWORD, "smtp_security": "starttls", "esp_api_key": API_KEY},
            rotate_webhook_secret=True)  # fmt: skip
    raw = _raw_row(in_acme)
    for clear in (PASSWORD, API_KEY, "acme-sender", "mail.acme.example"):
        assert clear.encode() not in raw
    current = selectors_sending.sending_settings()
    secret = selectors_sending.webhook_secret(current)
    assert secret and secret.encode() not in raw
    parts = credentials.open_parts(keyring(), current)
    assert parts["smtp_password"] == PASSWORD and parts["smtp_host"] == "mail.acme.example"
    assert current.credential_parts == sorted([*parts])


def test_empty_parts_keep_the_stored_ones_and_clear_drops_them_but_not_the_webhook_secret(in_acme):
    from tidings.emails import selectors_sending, sender

    _update(credentials={"smtp_host": "mail.acme.example", "smtp_password": PASSWORD}, rotate_webhook_secret=True)
    _update(credentials={"smtp_host": "", "smtp_password": "", "smtp_port": "587"})
    options = sender.connection_options(selectors_sending.sending_settings())
    assert options == {"host": "mail.acme.example", "password": PASSWORD, "port": 587}
    secret = selectors_sending.webhook_secret()
    _update(clear_credentials=True)
    current = selectors_sending.sending_settings()
    assert sender.connection_options(current) == {}
    assert current.credential_parts == ["webhook_secret"] and selectors_sending.webhook_secret() == secret


def test_the_audit_names_the_parts_changed_never_a_value(in_acme):
    from tidings.audit.models import AuditEntry

    _update(credentials={"smtp_password": PASSWORD, "esp_api_key": API_KEY}, rotate_webhook_secret=True)
    entry = AuditEntry.objects.filter(action="email.sending_settings_changed").latest("id")
    assert entry.data["fields"] == ["credentials:esp_api_key", "credentials:smtp_password", "webhook_secret"]
    assert PASSWORD not in json.dumps(entry.data) and API_KEY not in json.dumps(entry.data)


@pytest.mark.parametrize(
    "part, value",
    [("smtp_host", "bad host!"), ("smtp_port", "70000"), ("smtp_security", "maybe"), ("ses_region", "moon"),
     ("ses_access_key_id", "lower-case"), ("smtp_password", "has space"), ("mailgun_sender_domain", "x"),
     ("nonsense", "1")],
)  # fmt: skip
def test_a_bad_part_is_refused_without_echoing_it(in_acme, part, value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        _update(credentials={part: value})
    assert part in error.value.message_dict
    assert value not in json.dumps(error.value.message_dict)


def test_esp_options_are_anymails_keyword_arguments():
    from tidings.emails.credentials import connection_options

    parts = {"esp_api_key": API_KEY, "mailgun_sender_domain": "mg.acme.example", "ses_region": "eu-west-1",
             "ses_access_key_id": "AKIAEXAMPLE000001", "ses_secret_access_key": "s3cr3t",
             "smtp_security": "ssl", "smtp_host": "mail.acme.example"}  # fmt: skip
    assert connection_options(parts, "mailgun") == {"api_key": API_KEY, "sender_domain": "mg.acme.example"}
    assert connection_options(parts, "postmark") == {"server_token": API_KEY}
    assert connection_options(parts, "sendgrid") == {"api_key": API_KEY}
    assert connection_options(parts, "amazon_ses") == {
        "session_params": {
            "region_name": "eu-west-1",
            "aws_access_key_id": "AKIAEXAMPLE000001",
            "aws_secret_access_key": "s3cr3t",
        }
    }
    assert connection_options(parts, "smtp") == {"host": "mail.acme.example", "use_tls": False, "use_ssl": True}


def test_an_anymail_backend_takes_the_workspace_api_key(in_acme):
    from django.core.mail import get_connection

    from tidings.emails import selectors_sending, sender

    _update(backend="postmark", credentials={"esp_api_key": API_KEY})
    current = selectors_sending.sending_settings()
    backend = get_connection(sender.backend_path(current), **sender.connection_options(current))
    assert backend.server_token == API_KEY


# ---------------------------------------------------------------------------------------------
# The sender logs in to the workspace's SMTP server


@pytest.fixture
def smtp_with_auth(settings):
    """An SMTP server on loopback that wants AUTH (acme-sender / PASSWORD); the installation's settings point
    elsewhere (a closed port), so only the workspace's credentials reach it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tidings.emails.tests.conftest import Inbox

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"acme-sender" and auth_data.password == PASSWORD.encode()
        logins.append(ok)
        return AuthResult(success=ok)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)  # fmt: skip
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard: nothing listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    inbox.port, inbox.logins = port, logins
    yield inbox
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_broadcast_logs_in_with_the_workspace_smtp_credentials(readers, smtp_with_auth):
    from tidings.emails.actions.sending import send_start

    _update(connections=1, credentials={"smtp_host": "127.0.0.1", "smtp_port": str(smtp_with_auth.port),
                                        "smtp_username": "acme-sender", "smtp_password": PASSWORD,
                                        "smtp_security": "none"})  # fmt: skip
    mail = make_email(segment_ids=[make_segment([c.id for c in readers]).pk])
    result = run(send_start(mail.pk, principal=system()))
    assert result.status == "finished"
    assert len(smtp_with_auth.messages) == len(readers)
    assert smtp_with_auth.logins and all(smtp_with_auth.logins)


def test_send_to_contact_opens_its_connection_with_the_credentials(in_acme, monkeypatch):
    from tidings.emails import selectors_sending, sender

    _update(credentials={"smtp_host": "mail.acme.example", "smtp_username": "acme-sender",
                         "smtp_password": PASSWORD})  # fmt: skip
    seen = {}

    def fake_get_connection(backend=None, fail_silently=False, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(sender, "get_connection", fake_get_connection)
    with pytest.raises(RuntimeError):
        sender.open_connection(selectors_sending.sending_settings())
    assert seen == {"host": "mail.acme.example", "username": "acme-sender", "password": PASSWORD}


# ---------------------------------------------------------------------------------------------
# The settings page: write-only fields


def test_the_form_never_echoes_a_secret(alice_client, acme):
    response = alice_client.post(
        "/w/acme/settings/sending/",
        {
            "backend": "smtp",
            "connections": 4,
            "rate_per_second": 0,
            "cap_count": 0,
            "cap_days": 7,
            "smtp_host": "mail.acme.example",
            "smtp_username": "acme-sender",
            "smtp_password": PASSWORD,
            "esp_api_key": API_KEY,
            "ses_secret_access_key": "s3cr3t-ses-value",
            "rotate_webhook_secret": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    page = alice_client.get("/w/acme/settings/sending/").content.decode()
    for secret in (PASSWORD, API_KEY, "s3cr3t-ses-value", "acme-sender"):
        assert secret not in page
    assert "SMTP password: set" in page and "Amazon SES region: not set" in page
    # A refused post does not echo the password back either.
    bad = alice_client.post("/w/acme/settings/sending/", {"backend": "smtp", "connections": 99,
                                                          "rate_per_second": 0, "cap_count": 0, "cap_days": 7,
                                                          "smtp_password": PASSWORD + "2"})  # fmt: skip
    assert bad.status_code == 400 and PASSWORD not in bad.content.decode()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(
    st.sampled_from(["backend", "connections", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
                     "smtp_password", "esp_api_key", "mailgun_sender_domain", "ses_region", "ses_access_key_id",
                     "ses_secret_access_key", "clear_credentials", "rotate_webhook_secret"]),
    st.text(max_size=40), max_size=8))  # fmt: skip
def test_any_settings_post_answers_without_a_server_error(alice_client, acme, data):
    base = {"backend": "smtp", "connections": "4", "rate_per_second": "0", "cap_count": "0", "cap_days": "7"}
    assert alice_client.post("/w/acme/settings/sending/", {**base, **data}).status_code < 500


# ---------------------------------------------------------------------------------------------
# Webhooks checked with the workspace's own secret


def _basic(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _bounce():
    from tidings.emails.tests.test_bounces import postmark_bounce

    return json.dumps(postmark_bounce("ada@analytical.example"))


def _post(client, slug, headers):
    return client.post(f"/m/{slug}/e/hooks/postmark/", _bounce(), content_type="application/json", **headers)


@pytest.fixture
def acme_secret(sent):
    from tidings.emails import selectors_sending

    _update(rotate_webhook_secret=True)
    return selectors_sending.webhook_secret()


def test_the_workspace_secret_opens_its_webhook_without_an_installation_secret(client, sent, acme_secret, settings):
    from tidings.emails.models import Suppression

    settings.ANYMAIL = {}
    assert _post(client, "acme", _basic("tidings:wrong")).status_code in (400, 403)
    assert not Suppression.objects.exists()
    assert _post(client, "acme", _basic(acme_secret)).status_code == 200
    assert Suppression.objects.get().reason == "hard_bounce"


def test_the_installation_secret_no_longer_opens_a_workspace_with_its_own(client, sent, acme_secret, settings):
    from tidings.emails.models import Suppression

    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:installation"}
    assert _post(client, "acme", _basic("hook:installation")).status_code in (400, 403)
    assert not Suppression.objects.exists()


def test_a_rotated_secret_replaces_the_old_one(client, sent, acme_secret):
    from tidings.emails import selectors_sending

    _update(rotate_webhook_secret=True)
    fresh = selectors_sending.webhook_secret()
    assert fresh != acme_secret
    assert _post(client, "acme", _basic(acme_secret)).status_code in (400, 403)
    assert _post(client, "acme", _basic(fresh)).status_code == 200


def test_one_workspace_secret_does_not_open_another_workspaces_webhook(client, sent, acme_secret, globex, settings):
    """Globex has no secret of its own and the installation none: its hook is closed (404), whatever is sent."""
    settings.ANYMAIL = {}
    assert _post(client, "globex", _basic(acme_secret)).status_code == 404
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:installation"}
    assert _post(client, "globex", _basic(acme_secret)).status_code in (400, 403)


MAILGUN_KEY = "mg-signing-4c1e9b-not-in-any-column"


def _mailgun_bounce(key: str, address: str = "ada@analytical.example") -> str:
    """A Mailgun "failed" (permanent) tracking post, signed with key as Mailgun signs: HMAC of timestamp+token."""
    import hashlib
    import hmac
    import secrets
    import time

    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {"event": "failed", "severity": "permanent", "recipient": address, "id": "ev-1",
                       "timestamp": float(timestamp), "message": {"headers": {"message-id": "unknown@mg.example"}},
                       "delivery-status": {"code": 550, "message": "No such user"}},
    })  # fmt: skip


def _post_mailgun(client, slug, body, secret):
    return client.post(f"/m/{slug}/e/hooks/mailgun/", body, content_type="application/json", **_basic(secret))


def test_the_workspace_signing_key_checks_its_esps_signatures(client, sent, acme_secret, settings):
    from tidings.emails.models import Suppression

    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mg-installation-key"}
    _update(credentials={"esp_webhook_signing_key": MAILGUN_KEY})
    assert _post_mailgun(client, "acme", _mailgun_bounce("mg-installation-key"), acme_secret).status_code in (400, 403)
    assert _post_mailgun(client, "acme", _mailgun_bounce("mg-other-key"), acme_secret).status_code in (400, 403)
    assert not Suppression.objects.exists()
    assert _post_mailgun(client, "acme", _mailgun_bounce(MAILGUN_KEY), acme_secret).status_code == 200
    assert Suppression.objects.get().reason == "hard_bounce"


def test_without_its_own_signing_key_the_installations_applies(client, sent, acme_secret, settings):
    settings.ANYMAIL = {}
    assert _post_mailgun(client, "acme", _mailgun_bounce(MAILGUN_KEY), acme_secret).status_code == 404  # none at all
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    assert _post_mailgun(client, "acme", _mailgun_bounce(MAILGUN_KEY), acme_secret).status_code == 200


def test_the_signing_key_is_sealed_and_cleared_with_the_credentials(in_acme, acme_secret):
    from tidings.emails import selectors_sending

    _update(credentials={"esp_webhook_signing_key": MAILGUN_KEY})
    assert MAILGUN_KEY.encode() not in _raw_row(in_acme)
    assert selectors_sending.webhook_keys() == (acme_secret, MAILGUN_KEY)
    _update(clear_credentials=True)
    assert selectors_sending.webhook_keys() == (acme_secret, None)


def test_the_credentials_survive_a_workspace_key_rotation(in_acme):
    from tidings.emails import selectors_sending, sender
    from tidings.privacy.vault import clear_key_cache, rotate_workspace_key

    _update(credentials={"smtp_password": PASSWORD}, rotate_webhook_secret=True)
    rotate_workspace_key(principal=system())
    clear_key_cache()
    assert sender.connection_options(selectors_sending.sending_settings()) == {"password": PASSWORD}
