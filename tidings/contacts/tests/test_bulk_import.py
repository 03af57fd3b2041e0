"""Bulk upsert (imports) stores every contact exactly as one upsert per row would.

contacts_bulk_upsert has its own fast path (rows built as tuples, keys and ciphertexts made in
batches), so these tests import the same rows into Acme in bulk and into Globex one
contact_upsert at a time, and compare what each workspace then holds: decrypted values, clear
columns, blind indexes, search tokens, tags and data keys.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact, ContactSearchToken, ContactTag, EventType, FieldType
from tidings.events.models import Event
from tidings.privacy.models import ContactKey, LawfulBasis
from tidings.privacy.vault import keyring, normalise_email, normalise_phone, normalise_text, words
from tidings.tenancy import bulk
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

PEOPLE = [
    {"email": "ada@analytical.example", "firstname": "Ada", "lastname": "Quillfeather", "tags": "mathematics"},
    {"email": "grace@navy.example", "firstname": "Grace Bramwell", "lastname": "Brightwater", "phone": "+1 555 0100"},
    {"email": "emmy@erlwood.example", "firstname": "Emmy", "lastname": "Nettlefield", "points": "12", "crm_id": "N-1"},
    {
        "email": "hedy@reelhouse.example",
        "firstname": "Hedy",
        "lastname": "Larkspur",
        "plan": "pro",
        "newsletter": "yes",
    },
    {"email": "ADA@Analytical.example", "position": "Countess", "city": "London", "tags": ["-mathematics", "poetry"]},
    {"email": "broken", "firstname": "Nobody"},
    {"crm_id": "n-1", "nickname": "Emmy N.", "birthday": "1882-03-23", "interests": "algebra|physics"},
    {"email": "jose@lisboa.example", "firstname": "José", "lastname": "Saramago-Sousa", "country": "Portugal"},
    {"firstname": "Anonymous", "city": "Paris"},
    {"email": "katherine@langley.example", "mobile": "00 1 555 0199", "last_active": "2026-01-02 03:04:05"},
    {"email": "hedy@reelhouse.example", "firstname": "", "lastname": "Markey", "score": "3.5"},
    {"email": "frances@stanford.example", "plan": "gold"},
    {"email": "frances@stanford.example", "old_code": "x"},
    {
        "email": "barbara@mit.example",
        "website": "mit.example",
        "timezone": "America/New_York",
        "preferred_locale": "en_US",
    },
    {"phone": "+1 (555) 0100", "firstname": "Grace", "zipcode": "02139"},
    {"email": "donald@stanford.example", "timezone": "Mars/Olympus"},
]


def _define_fields(phone_unique=False):
    if phone_unique:
        phone = actions.load_fields()["phone"]
        actions.field_update(phone.id, is_unique_identifier=True, principal=system())
    actions.field_create(
        alias="plan",
        label="Plan",
        type=FieldType.SELECT,
        options=["free", "pro"],
        default_value="free",
        principal=system(),
    )
    actions.field_create(alias="nickname", label="Nickname", category="user.name", principal=system())
    actions.field_create(alias="crm_id", label="CRM id", is_unique_identifier=True, principal=system())
    actions.field_create(alias="birthday", label="Birthday", type=FieldType.DATE, principal=system())
    actions.field_create(alias="newsletter", label="Newsletter", type=FieldType.BOOLEAN, principal=system())
    actions.field_create(alias="interests", label="Interests", type=FieldType.MULTISELECT, principal=system())
    actions.field_create(alias="score", label="Score", type=FieldType.NUMBER, principal=system())
    old = actions.field_create(alias="old_code", label="Old code", principal=system())
    actions.field_archive(old.id, principal=system())


def _seed():
    """Contacts that exist before the import, created the same way in both workspaces."""
    actions.contact_create(
        {"email": "ada@analytical.example", "lastname": "Byron"}, tags=["nobility"], principal=system()
    )
    actions.contact_create({"email": "grace@navy.example", "firstname": "Grace"}, principal=system())


def _snapshot() -> list[dict]:
    """Return what the workspace in context holds about each contact, in creation order, keys decoded."""
    ring = keyring()
    fields = actions.load_fields()
    uid_aliases = [a for a, f in fields.items() if f.is_unique_identifier and a not in ("email", "phone", "mobile")]
    contacts = list(Contact.objects.order_by("id"))
    views = selectors.contacts_get([c.id for c in contacts])
    keys = ring.data_keys([c.id for c in contacts])
    shots = []
    for contact in contacts:
        view = views[contact.id]
        profile = keys[contact.id].decrypt_json(actions.PROFILE, contact.profile_enc) if contact.profile_enc else {}
        expected_tokens = {
            ring.blind_index("name", w) for a in ("firstname", "lastname") for w in words(profile.get(a) or "")
        }
        expected_tokens |= {
            ring.blind_index(f"uid:{a}", normalise_text(str(v)))
            for a in uid_aliases
            if (v := profile.get(a, contact.custom.get(a))) not in (None, "")
        }

        def index(scope, value, normalise):
            return ring.blind_index(scope, normalise(value)) if value else None

        shots.append(
            {
                "fields": {a: v for a, v in view.fields.items() if a != "date_identified"},  # a time of writing
                "profile": profile,
                "custom": contact.custom,
                "tags": sorted(view.tags),
                "anonymous": view.is_anonymous,
                "domain": contact.email_domain,
                "lawful_basis": contact.lawful_basis,
                "bidx_ok": (
                    _bytes(contact.email_bidx) == index("email", profile.get("email"), normalise_email),
                    _bytes(contact.phone_bidx) == index("phone", profile.get("phone"), normalise_phone),
                    _bytes(contact.mobile_bidx) == index("phone", profile.get("mobile"), normalise_phone),
                ),
                "tokens_ok": {
                    bytes(t)
                    for t in ContactSearchToken.objects.filter(contact_id=contact.id).values_list("token", flat=True)
                }
                == expected_tokens,
                "key_version": ContactKey.objects.get(contact_id=contact.id).key_version,
            }
        )
    return shots


def _bytes(value):
    return None if value is None else bytes(value)


@pytest.mark.parametrize(("batch_size", "phone_unique"), [(1, False), (4, False), (1000, False), (4, True)])
def test_bulk_import_stores_every_contact_as_one_upsert_per_row_does(acme, globex, batch_size, phone_unique):
    with use_workspace(globex):
        _define_fields(phone_unique)
        _seed()
        one_by_one_errors = []
        for index, row in enumerate(PEOPLE):
            row = dict(row)
            tags = row.pop("tags", None)
            tags = tags.replace(",", "|").split("|") if isinstance(tags, str) else tags or []
            try:
                actions.contact_upsert(
                    row, tags=["imported", *tags], lawful_basis=LawfulBasis.CONSENT, principal=system()
                )
            except ValidationError as error:
                one_by_one_errors.append((index, sorted(error.message_dict)))
        expected = _snapshot()
    with use_workspace(acme):
        _define_fields(phone_unique)
        _seed()
        result = actions.contacts_bulk_upsert(
            PEOPLE, lawful_basis=LawfulBasis.CONSENT, tags=["imported"], batch_size=batch_size, principal=system()
        )
        imported = _snapshot()
    assert [(e.index, sorted(e.errors)) for e in result.errors] == one_by_one_errors
    assert [e.index for e in result.errors] == [5, 11, 12, 15]
    assert len(imported) == (8 if phone_unique else 9), "row 14 matches Grace by phone only when phone is unique"
    assert imported == expected
    assert all(all(shot["bidx_ok"]) and shot["tokens_ok"] for shot in imported)


def test_bulk_import_counts_rows_and_returns_each_rows_contact(in_acme):
    _define_fields()
    _seed()
    ada = selectors.contact_by_unique_identifier("email", "ada@analytical.example")
    result = actions.contacts_bulk_upsert(
        PEOPLE, lawful_basis=LawfulBasis.CONSENT, batch_size=3, return_ids=True, principal=system()
    )
    assert (result.created, result.updated, len(result.errors)) == (7, 5, 4)
    assert result.processed == len(PEOPLE)
    assert result.contact_ids[0] == result.contact_ids[4] == ada.id
    assert result.contact_ids[2] == result.contact_ids[6], "matched on the custom unique identifier crm_id"
    assert result.contact_ids[14] not in result.contact_ids[:14], "a phone number is no unique identifier by default"
    assert [result.contact_ids[i] for i in (5, 11, 12, 15)] == [None] * 4
    assert Contact.objects.count() == 9


def test_each_imported_contact_gets_one_imported_event_per_batch_with_its_source(in_acme):
    rows = [{"email": f"reader{i}@library.example"} for i in range(5)] + [{"email": "reader0@library.example"}]
    actions.contacts_bulk_upsert(
        rows, lawful_basis=LawfulBasis.CONSENT, batch_size=4, source={"import": 7}, principal=system()
    )
    imported = Event.objects.filter(type=EventType.CONTACT_IMPORTED)
    assert imported.count() == 6  # reader0 twice: once in each batch that touched it
    assert {e.data["import"] for e in imported} == {7}


def test_common_tags_reach_every_contact_once(in_acme):
    rows = [{"email": f"member{i}@club.example", "tags": "gold|gold"} for i in range(3)]
    actions.contacts_bulk_upsert(rows * 2, lawful_basis=LawfulBasis.CONSENT, tags=["club", "club"], principal=system())
    assert ContactTag.objects.count() == 6
    assert selectors.contacts_count(search="tag:club") == selectors.contacts_count(search="tag:gold") == 3


def test_overwrite_with_blank_clears_a_matched_contacts_values(in_acme):
    ada = actions.contact_create(
        {"email": "ada@analytical.example", "firstname": "Ada", "city": "London"}, principal=system()
    )
    actions.contacts_bulk_upsert(
        [{"email": "ada@analytical.example", "firstname": "", "city": None}],
        lawful_basis=LawfulBasis.CONSENT,
        overwrite_with_blank=True,
        principal=system(),
    )
    view = selectors.contact_get(ada.id)
    assert (view.get("firstname"), view.get("city")) == (None, None)
    assert selectors.contact_search("Ada").items == [], "the cleared name's search token is gone"


def test_a_blank_value_leaves_a_matched_contact_alone_by_default(in_acme):
    ada = actions.contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
    actions.contacts_bulk_upsert(
        [{"email": "ada@analytical.example", "firstname": " "}], lawful_basis=LawfulBasis.CONSENT, principal=system()
    )
    assert selectors.contact_get(ada.id).get("firstname") == "Ada"


# The bulk writers themselves: PostgreSQL binds one array per column (unnest), SQLite runs executemany.

AWKWARD_TEXT = ["NULL", "", 'a "quoted", {braced} word', "back\\slash", "tab\tand space", "Zoë"]


def _region_queries(workspace):
    return CaptureQueriesContext(connections[workspace.db_alias])


def test_bulk_insert_keeps_awkward_values_exactly(in_acme):
    at = timezone.now().replace(microsecond=123456)
    rows = [(in_acme.id, 1, EventType.CONTACT_IMPORTED, at, {"note": text, "n": None}) for text in AWKWARD_TEXT]
    rows.append((in_acme.id, 2, EventType.CONTACT_IMPORTED, at, {}))

    bulk.insert(Event, ["workspace_id", "contact_id", "type", "at", "data"], rows)

    stored = list(Event.objects.order_by("id").values_list("contact_id", "at", "data"))
    assert stored == [(1, at, {"note": text, "n": None}) for text in AWKWARD_TEXT] + [(2, at, {})]


def test_bulk_insert_ignoring_conflicts_skips_only_the_taken_rows(in_acme):
    columns = ["workspace_id", "contact_id", "tag_id"]
    bulk.insert(ContactTag, columns, [(in_acme.id, 1, 7)])

    bulk.insert(
        ContactTag, columns, [(in_acme.id, 1, 7), (in_acme.id, 2, 7), (in_acme.id, 2, 7)], ignore_conflicts=True
    )

    assert sorted(ContactTag.objects.values_list("contact_id", "tag_id")) == [(1, 7), (2, 7)]


def test_bulk_update_writes_each_rows_values_and_clears_nones(in_acme):
    actions.contacts_bulk_upsert(
        [{"email": f"person{n}@example.invalid", "firstname": "Person"} for n in range(3)],
        lawful_basis=LawfulBasis.CONSENT,
        principal=system(),
    )
    contacts = list(Contact.objects.order_by("id"))
    later = timezone.now().replace(microsecond=654321)
    rows = [
        (b"\x00\\{,}\xff" * (n + 1), None, AWKWARD_TEXT[n], {"k": AWKWARD_TEXT[n + 3]}, later, c.id)
        for n, c in enumerate(contacts)
    ]

    bulk.update(Contact, ["profile_enc", "email_bidx", "email_domain", "custom", "updated_at"], rows)

    stored = list(
        Contact.objects.order_by("id").values_list(
            "profile_enc", "email_bidx", "email_domain", "custom", "updated_at", "id"
        )
    )
    assert [(bytes(p), b, d, c, u, i) for p, b, d, c, u, i in stored] == rows


def test_bulk_update_never_touches_another_workspaces_contact(acme, globex):
    with use_workspace(globex):
        actions.contacts_bulk_upsert(
            [{"email": "bob@globex.example", "city": "Springfield"}],
            lawful_basis=LawfulBasis.CONSENT,
            principal=system(),
        )
        bobs = Contact.objects.get()
    with use_workspace(acme):
        bulk.update(Contact, ["city"], [("Elsewhere", bobs.id)])
    with use_workspace(globex):
        assert Contact.objects.get().city == "Springfield"


def test_bulk_writes_send_one_statement_per_batch_on_postgresql(in_acme):
    if connections[in_acme.db_alias].vendor != "postgresql":
        pytest.skip("SQLite runs executemany, which costs no round trip there")
    rows = [(in_acme.id, n, n % 3) for n in range(actions.BATCH_SIZE + 1)]
    with _region_queries(in_acme) as inserts:
        bulk.insert(ContactTag, ["workspace_id", "contact_id", "tag_id"], rows, ignore_conflicts=True)
    ids = list(ContactTag.objects.values_list("id", flat=True))
    with _region_queries(in_acme) as updates:
        bulk.update(ContactTag, ["tag_id"], [(9, pk) for pk in ids])

    assert (len(inserts), len(updates)) == (2, 2)
    assert set(ContactTag.objects.values_list("tag_id", flat=True)) == {9}


def test_bulk_update_refuses_a_too_long_value_instead_of_truncating_it(in_acme):
    if connections[in_acme.db_alias].vendor != "postgresql":
        pytest.skip("SQLite does not enforce varchar lengths")
    actions.contacts_bulk_upsert(
        [{"email": "ada@analytical.example"}], lawful_basis=LawfulBasis.CONSENT, principal=system()
    )
    ada = Contact.objects.get()

    with pytest.raises(DataError):
        bulk.update(Contact, ["email_domain"], [("x" * 300, ada.id)])
