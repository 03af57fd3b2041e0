"""Site settings pages: the list, the form, the snippets, key rotation behind a confirmation, permissions.

alice owns Acme; arun is an analyst there (no tracking permission); mia is a marketer (tracking:view and edit).
"""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tests.principals import system
from tidings.tracking import actions
from tidings.tracking.models import Site


def _member_client(acme, client, email: str, role: str):
    from tidings.accounts.actions import membership_create, user_create

    user = user_create(email=email, password="correct horse battery staple")
    membership_create(workspace=acme, user=user, role=role, principal=system(acme))
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    data = {"name": "Blog", "domains": "blog.example\n.news.example", "consent_mode": "legitimate_interest",
            "ip_storage": "none", "excluded_networks": "203.0.113.0/24", "active": "on"}  # fmt: skip
    data.update(overrides)
    return data


def test_the_list_shows_the_sites(alice_client, site):
    response = alice_client.get("/w/acme/settings/sites/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme shop" in body and "shop.example" in body


def test_an_empty_list_invites_to_register_a_site(alice_client, acme):
    body = alice_client.get("/w/acme/settings/sites/").content.decode()
    assert "No sites yet" in body and "/w/acme/settings/sites/new/" in body


def test_creating_a_site_shows_its_snippet(alice_client, in_acme):
    response = alice_client.post("/w/acme/settings/sites/new/", _form())
    assert response.status_code == 302
    site = Site.objects.get(name="Blog")
    assert site.domains == ["blog.example", ".news.example"]
    assert (site.consent_mode, site.ip_storage, site.excluded_networks) == ("legitimate_interest", "none",
                                                                            ["203.0.113.0/24"])  # fmt: skip
    page = alice_client.get(response["Location"]).content.decode()
    assert site.public_key in page and "/t.js" in page and "/m/acme/mtc.js" in page


@override_settings(TIDINGS_BASE_URL="https://track.tidings.example/")
def test_the_snippet_names_the_servers_base_url_and_the_key(alice_client, site):
    page = alice_client.get(f"/w/acme/settings/sites/{site.pk}/").content.decode()
    assert f"(window,document,&#x27;https://track.tidings.example&#x27;,&#x27;{site.public_key}&#x27;)" in page
    assert "https://track.tidings.example/m/acme/mtc.js" in page


def test_bad_domains_and_networks_are_shown_beside_their_fields_without_the_value(alice_client, in_acme):
    response = alice_client.post("/w/acme/settings/sites/new/", _form(domains="ok.example\nnot a host!",
                                                                      excluded_networks="10.0.0.0/33"))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 400
    assert "entry 2 is not a host name" in body and "entry 1 is not a network" in body
    shown = " ".join(str(m) for messages in response.context["form"].errors.values() for m in messages)
    assert "not a host" not in shown.replace("is not a host name", "") and "10.0.0.0" not in shown
    assert not Site.objects.filter(name="Blog").exists()


def test_editing_a_site_changes_it(alice_client, site):
    response = alice_client.post(f"/w/acme/settings/sites/{site.pk}/edit/", _form(name="Shop", domains="shop.example"))
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.domains, site.active) == ("Shop", ["shop.example"], True)


def test_rotating_the_key_asks_first_then_changes_it(alice_client, site):
    url = f"/w/acme/settings/sites/{site.pk}/rotate/"
    asked = alice_client.post(url)
    assert asked.status_code == 200 and "Rotate key" in asked.content.decode()
    site.refresh_from_db()
    old = site.public_key
    assert alice_client.post(url, {"confirmed": "1"}).status_code == 302
    site.refresh_from_db()
    assert site.public_key != old and site.public_key.startswith("eu_")


def test_deleting_a_site_asks_first(alice_client, site):
    url = f"/w/acme/settings/sites/{site.pk}/delete/"
    assert alice_client.post(url).status_code == 200
    assert Site.objects.filter(pk=site.pk).exists()
    assert alice_client.post(url, {"confirmed": "1"}).status_code == 302
    assert not Site.objects.filter(pk=site.pk).exists()


