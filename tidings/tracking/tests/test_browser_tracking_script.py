"""t.js and mtc.js in a real headless Chromium, against a fake Tidings that records what it receives.

The page (http://localhost:<port>) and the endpoint (http://127.0.0.1:<port>) are different origins,
so the browser applies CORS as on a customer's site. These tests check the scripts' side of the wire
contract (payload shapes, the transports and their fallbacks, single-page-app route changes, the
queue, GPC/DNT and the visitor id's storage); test_browser_tracking_e2e.py runs the same snippet
against the real collect endpoint. None of these needs the real endpoint.
"""

from __future__ import annotations

import re

import pytest

from tidings.tracking.tests.browser_site import MAUTIC_SNIPPET, LoopbackSite, page, snippet, start

pytestmark = [pytest.mark.browser]

SITE_KEY = "eu_test-site-key-0123456789ab"
VISITOR = "8214630017.kQ3x_9Zp-a1B"  # the shape the real endpoint hands out: "<id>.<signature>"
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
DNT_ON = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});"
FETCH_FAILS = "window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));"
BEACON_FAILS = "Navigator.prototype.sendBeacon = function () { return false; };"


@pytest.fixture
def site():
    site = LoopbackSite()
    server, thread = start(site)
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", viewport={"width": 1024, "height": 700})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def tab(context):
    tab = context.new_page()
    tab.console_problems = []
    tab.on("console", lambda m: tab.console_problems.append(m.text) if m.type in {"error", "warning"} else None)
    tab.on("pageerror", lambda error: tab.console_problems.append(str(error)))
    return tab


def shop(site: LoopbackSite, *, extra: str = "", title: str = "Spring programme", path: str = "/") -> str:
    """Put a page with the snippet (plus extra script) on the site, pointed at the fake Tidings; return its URL."""
    site.pages[path] = page(title, head=snippet(site.fake_base, SITE_KEY) + extra)
    return site.page_url(path)


def stored_id(tab, site) -> tuple[str | None, str | None]:
    cookies = {c["name"]: c["value"] for c in tab.context.cookies(site.page_url())}
    return cookies.get("_tdv"), tab.evaluate("() => localStorage.getItem('_tdv')")


def pageviews(site):
    return [hit for hit in site.hits() if hit["t"] == "pageview"]


# ---- the page view and its payload ----


def test_loading_a_page_sends_one_page_view_with_the_contract_fields(site, tab):
    url = shop(site)
    tab.goto(url, referer="https://search.example/?q=spring")
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.wait_for_timeout(300)  # the snippet's queued pageview and the automatic one must not both go
    [hit] = pageviews(site)
    assert hit["k"] == SITE_KEY
    assert CLIENT_ID.match(hit["id"])
    assert hit["u"] == url
    assert hit["r"] == "https://search.example/?q=spring"
    assert hit["ti"] == "Spring programme"
    assert hit["l"] == "en-GB"
    assert hit["tz"] == "Europe/London"
    assert re.match(r"^\d+x\d+$", hit["sc"])
    assert "v" not in hit and "gpc" not in hit and "dnt" not in hit
    assert not tab.console_problems


def test_hits_are_simple_cors_requests_without_cookies(site, tab):
    """text/plain JSON: no preflight; credentials omitted: nothing of Tidings' own cookies travels."""
    tab.context.add_cookies([{"name": "tidings_session", "value": "secret", "url": site.fake_base}])
    tab.goto(shop(site))
    site.wait_for(lambda: site.requests("/t/collect"), what="a collect POST")
    [post] = site.requests("/t/collect")
    assert post.headers["content-type"] == "text/plain;charset=UTF-8"
    assert post.headers["origin"] == site.page_url("").rstrip("/")
    assert "cookie" not in post.headers
    assert not [r for r in site.received if r.method == "OPTIONS"]


def test_every_hit_has_its_own_random_client_id(site, tab):
    tab.goto(shop(site, extra="<script>tidings('event','a');tidings('event','b');</script>"))
    site.wait_for(lambda: len(site.hits()) >= 3, what="three hits")
    ids = [hit["id"] for hit in site.hits()]
    assert len(set(ids)) == len(ids) == 3
    assert all(CLIENT_ID.match(i) for i in ids)


# ---- the queue API ----


