"""The lean front app: the wire contract of /t/collect, /t/p.gif and Mautic's endpoints, end to end to the rows."""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.events.models import Event, EventString, Visitor
from tidings.tenancy.context import use_workspace
from tidings.tracking.collect import decide, front, seams
from tidings.tracking.collect.models import HitReceipt, TrackingSession
from tidings.tracking.event_types import CUSTOM_EVENT, PAGE_HIT
from tidings.tracking.tests.collect_helpers import CHROME, IPHONE, client_id, harness_fixture, hit, make_site  # noqa: F401

ORIGIN = "https://shop.example"


@pytest.fixture
def site(acme):
    return make_site(acme)


def collect(harness, body, **kwargs):
    return harness.call("POST", "/t/collect", body=body, **kwargs)


def test_a_pageview_is_accepted_spooled_and_persisted_as_a_page_hit_with_a_session(harness, site, acme):
    response = collect(harness, hit(site, u="https://shop.example/a?utm_source=news&utm_medium=email&email=x%40y.example",
                                    r="https://search.example/results?q=1"), headers={"Origin": ORIGIN})  # fmt: skip

    assert response.status == 202
    assert response.json()["ok"] == 1 and response.json()["v"]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Vary"] == "Origin"
    (record,) = harness.records()
    assert record["u"] == "https://shop.example/a" and record["utm"] == ["news", "email", ""]
    assert record["ip"] == "198.51.100.0/24" and record["rh"] == "search.example"
    assert (
        "y.example" not in json.dumps(record)
        and "198.51.100.7" not in json.dumps(record)
        and CHROME not in json.dumps(record)
    )

    assert harness.drain() == 1
    with use_workspace(acme):
        event = Event.objects.get()
        assert event.type == PAGE_HIT and event.visitor_id == decide.visitor_from_token(acme.pk, response.json()["v"])
        strings = dict(EventString.objects.values_list("id", "value"))
        assert strings[event.data["ctx"]] == "desktop|Windows|Chrome|"
        assert strings[event.data["utm"]] == "news|email|"
        assert strings[event.data["ref"]] == "search.example"
        assert event.data["ip"] == "198.51.100.0/24"
        session = TrackingSession.objects.get()
        assert event.data["sn"] == session.id and session.entry_url == "https://shop.example/a"
        assert Visitor.objects.filter(id=event.visitor_id).exists()


def test_hits_of_one_visitor_within_30_minutes_form_one_session(harness, site, acme):
    first = collect(harness, hit(site, u="https://shop.example/a")).json()["v"]
    collect(harness, hit(site, u="https://shop.example/b", v=first))
    collect(harness, hit(site, t="event", n="signup", u="https://shop.example/c", v=first))
    harness.drain()
    collect(harness, hit(site, u="https://shop.example/d", v=first))
    harness.drain()

    with use_workspace(acme):
        session = TrackingSession.objects.get()
        assert (session.hits, session.entry_url, session.exit_url) == (
            4,
            "https://shop.example/a",
            "https://shop.example/d",
        )
        assert Event.objects.filter(type=CUSTOM_EVENT).count() == 1
        assert set(Event.objects.values_list("visitor_id", flat=True)) == {session.visitor_id}


def test_a_forged_or_foreign_visitor_id_is_no_visitor_id(harness, site, acme, globex):
    foreign = decide.visitor_token(globex.pk, 12345)
    answer = collect(harness, hit(site, v=foreign)).json()["v"]
    assert decide.visitor_from_token(acme.pk, answer) != 12345
    assert decide.visitor_from_token(acme.pk, "12345.forged") is None


@pytest.mark.parametrize("signal", [{"headers": {"Sec-GPC": "1"}}, {"headers": {"DNT": "1"}}, {"gpc": 1}, {"dnt": 1}])
def test_gpc_or_dnt_means_counted_not_profiled(harness, site, acme, signal):
    extra = {key: value for key, value in signal.items() if key != "headers"}
    response = collect(harness, hit(site, **extra), headers=signal.get("headers"))

    assert response.status == 202 and response.json()["v"] is None
    (record,) = harness.records()
    assert record["v"] is None and record["g"]
    harness.drain()
    with use_workspace(acme):
        assert not Event.objects.exists() and HitReceipt.objects.count() == 1


