"""A user agent reduced to what tracking keeps: bot or not, and device type, OS and browser family tokens.

Parsing uses ua-parser (uap-core's regexes, with its Rust accelerator ua-parser-rs: ~50 us a string
uncached, against milliseconds for the pure-Python resolver) and the bot list of crawler-user-agents
(the monperrus/crawler-user-agents data, ~350 us uncached). Both behind one LRU cache: a site's
visitors share a few hundred user agents, so the steady-state cost is a dictionary lookup.
The full user agent never leaves memory (docs/decisions/0019).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings

_TOKEN_RE = re.compile(r"[^A-Za-z0-9_.-]+")
_TABLET_RE = re.compile(r"iPad|Tablet|Kindle|Silk|PlayBook|Nexus (7|9|10)")
_MOBILE_RE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|Opera Mini")
_HEADLESS_RE = re.compile(r"HeadlessChrome|PhantomJS|Lighthouse")
MAX_USER_AGENT = 1024


@dataclass(frozen=True, slots=True)
class Agent:
    bot: bool
    device: str = ""  # desktop | mobile | tablet
    os: str = ""
    browser: str = ""


def _token(value: str | None) -> str:
    return _TOKEN_RE.sub("_", value or "")[:32].strip("_")


@functools.lru_cache(maxsize=8192)
def _describe(user_agent: str, allow_headless: bool) -> Agent:
    import crawleruseragents
    from ua_parser import parse

    if not user_agent.strip():
        return Agent(bot=True)
    if _HEADLESS_RE.search(user_agent):
        if not allow_headless:
            return Agent(bot=True)
        user_agent = _HEADLESS_RE.sub("Chrome", user_agent)  # the list names HeadlessChrome too
    if crawleruseragents.is_crawler(user_agent):
        return Agent(bot=True)
    result = parse(user_agent)
    device = result.device
    if device is not None and device.family == "Spider":
        return Agent(bot=True)
    if _TABLET_RE.search(user_agent) or ("Android" in user_agent and "Mobile" not in user_agent):
        kind = "tablet"
    elif _MOBILE_RE.search(user_agent):
        kind = "mobile"
    else:
        kind = "desktop"
    os = _token(result.os.family if result.os else "")
    browser = _token(result.user_agent.family if result.user_agent else "")
    return Agent(bot=False, device=kind, os=os if os != "Other" else "", browser=browser if browser != "Other" else "")


def describe(user_agent: str) -> Agent:
    """Return user_agent as an Agent; a missing, huge or crawler's user agent is a bot.

    HeadlessChrome counts as a bot unless settings.TIDINGS_TRACKING_ALLOW_HEADLESS (the end-to-end
    tests run headless Chromium and must be counted).
    """
    if len(user_agent) > MAX_USER_AGENT:
        return Agent(bot=True)
    return _describe(user_agent, settings.TIDINGS_TRACKING_ALLOW_HEADLESS)


def warm_up() -> None:
    """Load the parsers' pattern tables now (a third of a second), not on the first visitor's hit."""
    describe("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