def test_an_analyst_may_not_see_sites(acme, client, site):
    analyst = _member_client(acme, client, "arun@acme.example", "analyst")
    assert analyst.get("/w/acme/settings/sites/").status_code == 403
    assert analyst.get(f"/w/acme/settings/sites/{site.pk}/").status_code == 403


def test_a_marketer_manages_sites(acme, client, site):
    marketer = _member_client(acme, client, "mia@acme.example", "marketer")
    assert marketer.get("/w/acme/settings/sites/").status_code == 200
    assert marketer.post(f"/w/acme/settings/sites/{site.pk}/edit/", _form()).status_code == 302


def test_a_member_with_view_only_gets_no_edit_controls(acme, client, site, monkeypatch):
    from tidings.accounts import permissions

    viewer = _member_client(acme, client, "vic@acme.example", "marketer")
    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, "marketer",
                        permissions.ROLE_PERMISSIONS["marketer"] - {"tracking:edit"})  # fmt: skip
    page = viewer.get(f"/w/acme/settings/sites/{site.pk}/").content.decode()
    assert "Rotate key" not in page and site.public_key in page
    assert viewer.post(f"/w/acme/settings/sites/{site.pk}/rotate/", {"confirmed": "1"}).status_code == 403


def test_the_navigation_lists_sites_under_settings(alice_client, acme):
    body = alice_client.get("/w/acme/settings/sites/").content.decode()
    assert 'href="/w/acme/settings/sites/"' in body


def test_no_role_holds_the_public_tracker_permission():
    from tidings.accounts.permissions import ROLE_PERMISSIONS

    assert all("tracking:record" not in granted for granted in ROLE_PERMISSIONS.values())
    assert {"tracking:view", "tracking:edit"} <= ROLE_PERMISSIONS["marketer"]


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_text, domains=_text, networks=_text, mode=_text, storage=_text)
def test_no_posted_form_gives_a_server_error_or_echoes_a_value_in_errors(alice_client, in_acme, name, domains, networks,
                                                                         mode, storage):  # fmt: skip
    posted = {"name": name, "domains": domains, "excluded_networks": networks, "consent_mode": mode,
              "ip_storage": storage}  # fmt: skip
    response = alice_client.post("/w/acme/settings/sites/new/", posted)
    assert response.status_code in (302, 400)
    if response.status_code == 400 and response.context is not None:
        form = response.context["form"]
        shown = " ".join(str(message) for messages in form.errors.values() for message in messages)
        for value in (domains.strip(), networks.strip()):
            if len(value) >= 4:
                assert value not in shown


def test_actions_refuse_without_the_edit_permission(site, in_acme):
    from django.core.exceptions import PermissionDenied

    from tidings.accounts.permissions import Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    viewer = Principal(workspace=workspace_by_id(site.workspace_id), user=None,
                       permissions=frozenset({"tracking:view"}), via=Via.TOKEN)  # fmt: skip
    for call in (lambda: actions.site_create(name="x", principal=viewer),
                 lambda: actions.site_update(site.pk, name="x", principal=viewer),
                 lambda: actions.site_rotate_key(site.pk, principal=viewer),
                 lambda: actions.site_delete(site.pk, principal=viewer)):  # fmt: skip
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize("domain, expected", [
    ("Shop.Example", "shop.example"), (".blog.example", ".blog.example"), ("bücher.example", "xn--bcher-kva.example"),
    ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"), ("-bad.example", None), ("a..example", None),
    ("shop.example/path", None), ("https://shop.example", None), (".127.0.0.1", None), ("x" * 64 + ".example", None),
    ("shop.123", None), ("", None), (None, None),
])  # fmt: skip
def test_host_names_are_checked(domain, expected):
    from tidings.tracking.actions import _clean_host

    assert _clean_host(domain) == expected


def test_the_site_page_links_to_its_traffic_dashboard(alice_client, site):
    body = alice_client.get(f"/w/acme/settings/sites/{site.pk}/").content.decode()

    assert f'href="/w/acme/tracking/sites/{site.pk}/traffic/"' in body