def test_gpc_of_a_known_visitor_is_written_to_the_ledger_as_a_withdrawal(harness, site, acme, monkeypatch):
    recorded = []
    monkeypatch.setattr(
        seams,
        "record_signal_withdrawal",
        lambda workspace, visitor, signal, principal: recorded.append((visitor, signal)),
    )
    token = collect(harness, hit(site)).json()["v"]
    collect(harness, hit(site, v=token), headers={"Sec-GPC": "1"})
    assert recorded == [(decide.visitor_from_token(acme.pk, token), "gpc")]


def test_a_cookieless_site_never_profiles(harness, acme):
    site = make_site(acme, consent_mode="cookieless")
    assert collect(harness, hit(site)).json()["v"] is None
    assert harness.records()[0]["v"] is None


def test_a_consent_site_profiles_only_a_visitor_whose_latest_tracking_consent_is_given(harness, acme, monkeypatch):
    site = make_site(acme, consent_mode="consent")
    choices = {}
    monkeypatch.setattr(seams, "visitor_tracking_consent", lambda workspace, visitor: choices.get(visitor))
    assert collect(harness, hit(site)).json()["v"] is None  # a new device has consented to nothing

    token = decide.visitor_token(acme.pk, 777)
    assert collect(harness, hit(site, v=token)).json()["v"] is None  # no decision yet
    choices[777] = True
    decide._consents.clear()
    assert collect(harness, hit(site, v=token)).json()["v"] == token
    choices[777] = False
    decide._consents.clear()
    assert collect(harness, hit(site, v=token)).json()["v"] is None


def test_a_legitimate_interest_site_stops_profiling_a_visitor_who_objected(harness, site, acme, monkeypatch):
    monkeypatch.setattr(seams, "visitor_tracking_consent", lambda workspace, visitor: False)
    token = decide.visitor_token(acme.pk, 778)
    assert collect(harness, hit(site, v=token)).json()["v"] is None


def test_consent_and_identify_hits_go_to_the_actions_synchronously_and_are_not_spooled(
    harness, site, acme, monkeypatch
):
    calls = []
    monkeypatch.setattr(seams, "consent", lambda workspace, **kw: calls.append(("consent", kw["purposes"])))
    monkeypatch.setattr(seams, "identify", lambda workspace, **kw: calls.append(("identify", sorted(kw["fields"]))))
    collect(harness, hit(site, t="consent", c={"tracking": True}))
    collect(harness, hit(site, t="identify", f={"email": "ada@analytical.example"}))
    assert calls == [("consent", {"tracking": True}), ("identify", ["email"])]
    assert not harness.spool.path.read_bytes()


def test_an_unknown_key_a_foreign_origin_or_a_foreign_page_is_refused(harness, site):
    assert collect(harness, hit(site, k="eu_unknownkeyunknownkey12")).status == 403
    response = collect(harness, hit(site), headers={"Origin": "https://evil.example"})
    assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers
    assert collect(harness, hit(site, u="https://evil.example/")).status == 403
    assert collect(harness, hit(site, u="https://news.blog.example/post")).status == 202  # ".blog.example"


def test_bots_and_excluded_networks_are_accepted_and_dropped(harness, acme):
    site = make_site(acme, excluded=["203.0.113.0/24"])
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert collect(harness, hit(site), user_agent=bot).status == 202
    assert collect(harness, hit(site), ip="203.0.113.9").status == 202
    assert collect(harness, hit(site), user_agent="Mozilla/5.0 HeadlessChrome/120.0").status == 202
    assert not harness.spool.path.read_bytes()


def test_headless_chrome_is_let_through_when_tests_ask(harness, site, settings):
    settings.TIDINGS_TRACKING_ALLOW_HEADLESS = True
    collect(harness, hit(site), user_agent="Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36")
    assert len(harness.records()) == 1


def test_ip_storage_none_keeps_no_network_and_the_device_is_parsed(harness, acme):
    site = make_site(acme, ip_storage="none")
    collect(harness, hit(site), user_agent=IPHONE)
    (record,) = harness.records()
    assert record["ip"] == "" and (record["d"], record["o"], record["b"]) == ("mobile", "iOS", "Mobile_Safari")


