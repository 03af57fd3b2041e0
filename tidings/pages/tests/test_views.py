"""The landing-page editor: list, create, edit with a sandboxed preview, delete behind a confirmation, permissions.

alice owns Acme; arun is an analyst there (pages:view only).
"""

from __future__ import annotations

import pytest

from tidings.pages import actions
from tidings.pages.models import LandingPage
from tidings.tests.principals import system


@pytest.fixture
def arun_client(client, acme, make_user):
    from tidings.accounts.actions import membership_create

    user = make_user("arun@acme.example")
    membership_create(workspace=acme, user=user, role="analyst", principal=system(acme))
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    data = {
        "title": "Spring sale",
        "slug": "",
        "content": "<h1>Spring</h1><script>x()</script>",
        "meta_description": "Sale",
        "og_title": "",
        "canonical_url": "",
        "redirect_type": "",
        "redirect_url": "",
    }
    data.update(overrides)
    return data  # fmt: skip


def test_the_list_shows_the_pages(alice_client, spring):
    body = alice_client.get("/w/acme/pages/").content.decode()
    assert "Spring sale" in body and "/p/spring" in body and "published" in body


def test_an_empty_list_invites_to_create_a_page(alice_client, acme):
    body = alice_client.get("/w/acme/pages/").content.decode()
    assert "No landing pages yet" in body and "/w/acme/pages/new/" in body


def test_creating_a_page_sanitises_it_and_shows_the_preview(alice_client, in_acme):
    response = alice_client.post("/w/acme/pages/new/", _form(is_published="on"))
    assert response.status_code == 302
    page = LandingPage.objects.get(title="Spring sale")
    assert page.slug == "spring-sale" and page.content == "<h1>Spring</h1>" and page.is_published
    body = alice_client.get(response["Location"]).content.decode()
    assert 'sandbox=""' in body and "srcdoc=" in body and "&lt;h1&gt;Spring&lt;/h1&gt;" in body


def test_previewing_saves_nothing(alice_client, spring):
    response = alice_client.post(f"/w/acme/pages/{spring.pk}/", _form(content="<p>Draft words</p>", preview="1"))
    assert response.status_code == 200 and "Draft words" in response.content.decode()
    assert LandingPage.objects.get(pk=spring.pk).content == "<h1>Spring sale</h1><p>Everything must go.</p>"


def test_saving_reports_unknown_tokens(alice_client, spring):
    response = alice_client.post(f"/w/acme/pages/{spring.pk}/", _form(content="<p>{form=424242}</p>"), follow=True)
    assert "{form=424242}: no published form of this workspace has this id" in response.content.decode()


def test_a_taken_or_reserved_slug_is_shown_beside_the_field(alice_client, spring):
    response = alice_client.post("/w/acme/pages/new/", _form(slug="spring"))
    assert response.status_code == 400 and "another page of this workspace has this slug" in response.content.decode()
    response = alice_client.post("/w/acme/pages/new/", _form(slug="preferences"))
    assert response.status_code == 400 and "a word Tidings keeps" in response.content.decode()


def test_deleting_asks_first(alice_client, spring):
    response = alice_client.post(f"/w/acme/pages/{spring.pk}/delete/")
    assert response.status_code == 200 and LandingPage.objects.filter(pk=spring.pk).exists()
    response = alice_client.post(f"/w/acme/pages/{spring.pk}/delete/", {"confirmed": "1"})
    assert response.status_code == 302 and not LandingPage.objects.filter(pk=spring.pk).exists()


def test_an_analyst_reads_pages_but_cannot_change_them(arun_client, in_acme):
    page = actions.page_create(principal=system(), title="Spring sale", slug="spring", content="<p>Hi</p>")
    assert arun_client.get("/w/acme/pages/").status_code == 200
    body = arun_client.get(f"/w/acme/pages/{page.pk}/").content.decode()
    assert "Spring sale" in body and "Save page" not in body
    assert arun_client.get("/w/acme/pages/new/").status_code == 403
    assert arun_client.post(f"/w/acme/pages/{page.pk}/", _form()).status_code == 403
    assert arun_client.post(f"/w/acme/pages/{page.pk}/delete/", {"confirmed": "1"}).status_code == 403
    assert LandingPage.objects.get(pk=page.pk).title == "Spring sale"


def test_the_navigation_has_landing_pages(alice_client, acme):
    assert 'href="/w/acme/pages/"' in alice_client.get("/w/acme/").content.decode()
