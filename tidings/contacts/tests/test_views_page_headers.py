"""The contacts pages carry the kit's breadcrumbs and page header (one h1, the trail above it)."""

import re

import pytest

from tidings.contacts import actions, imports
from tidings.tests.principals import system


@pytest.fixture
def lumen(in_acme):
    return actions.company_create({"companyname": "Lumen Studios"}, principal=system())


@pytest.fixture
def spring_import(in_acme):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("spring-fair.csv", b"email\nlin@acme.example\n", content_type="text/csv")
    return imports.import_create(upload, principal=system())


def _trail(content: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>(.*?)</ol></nav>', content)
    assert nav, "the page has no breadcrumbs"
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li[^>]*>(.*?)</li>", nav.group(1))]


def _title(content: str) -> str:
    header = re.search(r'<header class="page-header"><div class="page-title"><h1>(.*?)</h1>', content)
    assert header, "the page has no page header"
    return header.group(1)


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_contacts_list_has_a_page_header_with_its_actions(alice_client, in_acme):
    content = _page(alice_client, "/w/acme/contacts/")

    assert (_trail(content), _title(content)) == (["Contacts"], "Contacts")
    assert re.search(r'<div class="page-actions">.*New contact', content, re.S)


def test_the_companies_list_sits_under_contacts(alice_client, in_acme):
    content = _page(alice_client, "/w/acme/companies/")

    assert (_trail(content), _title(content)) == (["Contacts", "Companies"], "Companies")


def test_a_company_page_names_the_company_last(alice_client, lumen):
    content = _page(alice_client, f"/w/acme/companies/{lumen.id}/")

    assert (_trail(content), _title(content)) == (["Contacts", "Companies", "Lumen Studios"], "Lumen Studios")


def test_the_company_edit_form_leads_back_to_the_company(alice_client, lumen):
    content = _page(alice_client, f"/w/acme/companies/{lumen.id}/edit/")

    assert _trail(content) == ["Contacts", "Companies", "Lumen Studios", "Edit"]
    assert f'<a href="/w/acme/companies/{lumen.id}/">Lumen Studios</a>' in content


def test_the_imports_pages_sit_under_contacts(alice_client, spring_import):
    listing = _page(alice_client, "/w/acme/contacts/imports/")
    detail = _page(alice_client, f"/w/acme/contacts/imports/{spring_import.id}/")

    assert (_trail(listing), _title(listing)) == (["Contacts", "Imports"], "Imports")
    assert (_trail(detail), _title(detail)) == (["Contacts", "Imports", "spring-fair.csv"], "spring-fair.csv")


def test_the_import_upload_page_has_the_trail(alice_client, in_acme):
    content = _page(alice_client, "/w/acme/contacts/import/")

    assert _trail(content) == ["Contacts", "Imports", "New import"]


def test_the_fields_page_sits_under_settings(alice_client, in_acme):
    content = _page(alice_client, "/w/acme/settings/fields/")

    assert (_trail(content), _title(content)) == (["Settings", "Fields"], "Fields")


def test_the_new_contact_form_has_the_trail(alice_client, in_acme):
    content = _page(alice_client, "/w/acme/contacts/new/")

    assert (_trail(content), _title(content)) == (["Contacts", "New contact"], "New contact")


def test_the_contact_edit_form_leads_back_to_the_contact(alice_client, ada):
    content = _page(alice_client, f"/w/acme/contacts/{ada.id}/edit/")

    assert _trail(content) == ["Contacts", "Ada Quillfeather", "Edit"]
    assert content.count("<h1>") == 1