@pytest.fixture
def fake_maxmind(monkeypatch, tmp_path):
    """A stand-in for the optional geoip2 package: its Reader answers PT for 198.51.100.7, raises for the rest."""
    import sys
    import types

    from tidings.tracking.collect import networks

    looked_up = []

    class Reader:
        def __init__(self, path):
            assert path == str(tmp_path / "countries.mmdb")

        def country(self, ip):
            looked_up.append(ip)
            if ip != "198.51.100.7":
                raise ValueError("not in the database")
            return types.SimpleNamespace(country=types.SimpleNamespace(iso_code="PT"))

    package = types.ModuleType("geoip2")
    package.database = types.SimpleNamespace(Reader=Reader)
    monkeypatch.setitem(sys.modules, "geoip2", package)
    monkeypatch.setitem(sys.modules, "geoip2.database", package.database)
    monkeypatch.setenv("TIDINGS_GEOIP_PATH", str(tmp_path / "countries.mmdb"))
    networks.geoip.cache_clear()
    yield looked_up
    networks.geoip.cache_clear()


def test_the_country_comes_from_the_full_address_in_memory_and_only_the_network_is_kept(harness, site, fake_maxmind):
    collect(harness, hit(site))
    collect(harness, hit(site), ip="192.0.2.1")

    first, second = harness.records()
    assert fake_maxmind == ["198.51.100.7", "192.0.2.1"]  # the whole address, looked up in memory
    assert (first["cc"], first["ip"]) == ("PT", "198.51.100.0/24")
    assert second["cc"] == ""  # an address the database does not know has no country
    assert "198.51.100.7" not in json.dumps(first)


def test_without_geoip2_installed_a_configured_database_gives_no_country(harness, site, monkeypatch, tmp_path):
    import sys

    from tidings.tracking.collect import networks

    monkeypatch.setitem(sys.modules, "geoip2", None)  # import geoip2 raises ImportError
    monkeypatch.setenv("TIDINGS_GEOIP_PATH", str(tmp_path / "countries.mmdb"))
    networks.geoip.cache_clear()
    try:
        assert collect(harness, hit(site)).status == 202
        assert harness.records()[0]["cc"] == ""
    finally:
        networks.geoip.cache_clear()


def test_a_malformed_payload_is_a_400_with_a_json_error(harness, site):
    response = collect(harness, b"{not json")
    assert response.status == 400 and response.json() == {"ok": 0, "error": "the body is not JSON"}
    assert collect(harness, b"x" * 20000).status == 413


def test_the_rate_limit_per_network_answers_429(harness, site, monkeypatch):
    monkeypatch.setenv("TIDINGS_TRACKING_RATE_PER_NETWORK", "2")
    monkeypatch.setattr(front.PROCESS, "limits", front.Limits())
    statuses = [collect(harness, hit(site)).status for _ in range(6)]
    assert statuses[:4] == [202] * 4 and statuses[-1] == 429
    assert collect(harness, hit(site), ip="192.0.2.1").status == 202  # another network


def test_the_rate_limit_per_site_answers_429(harness, site, monkeypatch):
    monkeypatch.setenv("TIDINGS_TRACKING_RATE_PER_SITE", "1")
    monkeypatch.setattr(front.PROCESS, "limits", front.Limits())
    statuses = [collect(harness, hit(site), ip=f"192.0.{i}.1").status for i in range(4)]
    assert statuses[-1] == 429
    assert collect(harness, hit(site), ip="192.0.9.1").json() == {"ok": 0, "error": "too many hits; slow down"}


def test_the_pixel_is_a_43_byte_gif_others_may_embed_whatever_the_outcome(harness, site):
    good = harness.call(
        "GET", "/t/p.gif", query={"k": site.public_key, "id": client_id(), "u": "https://shop.example/"}
    )
    bad = harness.call("GET", "/t/p.gif", query={"k": "nope"})
    for response in (good, bad):
        assert len(response.content) == 43 and response.content.startswith(b"GIF89a")
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert response.headers["Cache-Control"] == "no-store" and response.headers["Content-Type"] == "image/gif"
    assert (good.status, bad.status) == (200, 400)
    assert len(harness.records()) == 1