def test_calls_queued_before_the_script_loads_are_sent_in_order_then_the_live_function_takes_over(site, tab):
    queued = (
        "<script>tidings('event','signup',{plan:'pro'});"
        "tidings('consent',{tracking:true,marketing_email:false,x:'no'});</script>"
    )
    tab.goto(shop(site, extra=queued))
    site.wait_for(lambda: len(site.hits()) >= 3, what="the queued hits")
    assert tab.evaluate("() => tidings.loaded === true && !tidings.q")
    tab.evaluate("() => tidings('identify', {email: 'ada@lovelace.example', firstname: 'Ada', age: 36, x: {a: 1}})")
    site.wait_for(lambda: len(site.hits()) >= 4, what="the identify hit")
    pageview, event, consent, identify = site.hits()
    assert pageview["t"] == "pageview"
    assert (event["t"], event["n"], event["p"]) == ("event", "signup", {"plan": "pro"})
    assert (consent["t"], consent["c"]) == ("consent", {"tracking": True, "marketing_email": False})
    assert identify["t"] == "identify"
    assert identify["f"] == {"email": "ada@lovelace.example", "firstname": "Ada", "age": "36"}


def test_a_bad_event_name_is_not_sent(site, tab):
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.evaluate("() => { tidings('event', 'no spaces allowed'); tidings('event', 'ok.name'); }")
    site.wait_for(lambda: len(site.hits()) >= 2, what="the valid event")
    tab.wait_for_timeout(200)
    assert [hit.get("n") for hit in site.hits()] == [None, "ok.name"]
    assert any("event name" in problem for problem in tab.console_problems)


def test_an_explicit_pageview_may_name_its_url_and_title(site, tab):
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.evaluate("() => tidings('pageview', {url: '/virtual/step-2', title: 'Step 2'})")
    site.wait_for(lambda: len(pageviews(site)) == 2, what="the virtual page view")
    second = pageviews(site)[1]
    assert (second["u"], second["ti"]) == (site.page_url("/virtual/step-2"), "Step 2")


# ---- single-page apps ----


def test_route_changes_of_a_single_page_app_are_page_views_once_per_url(site, tab):
    url = shop(site)
    tab.goto(url)
    site.wait_for(lambda: pageviews(site), what="the first page view")
    tab.evaluate("() => { history.pushState({}, '', '/pricing'); document.title = 'Pricing'; }")
    site.wait_for(lambda: len(pageviews(site)) == 2, what="the pushState page view")
    tab.evaluate("() => history.replaceState({scroll: 10}, '', '/pricing')")  # same URL: not a new page
    tab.evaluate("() => history.replaceState({}, '', '/pricing#plans')")  # a fragment: not a new page
    tab.evaluate("() => history.back()")
    site.wait_for(lambda: len(pageviews(site)) == 3, what="the popstate page view")
    tab.wait_for_timeout(300)
    first, pricing, back = pageviews(site)
    assert (pricing["u"], pricing["ti"], pricing["r"]) == (site.page_url("/pricing"), "Pricing", url)
    assert back["u"] == url
    assert len(pageviews(site)) == 3


def test_automatic_page_views_can_be_turned_off(site, tab):
    manual = """<script>
    (function(d){var s=d.createElement('script');s.src='BASE/t.js';s.setAttribute('data-site','KEY');
    s.setAttribute('data-endpoint','BASE');s.setAttribute('data-auto','0');d.head.appendChild(s)})(document);
    </script>""".replace("BASE", site.fake_base).replace("KEY", SITE_KEY)
    site.pages["/"] = page("Manual", head=manual)
    tab.goto(site.page_url("/"))
    tab.wait_for_function("() => window.tidings && window.tidings.loaded")
    tab.evaluate("() => { history.pushState({}, '', '/next'); tidings('event', 'only.this'); }")
    site.wait_for(lambda: site.hits(), what="the event")
    tab.wait_for_timeout(300)
    assert [hit["t"] for hit in site.hits()] == ["event"]


# ---- the visitor id ----


