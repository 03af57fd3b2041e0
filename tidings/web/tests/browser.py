"""Browser tests in a real Chromium: fixtures and helpers (a pytest plugin, loaded by /conftest.py).

One headless Chromium per test session (Debian's package, never a downloaded build), driven by
Playwright against pytest-django's live server on 127.0.0.1. A module of browser tests starts with

    pytestmark = browser_test

and asks for ``alice_page`` (a page signed in as alice, owner of Acme) or ``browser_page`` (signed out).
Helpers: ``visit`` (opens a path and fails on a CSP violation or a console error), ``assert_accessible``
(axe-core: no serious or critical violation, colour contrast included), ``assert_no_horizontal_overflow``,
``assert_screenshot`` (compares with a stored PNG; TIDINGS_UPDATE_SCREENSHOTS=1 rewrites them).

Without Chromium (or Playwright) the tests skip with the reason, unless TIDINGS_TEST_REQUIRE_BROWSER is
set (bin/test sets it): then they fail, so CI never passes by skipping them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).parent
AXE_SOURCE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
DOCS_SCREENSHOTS = HERE.parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--font-render-hinting=none",  # the same glyph shapes on every run, for the screenshots
    # Test sites on made-up .example hosts (a cookie shared across subdomains needs a dotted domain) are
    # this machine; nothing under .example ever reaches a network.
    "--host-resolver-rules=MAP *.example 127.0.0.1",
]
# A screenshot may differ from the stored one in this share of its pixels (anti-aliasing noise).
SCREENSHOT_TOLERANCE = 0.01
# Two pixels differ when a channel differs by more than this (0-255).
PIXEL_THRESHOLD = 24

browser_test = [
    pytest.mark.browser,
    # The live server answers from another thread: the data must be committed, and ids start at 1
    # so that the pages (and their screenshots) are the same on every run.
    pytest.mark.django_db(transaction=True, reset_sequences=True, databases="__all__"),
]


def _unavailable(reason: str):
    if os.environ.get("TIDINGS_TEST_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and TIDINGS_TEST_REQUIRE_BROWSER is set")
    pytest.skip(f"{reason}: install Debian's chromium and the test extras (bin/test does)")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Return the path of the system Chromium (TIDINGS_CHROMIUM, or chromium on PATH)."""
    path = shutil.which(os.environ.get("TIDINGS_CHROMIUM") or "chromium") or shutil.which("chromium-browser")
    if not path:
        _unavailable("no chromium executable found (TIDINGS_CHROMIUM, or chromium on PATH)")
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_executable):
    """Start one headless Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
    # with a running loop, although the test code itself is synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class ConsoleProblems(list):
    """The CSP violations and errors a page reported on its console."""


@pytest.fixture
def browser_page(browser, live_server):
    """Return a fresh page (own cookies) at 1366 x 900, light colour scheme, against the live server."""
    context = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, color_scheme="light", reduced_motion="reduce", locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = ConsoleProblems()
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.console_problems = problems
    yield page
    context.close()


def sign_in(page, user, live_server) -> None:
    """Give page a session of user (as Django's test client would), without the sign-in form."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def alice_page(browser_page, alice, live_server):
    """Return a page signed in as alice, owner of Acme (EU)."""
    sign_in(browser_page, alice, live_server)
    return browser_page


def visit(page, path: str, *, status: int = 200):
    """Open path; fail on another status, a CSP violation or a script error on the console."""
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    assert not page.console_problems, f"{path} reported: {list(page.console_problems)}"
    return response


def assert_accessible(page, *, impacts=("serious", "critical")) -> None:
    """Run axe-core on the page and fail on any violation of the given impacts (contrast included)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate(
        """async () => await axe.run(document, {resultTypes: ["violations"],
             runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
    )
    found = [v for v in result["violations"] if v["impact"] in impacts]
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(f"{' '.join(n['target'])}: {n.get('failureSummary', '')}" for n in v["nodes"][:5])
        for v in found
    ]
    assert not found, f"axe found {len(found)} violations on {page.url}:\n" + "\n".join(lines)


def assert_no_horizontal_overflow(page) -> None:
    """Fail when the page is wider than the viewport (it would scroll sideways)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url} is {width} px wide in a {viewport} px viewport"


def diff_ratio(expected, actual) -> float:
    """Return the share of pixels that differ between two images of the same size (Pillow images)."""
    from PIL import ImageChops

    difference = ImageChops.difference(expected.convert("RGB"), actual.convert("RGB")).convert("L")
    histogram = difference.histogram()
    changed = sum(histogram[PIXEL_THRESHOLD + 1 :])
    return changed / (expected.width * expected.height)


def assert_screenshot(page, name: str, *, mask=()) -> None:
    """Compare a full-page screenshot with screenshots/<name>.png within SCREENSHOT_TOLERANCE.

    With TIDINGS_UPDATE_SCREENSHOTS=1 the stored PNG (and its copy in docs/screenshots/) is rewritten
    instead. On a mismatch the new screenshot is written next to the test run's temporary files.
    """
    import io

    from PIL import Image

    png = page.screenshot(full_page=True, animations="disabled", caret="hide", mask=list(mask))
    actual = Image.open(io.BytesIO(png))
    stored = SCREENSHOTS / f"{name}.png"
    if os.environ.get("TIDINGS_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        actual.save(stored, optimize=True)
        shutil.copyfile(stored, DOCS_SCREENSHOTS / f"{name}.png")
        return
    assert stored.exists(), f"no stored screenshot {stored}: run with TIDINGS_UPDATE_SCREENSHOTS=1 to create it"
    expected = Image.open(stored)
    if expected.size != actual.size:
        ratio = 1.0
    else:
        ratio = diff_ratio(expected, actual)
    if ratio > SCREENSHOT_TOLERANCE:
        out = Path(os.environ.get("TIDINGS_VAR_DIR") or tempfile.gettempdir()) / "screenshot-diffs"
        out.mkdir(parents=True, exist_ok=True)
        actual.save(out / f"{name}.png")
        raise AssertionError(
            f"{name}: {ratio:.2%} of pixels differ (sizes {expected.size} vs {actual.size}); the new screenshot "
            f"is {out / (name + '.png')}. If the change is intended, rerun with TIDINGS_UPDATE_SCREENSHOTS=1."
        )


SHOWCASE_PEOPLE = [
    ("Ada", "Quillfeather", "ada@analytical.example", "London", "GB", ["mathematics", "vip"]),
    ("Bram", "Okonkwo", "bram@lumen.example", "Utrecht", "NL", ["newsletter"]),
    ("Chiara", "Vellacott", "chiara@lumen.example", "Milan", "IT", ["newsletter", "vip"]),
    ("Dmitri", "Halvorsen", "dmitri@fjord.example", "Bergen", "NO", []),
    ("Elif", "Marchetti", "elif@fjord.example", "Izmir", "TR", ["trial"]),
    ("Femi", "Adeyemi-Strand", "femi@harbour.example", "Lagos", "NG", ["newsletter"]),
    ("Greta", "Lindqvist", "greta@harbour.example", "Malmö", "SE", ["trial", "vip"]),
    ("Hiro", "Tanabe", "hiro@kestrel.example", "Osaka", "JP", []),
]
SHOWCASE_TIME = "2026-03-02 09:30:00"


@pytest.fixture
def showcase(acme, alice):
    """Fill Acme with the same made-up data on every run: 8 contacts, a company, notes, tags, Do-Not-Contact.

    Created at SHOWCASE_TIME (frozen) with ids from 1 (browser_test resets sequences), so pages that show
    dates and ids look the same in every screenshot. Returns the first contact (Ada).
    """
    from freezegun import freeze_time

    from tidings.contacts import actions
    from tidings.contacts.models import Channel
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with freeze_time(SHOWCASE_TIME), use_workspace(acme):
        principal = system(acme)
        company = actions.company_create({"companyname": "Lumen Studios"}, principal=principal)
        contacts = [
            actions.contact_create(
                {"firstname": first, "lastname": last, "email": email, "city": city, "country": country},
                tags=tags,
                principal=principal,
            )
            for first, last, email, city, country, tags in SHOWCASE_PEOPLE
        ]
        ada = contacts[0]
        actions.company_link(ada.id, company.id, is_primary=True, principal=principal)
        actions.note_add(ada.id, "Asked for the spring programme; call back in April.", principal=principal)
        actions.dnc_add(ada.id, channel=Channel.SMS, principal=principal)
    return ada
