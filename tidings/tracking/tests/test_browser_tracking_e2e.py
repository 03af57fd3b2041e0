"""Issue 10's "Done when", end to end in a real headless Chromium against the real collect endpoint.

A customer page on a loopback test site (http://localhost:<port>, browser_site.py) carries the
snippet pointed at Tidings (http://127.0.0.1:<port>, another origin: CORS applies), served the way
production serves it: the collect front (tidings.tracking.collect.front, H-ingest) in front of
Django, which serves /t.js. Its spool is drained by the process's flusher thread, so the tests poll.

    (a) a page view is recorded;
    (b) with GPC on, no cookie is set and no profile is created;
    (c) after consent and identification the visit history joins the contact, through the tracker's
        ``identify`` call. "After consent and a form submission" is the same path through a form:
        tidings/forms/tests/test_browser_e2e.py.

The script's own behaviour is tested against a fake endpoint in test_browser_tracking_script.py; the
live server and the customer's site are tidings.tracking.tests.live_front's fixtures.
"""

from __future__ import annotations

import time

from tidings.tracking.tests.browser_site import page, snippet
from tidings.tracking.tests.live_front import eventually, read
from tidings.web.tests.browser import browser_test

pytestmark = browser_test

GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


def make_site(acme, consent_mode: str):
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.models import Site, new_public_key

    with use_workspace(acme):
        return Site.objects.create(
            name="Acme shop", public_key=new_public_key(acme.region), domains=["localhost"], consent_mode=consent_mode
        )


def open_shop(tab, customer_site, tidings_server, site, *, extra: str = "") -> str:
    customer_site.pages["/"] = page("Spring programme", head=snippet(tidings_server, site.public_key) + extra)
    customer_site.pages["*"] = customer_site.pages["/"]
    url = customer_site.page_url("/")
    tab.goto(url)
    return url


def stored_token(tab, customer_site) -> str | None:
    cookies = {c["name"]: c["value"] for c in tab.context.cookies(customer_site.page_url())}
    return cookies.get("_tdv")


def visitor_of(token: str) -> int:
    return int(token.split(".")[0])


def page_hits(acme, **filters):
    from tidings.events.models import Event
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.event_types import PAGE_HIT

    with use_workspace(acme):
        return list(Event.objects.filter(type=PAGE_HIT, **filters).values("visitor_id", "contact_id", "data"))


def test_a_page_view_is_recorded(acme, tidings_server, customer_site, tab):
    """(a) A legitimate-interest site: the first page view gets a visitor id and a page.hit event."""
    site = make_site(acme, "legitimate_interest")
    open_shop(tab, customer_site, tidings_server, site)
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    token = stored_token(tab, customer_site)
    assert tab.evaluate("() => localStorage.getItem('_tdv')") == token
    visitor = visitor_of(token)
    eventually(lambda: page_hits(acme, visitor_id=visitor), what="the page.hit event of the visitor")
    assert not tab.context.cookies("http://127.0.0.1")  # nothing on Tidings' own host: no third-party cookie


def test_with_gpc_no_cookie_is_set_and_no_profile_is_created(acme, tidings_server, customer_site, tab):
    """(b) The same site, a browser with Global Privacy Control: counted cookielessly at most."""
    from tidings.events.models import Visitor
    from tidings.tenancy.context import use_workspace

    site = make_site(acme, "legitimate_interest")
    tab.add_init_script(GPC_ON)
    with tab.expect_response(lambda r: r.url.endswith("/t/collect")) as collected:
        open_shop(tab, customer_site, tidings_server, site)
    assert collected.value.status == 202
    assert collected.value.json() == {"ok": 1, "v": None}
    tab.evaluate("() => { history.pushState({}, '', '/pricing'); tidings('event', 'looked'); }")
    time.sleep(2.5)  # two flusher intervals: whatever would be written is written
    assert not tab.context.cookies()
    assert tab.evaluate("() => localStorage.length") == 0
    with use_workspace(acme):
        assert not read(Visitor.objects.exists)
    assert not read(lambda: page_hits(acme))


def test_after_consent_and_identification_the_visit_history_joins_the_contact(acme, tidings_server, customer_site, tab):
    """(c) A consent site: nothing is profiled until the banner's consent; identify then joins the history."""
    from tidings.events.models import Visitor
    from tidings.events.selectors import contact_events
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.event_types import PAGE_HIT

    site = make_site(acme, "consent")
    with tab.expect_response(lambda r: r.url.endswith("/t/collect")) as first:
        open_shop(tab, customer_site, tidings_server, site)
    assert first.value.json()["v"] is None  # no consent yet: not profiled, nothing stored
    assert stored_token(tab, customer_site) is None

    tab.evaluate("() => tidings('consent', {tracking: true})")  # the site's own banner, accepted
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    visitor = visitor_of(stored_token(tab, customer_site))
    tab.evaluate("() => { history.pushState({}, '', '/pricing'); document.title = 'Pricing'; }")
    eventually(lambda: page_hits(acme, visitor_id=visitor), what="the consented visitor's page.hit")

    tab.evaluate("() => tidings('identify', {email: 'ada@lovelace.example', firstname: 'Ada'})")

    def contact_of_visitor():
        with use_workspace(acme):
            return Visitor.objects.filter(pk=visitor).values_list("contact_id", flat=True).first()

    contact_id = eventually(contact_of_visitor, what="the visitor identified as a contact")
    with use_workspace(acme):
        history = read(lambda: list(contact_events(contact_id, [PAGE_HIT]).values("visitor_id")))
    assert history and all(row["visitor_id"] == visitor for row in history)


def test_mautics_snippet_records_a_page_view(acme, tidings_server, customer_site, tab):
    """Mautic's embed code, unchanged, against the workspace's /m/<slug>/ base."""
    from tidings.tracking.tests.browser_site import MAUTIC_SNIPPET

    make_site(acme, "legitimate_interest")
    head = MAUTIC_SNIPPET.replace("MTC_URL", f"{tidings_server}/m/{acme.slug}/mtc.js")
    customer_site.pages["/"] = page("Mautic page", head=head + "<script>mt('send', 'pageview');</script>")
    with tab.expect_response(lambda r: r.url.endswith("/mtc/event")) as answered:
        tab.goto(customer_site.page_url("/"))
    answer = answered.value.json()
    assert answer["success"] == 1 and answer["id"] is None
    tab.wait_for_function("() => localStorage.getItem('mautic_device_id')")
    device = tab.evaluate("() => localStorage.getItem('mautic_device_id')")
    assert device == answer["device_id"]
    eventually(lambda: page_hits(acme, visitor_id=visitor_of(device)), what="the Mautic page view's page.hit")
