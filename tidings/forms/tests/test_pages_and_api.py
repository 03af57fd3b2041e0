"""The builder and results pages, the CSV export's audit entry, the native API and Mautic's /api/forms."""

from __future__ import annotations

import base64

import pytest

from tidings.forms.tests.conftest import newsletter_fields, submit
from tidings.tests.api_client import token_api

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def answered(newsletter, public):
    submit(newsletter, public, email="results@reader.example", firstname="=SUM(A1)", newsletter_ok="1")
    return newsletter


def test_the_list_and_builder_pages_show_the_form(alice_client, newsletter):
    assert b"Newsletter" in alice_client.get("/w/acme/forms/").content
    page = alice_client.get(f"/w/acme/forms/{newsletter.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Preview" in html and "generate.js?id=" in html and 'name="mauticform[email]"' in html


def test_fields_are_added_moved_and_removed_with_htmx(alice_client, newsletter):
    from tidings.forms.selectors import form_get

    base = f"/w/acme/forms/{newsletter.pk}/"
    added = alice_client.post(base + "fields/add/", {"kind": "tel", "label": "Phone"}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200 and b"Phone" in added.content and b"<html" not in added.content
    phone = form_get(newsletter.pk).fields[-1]
    alice_client.post(base + f"fields/{phone['id']}/move/", {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert [f["alias"] for f in form_get(newsletter.pk).fields][-2:] == ["phone", "newsletter_ok"]
    refused = alice_client.post(base + "fields/add/", {"kind": "text", "label": "Bad", "pattern": "(["},
                                HTTP_HX_REQUEST="true")  # fmt: skip
    assert refused.status_code == 400 and b"regular expression" in refused.content
    alice_client.post(base + f"fields/{phone['id']}/remove/", HTTP_HX_REQUEST="true")
    assert "phone" not in [f["alias"] for f in form_get(newsletter.pk).fields]


def test_results_and_the_csv_export_are_audited_and_formula_safe(alice_client, answered):
    from tidings.audit.models import AuditEntry

    page = alice_client.get(f"/w/acme/forms/{answered.pk}/results/")
    assert page.status_code == 200 and b"results@reader.example" in page.content
    export = alice_client.get(f"/w/acme/forms/{answered.pk}/results/export.csv")
    body = b"".join(export.streaming_content).decode()
    assert "results@reader.example" in body and "'=SUM(A1)" in body
    entry = AuditEntry.objects.filter(action="forms.submissions_exported").latest("id")
    assert entry.data == {"format": "csv", "count": 1} and "results@" not in str(entry.data)


def test_the_native_api_creates_reads_and_lists_submissions(client, acme, alice, answered):
    api = token_api(client, acme, alice)
    created = api.post("/forms", {"name": "API form", "fields": newsletter_fields(), "published": True})
    assert created.status_code == 201 and created.json()["alias"] == "api-form"
    bad = api.post("/forms", {"name": "Bad", "fields": [{"kind": "rocket"}]})
    assert bad.status_code == 422 and "fields.0.kind" in str(bad.json())
    listed = api.get(f"/forms/{answered.pk}/submissions").json()
    assert listed["items"][0]["answers"]["email"] == "results@reader.example"
    assert api.send("PATCH", f"/forms/{answered.pk}", {"name": "Renamed"}).json()["name"] == "Renamed"
    assert api.send("DELETE", f"/forms/{created.json()['id']}").status_code == 204


def test_mautic_api_answers_in_mauticss_shapes(client, acme, alice, answered):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="mautic", permissions=None,
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    listed = client.get("/m/acme/api/forms", **headers).json()
    assert listed["total"] == 1
    form = listed["forms"][str(answered.pk)] if isinstance(listed["forms"], dict) else listed["forms"][0]
    assert form["alias"] == "newsletter" and form["isPublished"] is True and "cachedHtml" in form
    field = next(iter(form["fields"].values()))
    assert {"label", "alias", "type", "isRequired", "leadField", "properties"} <= set(field)
    one = client.get(f"/m/acme/api/forms/{answered.pk}", **headers).json()["form"]
    assert one["id"] == answered.pk
    submissions = client.get(f"/m/acme/api/forms/{answered.pk}/submissions", **headers).json()
    assert submissions["total"] == "1"
    (row,) = submissions["submissions"]
    assert row["results"]["email"] == "results@reader.example" and row["form"]["id"] == answered.pk
    assert row["ipAddress"]["ip"] == "203.0.113.0/24"
    new = client.post("/m/acme/api/forms/new", {"name": "From Mautic", "isPublished": "1", "fields[0][label]": "Email",
                      "fields[0][alias]": "email", "fields[0][type]": "email", "fields[0][leadField]": "email"},
                      **headers)  # fmt: skip
    assert new.status_code == 201, new.content
    assert new.json()["form"]["fields"]
    assert base64  # the Basic form is exercised by the cross-workspace probes
