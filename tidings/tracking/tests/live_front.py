"""The real front on a loopback server and a customer's site beside it: fixtures of the end-to-end browser tests.

    from tidings.tracking.tests.live_front import eventually, read  (fixtures: a plugin of the root conftest)

``tidings_server`` serves Tidings as production does (the collect front, then Django with its static
files) on 127.0.0.1 and sets TIDINGS_BASE_URL to it; ``customer_site`` is a LoopbackSite on localhost
(another origin); ``read`` and ``eventually`` poll the test database while the front's flusher thread
writes it.
"""

from __future__ import annotations

import time

import pytest

from tidings.tracking.tests.browser_site import LoopbackSite, start


@pytest.fixture
def tidings_server(settings, monkeypatch):
    """Serve Tidings as production does: the collect front, then Django (static files too), on 127.0.0.1."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    from tidings.tracking.collect import front

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.TIDINGS_TRACKING_ALLOW_HEADLESS = True  # the bot filter lets this test's HeadlessChrome through
    # No orphan recovery at start: its thread would write the shared in-memory database while the test
    # creates its site, and SQLite's shared cache answers "table is locked" at once instead of waiting.
    # Recovery has its own tests (test_collect_persist).
    monkeypatch.setattr(front, "_recover", lambda: None)
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    thread = LiveServerThread(
        "127.0.0.1", lambda app: front.make_application(StaticFilesHandler(app)), connections_override=shared
    )
    thread.daemon = True
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    base = f"http://127.0.0.1:{thread.port}"
    settings.TIDINGS_BASE_URL = base  # links Tidings writes (a confirmation email's) point at this server
    yield base
    thread.terminate()
    # The front's flusher thread belongs to the process; stop it while the test may still use the
    # database (it drains what is left), and let the next test's first hit start a new one.
    process = getattr(front, "PROCESS", None)
    if process is not None and getattr(process, "flusher", None) is not None:
        process.flusher.stop()
        process.pid = -1
    for connection in shared.values():
        connection.dec_thread_sharing()


@pytest.fixture
def customer_site():
    site = LoopbackSite()
    server, thread = start(site)
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def tab(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def read(query, *, timeout: float = 10.0):
    """Return query(), retried while the flusher's thread writes the table it reads.

    SQLite's shared in-memory cache (the test database) answers "table is locked" at once instead of
    waiting as a file database does.
    """
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return query()
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def eventually(check, *, timeout: float = 15.0, what: str):
    """Poll check() until it returns something truthy (the flusher writes about once a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = read(check)
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