def test_a_visitor_id_the_server_hands_out_is_stored_first_party_and_sent_back(site, tab):
    site.visitor_id = VISITOR
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    assert stored_id(tab, site) == (VISITOR, VISITOR)
    cookie = next(c for c in tab.context.cookies(site.page_url()) if c["name"] == "_tdv")
    assert cookie["domain"] == "localhost"  # the page's own domain, never Tidings'
    assert cookie["sameSite"] == "Lax" and not cookie["httpOnly"]
    assert cookie["expires"] > tab.evaluate("() => Date.now() / 1000 + 364 * 86400")
    tab.evaluate("() => tidings('event', 'next')")
    site.wait_for(lambda: len(site.hits()) == 2, what="the event")
    assert site.hits()[1]["v"] == VISITOR
    assert not tab.context.cookies(site.fake_base)


def test_a_cookie_domain_shares_the_id_with_the_sites_subdomains_and_is_ignored_elsewhere(site, tab):
    site.visitor_id = VISITOR
    site.allowed_origin_host = "www.shop.example"
    endpoint = "s.setAttribute('data-endpoint',u);"
    shared = snippet(site.fake_base, SITE_KEY).replace(
        endpoint, endpoint + "s.setAttribute('data-cookie-domain','.shop.example');"
    )
    site.pages["/"] = page("Spring programme", head=shared)
    tab.goto(f"http://www.shop.example:{site.port}/")
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    cookie = next(c for c in tab.context.cookies(f"http://www.shop.example:{site.port}/") if c["name"] == "_tdv")
    assert cookie["domain"] == ".shop.example"  # blog.shop.example reads it too
    assert tab.context.cookies(f"http://blog.shop.example:{site.port}/")[0]["value"] == VISITOR

    # The same snippet on a page of another domain stores a host-only id, as without the attribute.
    site.allowed_origin_host = "localhost"
    tab.goto(site.page_url())
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    assert next(c for c in tab.context.cookies(site.page_url()) if c["name"] == "_tdv")["domain"] == "localhost"


def test_a_null_answer_deletes_the_stored_id(site, tab):
    site.visitor_id = VISITOR
    tab.goto(shop(site))
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    site.visitor_id = None  # e.g. the visitor withdrew consent elsewhere
    tab.evaluate("() => tidings('event', 'next')")
    tab.wait_for_function("() => !document.cookie.includes('_tdv=')")
    assert stored_id(tab, site) == (None, None)


def test_withdrawing_consent_forgets_the_id_at_once(site, tab):
    site.visitor_id = VISITOR
    tab.goto(shop(site))
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    tab.evaluate("() => tidings('consent', {tracking: false})")
    assert stored_id(tab, site) == (None, None)


def test_an_answer_that_is_not_a_plain_id_is_not_stored(site, tab):
    site.visitor_id = "x; Domain=example.com"
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.wait_for_timeout(300)
    assert stored_id(tab, site) == (None, None)


@pytest.mark.parametrize(("signal", "init", "flag"), [("GPC", GPC_ON, "gpc"), ("DNT", DNT_ON, "dnt")])
def test_with_a_privacy_signal_the_hits_say_so_and_no_id_is_ever_stored(site, tab, signal, init, flag):
    tab.add_init_script(init)
    site.visitor_id = VISITOR  # even if the server answered an id, the script would not keep it
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.evaluate("() => tidings('event', 'after')")
    site.wait_for(lambda: len(site.hits()) == 2, what="the event")
    tab.wait_for_timeout(200)
    assert all(hit[flag] == 1 for hit in site.hits())
    assert all("v" not in hit for hit in site.hits())
    assert stored_id(tab, site) == (None, None)
    assert not tab.context.cookies()


def test_with_gpc_an_id_stored_earlier_is_sent_once_to_record_the_withdrawal_then_deleted(site, tab):
    """The server writes the honoured signal to the ledger for the visitor, then answers null."""
    site.pages["/before"] = page("Before GPC")  # a page of the site's origin, without the tracker
    tab.goto(site.page_url("/before"))
    tab.evaluate(f"() => {{ document.cookie = '_tdv={VISITOR}; Path=/'; localStorage.setItem('_tdv', '{VISITOR}'); }}")
    tab.add_init_script(GPC_ON)
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.wait_for_function("() => !document.cookie.includes('_tdv=')")
    [hit] = pageviews(site)
    assert (hit["v"], hit["gpc"]) == (VISITOR, 1)
    assert stored_id(tab, site) == (None, None)


# ---- transports and fallbacks ----


