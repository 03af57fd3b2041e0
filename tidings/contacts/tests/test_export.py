"""Export of the filtered contact list: CSV and JSON, streamed, permission-gated, audited without personal data."""

import csv
import io
import json

from tidings.accounts.tests.helpers import audit_entries
from tidings.contacts import actions
from tidings.tests.principals import system


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_the_filtered_contacts(alice_client, ada, grace):
    response = alice_client.get("/w/acme/contacts/export/csv/", {"q": "tag:mathematics"})

    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert [(r["email"], r["firstname"], r["tags"]) for r in rows] == [("ada@analytical.example", "Ada", "mathematics")]


def test_json_export_holds_every_matching_contact(alice_client, ada, grace):
    response = alice_client.get("/w/acme/contacts/export/json/")

    records = json.loads(_body(response))
    assert sorted(r["email"] for r in records) == ["ada@analytical.example", "grace@navy.example"]
    assert {r["lawful_basis"] for r in records} == {""}


def test_export_reads_in_batches(alice_client, in_acme, monkeypatch):
    from tidings.contacts import exports

    monkeypatch.setattr(exports, "EXPORT_BATCH", 3)
    for i in range(7):
        actions.contact_create({"email": f"p{i}@people.example"}, principal=system())

    chunks = list(alice_client.get("/w/acme/contacts/export/json/").streaming_content)

    assert len(json.loads(b"".join(chunks))) == 7
    assert len(chunks) == 5  # "[", three batches, "]"


def test_a_cell_that_looks_like_a_formula_is_neutralised(alice_client, in_acme):
    actions.contact_create({"email": "eve@people.example", "position": '=HYPERLINK("x")'}, principal=system())

    assert "'=HYPERLINK" in _body(alice_client.get("/w/acme/contacts/export/csv/"))


def test_an_export_is_audited_with_the_count_and_no_personal_data(alice_client, acme, ada, grace):
    _body(alice_client.get("/w/acme/contacts/export/csv/", {"q": "email:ada@analytical.example", "dnc": "email"}))
    _body(alice_client.get("/w/acme/contacts/export/json/", {"q": "email:ada@analytical.example"}))

    entry = audit_entries(acme, "contacts.exported")[0]
    assert entry.data == {"format": "json", "count": 1, "filters": {}, "search_commands": ["email"]}
    assert "ada" not in json.dumps([e.data for e in audit_entries(acme, "contacts.exported")])


def test_an_unknown_format_is_not_found(alice_client, ada):
    assert alice_client.get("/w/acme/contacts/export/xml/").status_code == 404


def test_export_needs_the_export_permission(arun_client, ada):
    assert arun_client.get("/w/acme/contacts/export/csv/").status_code == 403
