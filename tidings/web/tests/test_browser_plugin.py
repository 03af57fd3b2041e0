"""The browser-test plugin itself: when it skips, when it fails, how screenshots are compared."""

import pytest
from PIL import Image

from tidings.web.tests import browser


def test_a_missing_chromium_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("TIDINGS_TEST_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium executable found"):
        browser._unavailable("no chromium executable found")


def test_a_missing_chromium_fails_when_the_browser_is_required(monkeypatch):
    monkeypatch.setenv("TIDINGS_TEST_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="TIDINGS_TEST_REQUIRE_BROWSER is set"):
        browser._unavailable("no chromium executable found")


def test_the_diff_ratio_counts_only_pixels_that_changed_visibly():
    white = Image.new("RGB", (10, 10), "white")
    changed = white.copy()
    for x in range(10):
        changed.putpixel((x, 0), (0, 0, 0))  # one row of ten black pixels: 10 %
    changed.putpixel((0, 5), (250, 250, 250))  # anti-aliasing noise below the threshold
    assert browser.diff_ratio(white, changed) == pytest.approx(0.10)
