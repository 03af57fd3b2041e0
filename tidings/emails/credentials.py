"""A workspace's own sending credentials (SMTP server and login, an ESP's API key) and ESP webhook secret.

Sealed at rest the way the DKIM key is (tidings.emails.headers): one JSON object of the parts set, AES-GCM
under a file key made by Keyring.new_file_key (name "emails.credentials:<workspace id>") and wrapped by the
workspace key, so a database dump holds none of them in clear. Only the names of the parts set are stored in
clear (SendingSettings.credential_parts), so the settings page says "set" / "not set" without opening them.
They are opened in memory when a send opens its connections or a webhook is checked, and never logged.

Parts not set fall back to the installation's settings (EMAIL_HOST..., ANYMAIL), so existing set-ups work.
"""

from __future__ import annotations

import json
import secrets

from tidings.privacy.vault import Keyring, seal, unseal

SMTP_PARTS = ("smtp_host", "smtp_port", "smtp_username", "smtp_password", "smtp_security")
ESP_PARTS = ("esp_api_key", "ses_region", "ses_access_key_id", "ses_secret_access_key", "mailgun_sender_domain",
             "esp_webhook_signing_key")  # fmt: skip
CREDENTIAL_PARTS = SMTP_PARTS + ESP_PARTS
WEBHOOK_SECRET = "webhook_secret"  # kept in the same sealed object, but not cleared with the credentials
SECURITY_CHOICES = ("starttls", "ssl", "none")
# The anymail setting an ESP's API key is (anymail reads it from the backend's kwargs before ANYMAIL).
API_KEY_SETTING = {"postmark": "server_token"}
# The anymail setting, per ESP that signs its webhooks, that esp_webhook_signing_key is: the key (or public
# key) its tracking webhook view checks each post's signature with. The other ESPs only use the Basic secret.
SIGNING_KEY_SETTING = {
    "mailersend": "signing_secret",
    "mailgun": "webhook_signing_key",
    "mandrill": "webhook_key",
    "postal": "webhook_key",
    "resend": "signing_secret",
    "sendgrid": "tracking_webhook_verification_key",
}


def _name(workspace_id: int) -> str:
    return f"emails.credentials:{workspace_id}"


def seal_parts(ring: Keyring, parts: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Return (workspace key version, wrapped file key, sealed JSON) to store parts at rest."""
    version, wrapped, aead = ring.new_file_key(_name(ring.workspace_id))
    plain = json.dumps(parts, sort_keys=True).encode()
    return version, wrapped, seal(aead, plain, _name(ring.workspace_id).encode())


def open_parts(ring: Keyring, sending) -> dict[str, str]:
    """Return the parts sealed on sending (a SendingSettings), {} when none; raise DecryptionFailed if they
    do not open."""
    if not sending.credentials_sealed:
        return {}
    aead = ring.open_file_key(int(sending.credentials_key_version or 0), bytes(sending.credentials_key_wrapped or b""),
                              _name(ring.workspace_id))  # fmt: skip
    return json.loads(unseal(aead, bytes(sending.credentials_sealed), _name(ring.workspace_id).encode()))


def new_webhook_secret() -> str:
    """A fresh HTTP Basic "user:password" for the ESP's webhook URL (anymail's WEBHOOK_SECRET format)."""
    return f"tidings:{secrets.token_urlsafe(24)}"


def connection_options(parts: dict[str, str], backend: str) -> dict:
    """Return the keyword arguments of get_connection() that carry the workspace's credentials for backend
    (a SendingBackend value): Django's SMTP backend's for "smtp", the anymail backend's for an ESP."""
    options: dict = {}
    if backend == "smtp":
        for part, kwarg in (("smtp_host", "host"), ("smtp_username", "username"), ("smtp_password", "password")):
            if parts.get(part):
                options[kwarg] = parts[part]
        if parts.get("smtp_port"):
            options["port"] = int(parts["smtp_port"])
        security = parts.get("smtp_security")
        if security in SECURITY_CHOICES:
            options["use_tls"], options["use_ssl"] = security == "starttls", security == "ssl"
        return options
    if backend == "amazon_ses":
        session = {name: parts[part] for part, name in (("ses_region", "region_name"),
                                                        ("ses_access_key_id", "aws_access_key_id"),
                                                        ("ses_secret_access_key", "aws_secret_access_key"))
                   if parts.get(part)}  # fmt: skip
        return {"session_params": session} if session else {}
    if parts.get("esp_api_key"):
        options[API_KEY_SETTING.get(backend, "api_key")] = parts["esp_api_key"]
    if backend == "mailgun" and parts.get("mailgun_sender_domain"):
        options["sender_domain"] = parts["mailgun_sender_domain"]
    return options


def register_credentials_holder() -> None:
    """Have a workspace key rotation re-wrap the credentials' file key (tidings.privacy.vault)."""
    from tidings.privacy.vault import register_file_key_holder

    register_file_key_holder("emails.credentials", "tidings.emails.credentials.rewrap_credentials")


def rewrap_credentials(ring: Keyring) -> int:
    """Re-wrap the workspace's sealed credentials under ring's active key version; return how many."""
    from tidings.emails.models import SendingSettings

    done = 0
    for row in SendingSettings.objects.filter(credentials_key_version__isnull=False):
        assert row.credentials_key_version is not None and row.credentials_key_wrapped is not None
        row.credentials_key_version, row.credentials_key_wrapped = ring.rewrap_file_key(
            row.credentials_key_version, bytes(row.credentials_key_wrapped), _name(ring.workspace_id)
        )
        row.save(update_fields=["credentials_key_version", "credentials_key_wrapped"])
        done += 1
    return done