def test_when_the_browser_refuses_the_answer_the_same_hit_goes_by_beacon(site, tab):
    """CORS refused (no Access-Control-Allow-Origin): fetch fails, sendBeacon resends the same client id."""
    site.cors = False
    tab.goto(shop(site))
    site.wait_for(lambda: len(site.requests("/t/collect")) >= 2, what="the fetch and the beacon")
    fetched, beaconed = site.requests("/t/collect")[:2]
    assert fetched.json()["id"] == beaconed.json()["id"]  # idempotent by the client event id
    assert beaconed.headers["content-type"].lower() == "text/plain;charset=utf-8"
    assert not site.requests("/t/p.gif")


def test_when_fetch_and_beacon_both_fail_page_views_and_events_go_by_pixel(site, tab):
    tab.add_init_script(FETCH_FAILS + BEACON_FAILS)
    tab.goto(shop(site, extra="<script>tidings('event','signup',{plan:'pro'});</script>"))
    site.wait_for(lambda: len(site.requests("/t/p.gif")) >= 2, what="two pixels")
    by_type = {r.query["t"]: r.query for r in site.requests("/t/p.gif")}  # two images load in any order
    pageview, event = by_type["pageview"], by_type["event"]
    assert pageview["k"] == SITE_KEY and pageview["t"] == "pageview" and CLIENT_ID.match(pageview["id"])
    assert pageview["u"] == site.page_url("/") and pageview["ti"] == "Spring programme"
    assert (event["t"], event["n"]) == ("event", "signup")
    assert "p" not in event  # props do not travel in a URL
    assert not site.requests("/t/collect")


def test_identify_and_consent_never_go_into_a_url(site, tab):
    tab.add_init_script(FETCH_FAILS + BEACON_FAILS)
    tab.goto(shop(site))
    site.wait_for(lambda: site.requests("/t/p.gif"), what="the page view pixel")
    tab.evaluate("() => tidings('identify', {email: 'ada@lovelace.example'})")
    tab.evaluate("() => tidings('consent', {tracking: true})")
    tab.evaluate("() => tidings('event', 'after')")
    site.wait_for(lambda: len(site.requests("/t/p.gif")) >= 2, what="the event pixel")
    assert sorted(r.query["t"] for r in site.requests("/t/p.gif")) == ["event", "pageview"]
    assert not any("lovelace" in r.path + str(r.query) for r in site.received)


def test_hits_pending_when_the_page_is_left_are_handed_to_the_browser(site, tab):
    """Queued behind the first request, these would die with the page: pagehide gives them to sendBeacon."""
    tab.goto(shop(site, extra="<script>for (let i = 0; i < 5; i++) tidings('event', 'leave' + i);</script>"))
    site.pages["/elsewhere"] = "<!doctype html><title>Elsewhere</title>"
    tab.goto(site.page_url("/elsewhere"))
    site.wait_for(lambda: len({hit["id"] for hit in site.hits()}) >= 6, what="the page view and five events")
    names = sorted({hit.get("n") for hit in site.hits() if hit["t"] == "event"})
    assert names == [f"leave{i}" for i in range(5)]


def test_hits_queued_together_after_the_first_answer_travel_as_one_batch(site, tab):
    tab.goto(shop(site))
    site.wait_for(lambda: pageviews(site), what="a page view")
    tab.wait_for_timeout(200)
    tab.evaluate("() => { for (let i = 0; i < 4; i++) tidings('event', 'e' + i); }")
    site.wait_for(lambda: len(site.hits()) == 5, what="four events")
    posts = site.requests("/t/collect")
    assert len(posts) <= 3  # the first event alone (nothing in flight), the rest batched behind it
    batch = posts[-1].json()
    assert batch["k"] == SITE_KEY and len(batch["hits"]) >= 2


# ---- the script served by Tidings itself ----


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_tracker_loads_from_tidings_on_another_origin(site, tab, live_server):
    """The real /t.js view (CORP cross-origin) on a customer page; hits go where data-endpoint says."""
    loader = f"""<script>
    (function(d){{var s=d.createElement('script');s.src='{live_server.url}/t.js';
    s.setAttribute('data-site','{SITE_KEY}');s.setAttribute('data-endpoint','{site.fake_base}');
    d.head.appendChild(s)}})(document);
    </script>"""
    site.pages["/"] = page("From Tidings", head=loader)
    with tab.expect_response(lambda r: r.url.endswith("/t.js")) as script:
        tab.goto(site.page_url("/"))
    assert script.value.status == 200
    assert script.value.headers["cross-origin-resource-policy"] == "cross-origin"
    site.wait_for(lambda: pageviews(site), what="a page view")
    assert pageviews(site)[0]["ti"] == "From Tidings"


