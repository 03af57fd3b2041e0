"""Issue 13's "done when", end to end through the public doors, on whichever engine runs the suite.

Zephyrine consents through a real form (consent box bound to a purpose under the current notice), withdraws
from her preference centre, gets a receipt by email, waits in a campaign, gets a note and a tag, asks for her
data (public request form, mailed verification link), downloads the package an operator released, then asks
for erasure. Afterwards every table of the global and both region
databases is read whole (introspected, every column, no hand-picked list) for her email, names, phone and
their blind-index values (raw bytes, hex and base64), and every file under the var directory too; none may
remain. A contact import of her address is then refused by the suppression list, and the audit chains verify.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import TestCase

from tidings.tests.principals import system

EMAIL = "Zephyrine.Quillfeather@erasure-e2e.example"
FIRST, LAST = "Zephyrine", "Quillfeather"
PHONE = "+44 20 7946 0958"
IP = "203.0.113.77"
FORM_FIELDS = [
    {"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"},
    {"kind": "text", "label": "First name", "alias": "firstname", "maps_to": "firstname"},
    {"kind": "text", "label": "Last name", "alias": "lastname", "maps_to": "lastname"},
    {"kind": "tel", "label": "Phone", "alias": "phone", "maps_to": "phone"},
    {
        "kind": "consent",
        "label": "Send me the Acme newsletter.",
        "alias": "newsletter_ok",
        "purpose": "marketing_email",
    },
]


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _instant_forms(settings):
    settings.TIDINGS_FORMS_MIN_FILL_SECONDS = 0
    settings.TIDINGS_FORMS_RATE_PER_NETWORK = 10_000
    settings.TIDINGS_FORMS_RATE_PER_FORM = 10_000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@contextlib.contextmanager
def committed():
    """Run what waits for the commit (mails, tasks) at once, on every database: the test never commits."""
    with contextlib.ExitStack() as stack:
        for alias in connections:
            stack.enter_context(TestCase.captureOnCommitCallbacks(using=alias, execute=True))
        yield


def _link(mailbox, pattern: str) -> str:
    for message in reversed(mailbox):
        found = re.search(pattern, message.body)
        if found:
            return found.group(0)
    raise AssertionError(f"no mail holds {pattern}")


def _needles() -> dict[str, bytes]:
    """What identifies Zephyrine: her values in clear and every blind index of them, in the forms a store uses.

    The suppression list's keyed hash (its own scope, decision 0028) is the one trace meant to stay: it is
    not a needle, and step 6 shows it doing its work.
    """
    from tidings.privacy.vault import keyring, normalise_email, normalise_phone, normalise_text, words

    ring = keyring()
    clear = {
        "email": EMAIL.lower(),
        "local part": EMAIL.split("@")[0].lower(),
        "first name": FIRST.lower(),
        "last name": LAST.lower(),
        "phone": PHONE,
        "phone digits": normalise_phone(PHONE),
        "address she posted from": IP,
    }
    indexes = {
        "email index": ring.blind_index("email", normalise_email(EMAIL)),
        "email token": ring.blind_index("uid:email", normalise_text(EMAIL)),
        "phone index": ring.blind_index("phone", normalise_phone(PHONE)),
        "request hash": ring.blind_index("subject_request", normalise_email(EMAIL)),
        **{f"name index {w}": ring.blind_index("name", w) for w in words(f"{FIRST} {LAST}")},
    }
    needles = {name: value.encode() for name, value in clear.items()}
    for name, raw in indexes.items():
        needles[name] = raw
        needles[f"{name} (hex)"] = raw.hex().encode()
        needles[f"{name} (base64)"] = base64.b64encode(raw).rstrip(b"=")
        needles[f"{name} (urlsafe base64)"] = base64.urlsafe_b64encode(raw).rstrip(b"=")
    return needles


def _as_bytes(value) -> bytes | None:
    if value is None or isinstance(value, (bool, int, float)):
        return None
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list)):  # PostgreSQL's json columns arrive decoded
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def scan_databases(needles: dict[str, bytes]) -> list[str]:
    """Return "alias.table.column: needle" for every cell of every table of every database holding a needle."""
    from tidings.tenancy.rls import dangerously_bypass_rls

    found = []
    with dangerously_bypass_rls():
        for alias in connections:
            connection = connections[alias]
            with connection.cursor() as cursor:
                for table in connection.introspection.table_names(cursor):
                    cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
                    columns = [column[0] for column in cursor.description]
                    for row in cursor.fetchall():
                        for column, value in zip(columns, row, strict=True):
                            cell = _as_bytes(value)
                            if cell is None:
                                continue
                            folded = cell.lower()
                            for name, needle in needles.items():
                                if needle in cell or (needle.isascii() and needle.lower() in folded):
                                    found.append(f"{alias}.{table}.{column}: {name}")
    return sorted(set(found))


def scan_files(root: Path, needles: dict[str, bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.relative_to(root)}: {name}" for name, needle in needles.items() if needle in content]
    return found


def seed_other_stores(contact_id: int) -> None:
    """Put her in the stores the form and the preference centre do not reach, so that erasure must clear them."""
    from tidings.campaigns.actions import campaign_contacts_add, campaign_create, campaign_publish, campaigns_run
    from tidings.contacts import actions as contacts_actions
    from tidings.contacts import selectors as contacts_selectors
    from tidings.emails.actions import authoring, sending

    html = "<p>Thank you {contactfield=firstname} {contactfield=lastname}</p>"
    receipt = authoring.email_create(principal=system(), subject="Your order, {contactfield=firstname}",
                                     kind="template", transactional=True, published=True, editor="code",
                                     html=html)  # fmt: skip
    with committed():
        delivery = sending.send_to_contact(receipt.pk, contact_id, principal=system())
    assert delivery.status == "sent"
    graph = {"sources": [{"kind": "manual"}], "start": 1, "steps": [
        {"id": 1, "kind": "add_tags", "tags": ["ordered"], "next": 2},
        {"id": 2, "kind": "delay", "mode": "interval", "seconds": 86400, "next": None}]}  # fmt: skip
    campaign = campaign_create(principal=system(), name="After an order", graph=graph)
    campaign_publish(campaign.pk, principal=system())
    with committed():
        assert campaign_contacts_add(campaign.pk, [contact_id], principal=system()) == 1
        campaigns_run(principal=system())
    contacts_actions.note_add(contact_id, f"{FIRST} called about her order", principal=system())
    assert "ordered" in contacts_selectors.contact_tags(contact_id)  # the campaign's first step ran


def test_consent_withdrawal_access_and_erasure_leave_nothing_and_keep_her_out(
    alice_client, in_acme, var_dir, mailoutbox
):
    from django.test import Client

    client = Client()  # Zephyrine's browser; alice_client is alice's, signed in
    from tidings.audit.models import AuditEntry
    from tidings.audit.selectors import verify_chains
    from tidings.consent import actions as consent_actions
    from tidings.consent import selectors as consent_selectors
    from tidings.contacts import admission, imports
    from tidings.contacts import selectors as contacts_selectors
    from tidings.contacts.models import Contact
    from tidings.forms import actions as forms_actions
    from tidings.pages import selectors as pages_selectors
    from tidings.subject_requests.models import SubjectRequest

    notice = consent_actions.notice_publish(principal=system(), title="Acme privacy notice",
                                            url="https://acme.example/privacy")  # fmt: skip
    form = forms_actions.form_create(name="Newsletter", published=True, fields=FORM_FIELDS, principal=system())

    # 1. She consents through the public form.
    body = {f"mauticform[{k}]": v for k, v in
            {"email": EMAIL, "firstname": FIRST, "lastname": LAST, "phone": PHONE, "newsletter_ok": "1",
             "formId": str(form.pk)}.items()}  # fmt: skip
    with committed():
        response = client.post(f"/m/acme/form/submit?formId={form.pk}", body, REMOTE_ADDR=IP)
    assert response.status_code in (200, 302)
    contact_id = contacts_selectors.contact_by_unique_identifier("email", EMAIL).id
    given = consent_selectors.consent_state(contact_id)["marketing_email"]
    assert given.given and given.method == "form" and given.notice_version == notice.version

    # 2. She withdraws it from her preference centre (signed link).
    preferences = f"/m/acme/preferences/{pages_selectors.preference_token(contact_id)}"
    assert client.get(preferences).status_code == 200
    with committed():
        saved = client.post(preferences, {"action": "save", "offered": ["marketing_email"]})
    assert saved.status_code == 200
    withdrawn = consent_selectors.consent_state(contact_id)["marketing_email"]
    assert not withdrawn.given and withdrawn.method == "preference_centre"
    assert not consent_selectors.purpose_allowed(contact_id, "marketing_email", use="test")

    # Meanwhile she enters the other stores: a receipt mailed to her, a campaign she waits in, a note, a tag.
    seed_other_stores(contact_id)

    # 3. She asks for her data (public form, verification link), alice releases it, she downloads it.
    def file_request(kind: str) -> SubjectRequest:
        with committed():
            assert client.post("/m/acme/privacy/request", {"email": EMAIL, "kind": kind}).status_code == 200
        verify = _link(mailoutbox, r"/m/[^/\s]+/privacy/verify/\d+/[A-Za-z0-9_-]+")
        with committed():
            assert client.post(verify).status_code == 200
        row = SubjectRequest.objects.get(kind=kind)
        assert row.status == "verified"
        for step in ("approve", "complete"):
            with committed():
                alice_client.post(f"/w/acme/privacy/requests/{row.pk}/act/", {"step": step})
        row.refresh_from_db()
        assert row.status == "completed"
        return row

    file_request("access")
    package_path = _link(mailoutbox, r"/m/[^/\s]+/privacy/package/[A-Za-z0-9_:.-]+")
    package = client.get(package_path + "?format=json")
    assert package.status_code == 200
    data = json.loads(b"".join(package.streaming_content) if package.streaming else package.content)["data"]
    text = json.dumps(data).lower()
    assert EMAIL.lower() in text and FIRST.lower() in text and LAST.lower() in text
    assert {"form.submitted", "consent.given", "consent.withdrawn"} <= {e["type"] for e in data["events.event"]}
    assert len(data["forms.submission"]) == 1
    assert [r["given"] for r in data["consent.consentrecord"]] == [True, False]
    assert {"emails.delivery", "campaigns.enrolment", "campaigns.steprun", "contacts.note"} <= set(data)

    # The scan sees her while she is held (her values are sealed, so only the blind indexes show).
    needles = _needles()
    before = scan_databases(needles)
    assert {"region_eu.contacts_contact.email_bidx: email index", "region_eu.contacts_contact.phone_bidx: phone index",
            f"region_eu.contacts_contactsearchtoken.token: name index {LAST.lower()}"} <= set(before)  # fmt: skip

    # 4. She asks for erasure; it is verified and carried out.
    file_request("erasure")
    assert not Contact.objects.filter(pk=contact_id).exists()

    # 5. Nothing that identifies her remains: every table of every database, every file under the var dir.
    assert {"default", "region_us", "region_eu"} <= set(connections), "the global and both region databases"
    assert scan_databases(needles) == []
    assert scan_files(var_dir, needles) == []

    # 6. A contact import of her address is refused by the suppression list.
    upload = SimpleUploadedFile("people.csv", f"email,firstname\n{EMAIL},{FIRST}\n".encode(), "text/csv")
    job = imports.import_create(upload, principal=system())
    imports.import_configure(job.id, mapping=["email", "firstname"], lawful_basis="consent", principal=system())
    with committed():
        job = imports.import_run(job.id, principal=system())
    assert (job.created_count, job.error_count) == (0, 1)
    assert job.errors[0]["message"].startswith(admission.REFUSED_MESSAGE)
    assert not contacts_selectors.contact_search(EMAIL).items

    # 7. The audit log shows every step, and every chain verifies.
    steps = set(AuditEntry.objects.using(in_acme.db_alias).values_list("action", flat=True))
    assert {"form.submitted", "consent.recorded", "preferences.saved", "subject_request.received",
            "subject_request.verified", "subject_request.approved", "subject_request.completed",
            "subject_request.package_opened", "contact.deleted",
            "email.suppression_added", "contact_import.completed"} <= steps  # fmt: skip
    assert list(verify_chains()) == []
