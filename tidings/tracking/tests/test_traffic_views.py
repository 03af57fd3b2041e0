"""The traffic dashboard page and GET /api/v1/sites/{id}/traffic: permissions, suppression, periods, no 5xx.

alice owns Acme; arun is an analyst there (reports:view, no contacts:view); vic is a member whose role
lacks reports:view.
"""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tidings.urls  # noqa: F401 (the API's schemas are made before a test freezes the clock: pydantic refuses freezegun's dates)
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system
from tidings.tracking.traffic import TrafficHit, count

NOON = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)


def _member(acme, email: str, role: str):
    from tidings.accounts.actions import membership_create, user_create

    user = user_create(email=email, password="correct horse battery staple")
    membership_create(workspace=acme, user=user, role=role, principal=system(acme))
    return user


@pytest.fixture
def arun_client(acme, client):
    """A client signed in as arun, an analyst in Acme: reports:view, no contacts:view."""
    client.force_login(_member(acme, "arun@acme.example", "analyst"))
    return client


@pytest.fixture
def shop(acme):
    from tidings.tracking.models import Site, new_public_key

    with use_workspace(acme):
        return Site.objects.create(name="Acme Shop", public_key=new_public_key("eu"), domains=["shop.example"])


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()[:16]


@pytest.fixture
def visits(shop):
    """30 visitors from Germany on /, 12 from France on /pricing, 2 from Iceland on /team/ada (today, noon)."""
    hits = []
    for n, (url, country) in enumerate([("/", "DE")] * 30 + [("/pricing", "FR")] * 12 + [("/team/ada", "IS")] * 2):
        hits.append(
            TrafficHit(shop.workspace_id, shop.pk, NOON, _digest(str(n)), url=url, country=country, device="desktop")
        )
    with freeze_time(NOON):
        count(hits)
    return shop


def _page(client, site, query: str = ""):
    return client.get(f"/w/acme/tracking/sites/{site.pk}/traffic/{query}")


@freeze_time(NOON)
def test_the_dashboard_shows_totals_charts_and_suppressed_breakdowns(alice_client, visits):
    response = _page(alice_client, visits, "?period=7")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Visitors by day" in body and "Page views by day" in body and "last 48 hours" in body
    assert ">44<" in body  # visitors and page views of the period
    assert "Germany" in body and "fewer than 10" in body and "/team/ada" in body
    report = response.context["report"]
    pages = next(b for b in report.breakdowns if b.key == "pages")
    assert [(r.value, r.state) for r in pages.rows] == [("/", "shown"), ("/pricing", "hidden"), ("/team/ada", "small")]


@freeze_time(NOON)
def test_an_analyst_sees_the_dashboard(arun_client, visits):
    assert _page(arun_client, visits).status_code == 200
    assert arun_client.get("/w/acme/tracking/traffic/").status_code == 200


@freeze_time(NOON)
def test_a_member_without_reports_view_is_refused(acme, client, visits, monkeypatch):
    from tidings.accounts import permissions

    user = _member(acme, "vic@acme.example", "marketer")
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS, "marketer", permissions.ROLE_PERMISSIONS["marketer"] - {"reports:view"}
    )
    client.force_login(user)

    assert _page(client, visits).status_code == 403


def test_the_index_links_every_site(alice_client, shop):
    response = alice_client.get("/w/acme/tracking/traffic/")

    assert f"/w/acme/tracking/sites/{shop.pk}/traffic/" in response.content.decode()


@freeze_time(NOON)
def test_an_unknown_site_is_404(alice_client, shop):
    assert alice_client.get(f"/w/acme/tracking/sites/{shop.pk + 1000}/traffic/").status_code == 404
    assert alice_client.get("/w/acme/tracking/sites/99999999999999999999999/traffic/").status_code == 404


@freeze_time(NOON)
def test_a_period_that_cannot_be_used_says_why_and_shows_30_days(alice_client, visits):
    response = _page(alice_client, visits, "?period=custom&start=2026-11-20&end=2026-11-01")

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["period"].days == 30


@freeze_time(NOON)
def test_a_custom_period(alice_client, visits):
    response = _page(alice_client, visits, "?period=custom&start=2026-11-25&end=2026-12-01")

    assert response.status_code == 200
    assert len(response.context["report"].series) == 7


@freeze_time(NOON)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    period=st.one_of(st.sampled_from(["7", "30", "90", "custom", ""]), st.text(max_size=12)),
    start=st.one_of(st.dates().map(str), st.text(max_size=12)),
    end=st.one_of(st.dates().map(str), st.text(max_size=12)),
)
def test_no_period_query_gives_a_5xx(alice_client, shop, period, start, end):
    query = {"period": period, "start": start, "end": end}
    if any("\x00" in value for value in query.values()):
        return  # the entry pipeline refuses NUL characters before the view (tested there)

    response = alice_client.get(f"/w/acme/tracking/sites/{shop.pk}/traffic/", query)

    assert response.status_code in (200, 400)


# ----------------------------------------------------------------------------------------------
# The API


@pytest.fixture
def api(client, acme, alice):
    from django.core.cache import cache

    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    cache.clear()  # rate limits
    _, secret = api_token_create(
        workspace=acme,
        user=alice,
        name="Traffic export",
        permissions=["reports:view"],
        principal=principal_for_user(alice, acme),
    )
    return lambda path, data=None: client.get(f"/api/v1{path}", data or {}, HTTP_AUTHORIZATION=f"Bearer {secret}")


@freeze_time(NOON)
def test_the_api_returns_the_same_suppressed_aggregates(api, visits):
    response = api(f"/sites/{visits.pk}/traffic", {"period": "7"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["visitors"], body["views"], body["k"]) == (44, 44, 10)
    assert len(body["series"]) == 7
    pages = next(b for b in body["breakdowns"] if b["key"] == "pages")
    assert pages["rows"] == [
        {"value": "/", "label": "/", "state": "shown", "visitors": 30, "views": 30},
        {"value": "/pricing", "label": "/pricing", "state": "hidden", "visitors": None, "views": None},
        {"value": "/team/ada", "label": "/team/ada", "state": "small", "visitors": None, "views": None},
    ]
    assert pages["other"] == {"values": 2, "visitors": 14, "views": 14}
    assert "12" not in json.dumps(pages["rows"])  # France's and /pricing's 12 visitors are nowhere alone


@freeze_time(NOON)
def test_the_api_refuses_a_bad_period_with_422_naming_the_parameter(api, shop):
    response = api(f"/sites/{shop.pk}/traffic", {"period": "custom", "start": "2026-02-30"})

    assert response.status_code == 422
    assert "start" in response.json()["error"]["details"]["fields"]
    assert "2026-02-30" not in response.content.decode()


def test_the_api_answers_404_for_an_unknown_site(api, shop):
    assert api(f"/sites/{shop.pk + 1000}/traffic").status_code == 404


@freeze_time(NOON)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=st.text(max_size=12), start=st.text(max_size=12), end=st.text(max_size=12))
def test_no_api_period_gives_a_5xx(api, shop, period, start, end):
    from django.core.cache import cache

    cache.clear()
    response = api(f"/sites/{shop.pk}/traffic", {"period": period, "start": start, "end": end})

    assert response.status_code in (200, 400, 422)