# ---- Mautic's snippet ----


def mautic_page(site, *, calls: str, slug: str = "acme") -> str:
    head = MAUTIC_SNIPPET.replace("MTC_URL", f"{site.fake_base}/m/{slug}/mtc.js") + f"<script>{calls}</script>"
    site.pages["/"] = page("Mautic page", head=head)
    return site.page_url("/")


def test_mautic_snippet_posts_mautics_parameters_to_the_workspace_base(site, tab):
    url = mautic_page(site, calls="mt('send', 'pageview', {email: 'ada@lovelace.example', utm_source: 'spring'});")
    tab.goto(url, referer="https://search.example/results?q=x")
    site.wait_for(lambda: site.requests("/m/acme/mtc/event"), what="an mtc/event POST")
    [post] = site.requests("/m/acme/mtc/event")
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "cookie" not in post.headers
    form = post.form()
    assert form["page_url"] == url
    assert form["page_title"] == "Mautic page"
    assert (form["page_language"], form["preferred_locale"]) == ("en-GB", "en_GB")
    assert form["page_referrer"] == "search.example"  # the host only, as Mautic sends it
    assert form["counter"] == "0"
    assert form["timezone"] == "Europe/London"
    assert re.match(r"^-?\d+$", form["timezone_offset"])
    assert re.match(r"^\d+x\d+$", form["resolution"])
    assert form["platform"] in {"Windows", "MacOS", "UNIX", "Linux", "Unknown OS"}
    assert form["do_not_track"] == "false"
    assert (form["email"], form["utm_source"]) == ("ada@lovelace.example", "spring")
    assert "mautic_device_id" not in form
    assert not [r for r in site.received if r.method == "OPTIONS"]


def test_mautic_device_id_is_kept_only_when_the_answer_gives_one(site, tab):
    site.visitor_id = "dev0123456789abcdefghij"
    tab.goto(mautic_page(site, calls="mt('send', 'pageview');"))
    tab.wait_for_function("() => localStorage.getItem('mautic_device_id')")
    tab.evaluate("() => mt('send', 'pageview', {page_title: 'Second'})")
    site.wait_for(lambda: len(site.requests("/m/acme/mtc/event")) == 2, what="the second page view")
    second = site.requests("/m/acme/mtc/event")[1].form()
    assert (second["mautic_device_id"], second["counter"], second["page_title"]) == (
        "dev0123456789abcdefghij",
        "1",
        "Second",
    )
    assert "mtc_id" not in tab.evaluate("() => Object.keys(localStorage)")
    site.visitor_id = None
    tab.evaluate("() => mt('send', 'pageview')")
    tab.wait_for_function("() => localStorage.getItem('mautic_device_id') === null")
    assert not tab.context.cookies()


def test_mautic_snippet_falls_back_to_the_tracking_gif(site, tab):
    tab.add_init_script(FETCH_FAILS)
    loaded = "window.pixelLoaded = false; mt('send', 'pageview', {}, {onload: () => { window.pixelLoaded = true; }});"
    tab.goto(mautic_page(site, calls=loaded))
    site.wait_for(lambda: site.requests("/m/acme/mtracking.gif"), what="the tracking gif")
    query = site.requests("/m/acme/mtracking.gif")[0].query
    assert query["page_url"] == site.page_url("/") and query["counter"] == "0"
    tab.wait_for_function("() => window.pixelLoaded === true")


def test_mautic_snippet_with_dnt_sends_it_and_keeps_no_device_id(site, tab):
    tab.add_init_script(DNT_ON)
    site.visitor_id = "dev0123456789abcdefghij"
    tab.goto(mautic_page(site, calls="mt('send', 'pageview');"))
    site.wait_for(lambda: site.requests("/m/acme/mtc/event"), what="an mtc/event POST")
    tab.wait_for_timeout(200)
    assert site.requests("/m/acme/mtc/event")[0].form()["do_not_track"] == "true"
    assert tab.evaluate("() => localStorage.getItem('mautic_device_id')") is None