def test_preflight_and_wrong_methods(harness):
    response = harness.call("OPTIONS", "/t/collect", headers={"Origin": ORIGIN})
    assert response.status == 204 and response.headers["Access-Control-Allow-Methods"] == "POST"
    assert harness.call("GET", "/t/collect").status == 405


def test_other_paths_go_to_django():
    seen = []
    application = front.make_application(lambda environ, start_response: seen.append(environ["PATH_INFO"]) or [b"dj"])
    assert application({"PATH_INFO": "/accounts/login/", "REQUEST_METHOD": "GET"}, lambda *a: None) == [b"dj"]
    assert seen == ["/accounts/login/"]


def test_mautic_event_answers_in_mautics_shape_without_a_contact_id(harness, site, acme, monkeypatch):
    identified = []
    monkeypatch.setattr(seams, "identify", lambda workspace, **kw: identified.append(sorted(kw["fields"])))
    body = "page_url=https%3A%2F%2Fshop.example%2Fa&page_title=A&email=ada%40analytical.example&utm_campaign=spring"
    response = harness.call("POST", "/m/acme/mtc/event", body=body.encode(), headers={"Origin": ORIGIN})

    assert response.status == 200
    answer = response.json()
    assert (
        answer["success"] == 1
        and answer["id"] is None
        and answer["sid"] == answer["device_id"]
        and answer["events"] == {}
    )
    assert identified == [["email"]]
    (record,) = harness.records()
    assert record["utm"] == ["", "", "spring"] and record["s"] == site.pk
    again = harness.call(
        "GET", "/m/acme/mtc", query={"page_url": "https://shop.example/b", "mautic_device_id": answer["device_id"]}
    )
    assert again.json()["device_id"] == answer["device_id"]
    gif = harness.call(
        "GET", "/m/acme/mtracking.gif", query={"page_url": "https://shop.example/c", "mautic_device_id": answer["sid"]}
    )
    assert gif.status == 200 and len(gif.content) == 43
    assert harness.drain() == 3
    with use_workspace(acme):
        assert TrackingSession.objects.get().hits == 3


def test_mautic_hits_for_another_host_or_workspace_are_refused(harness, site, globex):
    assert harness.call("GET", "/m/acme/mtracking.gif", query={"page_url": "https://evil.example/"}).status == 403
    assert harness.call("GET", "/m/no-such-workspace/mtc", query={"page_url": "https://shop.example/"}).status == 404
    # Globex has no site for shop.example: Acme's site is not reachable through Globex's base URL.
    assert harness.call("GET", f"/m/{globex.slug}/mtc", query={"page_url": "https://shop.example/"}).status == 404


SECRET = "Zq9secretvalueXy"
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.just(SECRET)
JSONISH = st.recursive(
    SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=10
)
FIELDS = st.sampled_from(["k", "id", "t", "u", "r", "n", "p", "f", "c", "v", "gpc", "dnt", "sc", "l", "tz", "hits"])


@settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(data=st.dictionaries(FIELDS, JSONISH, max_size=8), with_key=st.booleans())
def test_any_json_gives_a_2xx_or_4xx_and_never_echoes_a_value(harness, site, data, with_key):
    if with_key:
        data["k"] = site.public_key
    response = collect(harness, json.dumps(data).encode())
    assert 200 <= response.status < 500
    assert SECRET.encode() not in response.content


@settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_give_a_4xx(harness, site, raw):
    response = collect(harness, raw)
    assert 400 <= response.status < 500


@settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(
    query=st.text(max_size=200),
    path=st.sampled_from(["/t/p.gif", "/m/acme/mtracking.gif", "/m/acme/mtc", "/m/acme/mtc/event"]),
)
def test_any_query_string_gives_a_2xx_or_4xx_and_never_echoes_a_value(harness, site, query, path):
    response = harness.call("GET", path, query=query + "&x=" + SECRET)
    assert 200 <= response.status < 500
    assert SECRET.encode() not in response.content
    assert not re.search(rb"Traceback", response.content)
