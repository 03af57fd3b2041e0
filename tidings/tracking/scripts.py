"""Serve the tracker scripts customers' pages load: /t.js (Tidings' own) and /m/<slug>/mtc.js (Mautic's).

Both are static files of this app (tracking/static/tracking/), read once and served as they are, to
anyone: they hold no workspace data, so /m/<slug>/mtc.js does not even look the slug up (an unknown
slug gets the same script, and slugs cannot be probed through it; the collect endpoints refuse hits
for a workspace that does not exist). The script finds its endpoints from its own URL.

Caching: a URL carrying the current content hash (``/t.js?v=<hash>``, see ``tracker_url``) never
changes, so it is cached for a year and marked immutable; the bare URL, which the snippet uses, is
cached briefly so that a new version reaches every site within SHORT_MAX_AGE, and revalidates with
its ETag. ``Cross-Origin-Resource-Policy: cross-origin`` lets other sites load it (the house default
is same-origin), and ``Access-Control-Allow-Origin: *`` lets a site load it with ``crossorigin`` and
``integrity`` (Subresource Integrity): the response is the same public file for everyone and no
credentials are allowed.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

from tidings.accounts.decorators import public

STATIC = Path(__file__).parent / "static" / "tracking"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_MAX_AGE = 600  # seconds: how long a site may run the previous version after a deploy
SHORT_CACHE = f"public, max-age={SHORT_MAX_AGE}"
CONTENT_TYPE = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class Script:
    """One served script: its bytes, gzipped once, and the hash of its content that versions its URL."""

    body: bytes
    gzipped: bytes
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _load(name: str) -> Script:
    body = (STATIC / name).read_bytes()
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)  # mtime=0: the same bytes on every server
    return Script(body=body, gzipped=gzipped, version=hashlib.sha256(body).hexdigest()[:16])


@cache
def tracker() -> Script:
    """Return t.js (read once per process)."""
    return _load("t.js")


@cache
def mautic_tracker() -> Script:
    """Return Tidings' mtc.js (read once per process)."""
    return _load("mtc.js")


def tracker_url(base_url: str) -> str:
    """Return the versioned URL of t.js under base_url (cached for a year by browsers and proxies)."""
    return f"{base_url.rstrip('/')}/t.js?v={tracker().version}"


def script_headers(script: Script, requested_version: str | None) -> dict[str, str]:
    """Return the headers of script's answer; requested_version is the URL's ?v= (None without one).

    Only the current version is cached for long: an old ?v= still gets the current file, briefly cached.
    Kept apart from the views so that a lean front app can answer with the same headers.
    """
    return {
        "Content-Type": CONTENT_TYPE,
        "Cache-Control": LONG_CACHE if requested_version == script.version else SHORT_CACHE,
        "ETag": script.etag,
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }


def _serve(request: HttpRequest, script: Script) -> HttpResponse:
    headers = script_headers(script, request.GET.get("v"))
    if_none_match = request.headers.get("If-None-Match", "")
    if script.etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*":
        response: HttpResponse = HttpResponseNotModified()
        del headers["Content-Type"]
    else:
        # No GZipMiddleware in the stack: the script is compressed once, here (a third of its size).
        accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
        response = HttpResponse(script.gzipped if accepts_gzip else script.body)  # servers drop a HEAD's body
        if accepts_gzip:
            response["Content-Encoding"] = "gzip"
    for name, value in headers.items():
        response[name] = value
    return response


@public
@require_safe
def tracker_js(request: HttpRequest) -> HttpResponse:
    """Serve /t.js, the tracker the snippet loads."""
    return _serve(request, tracker())


@public
@require_safe
def mautic_js(request: HttpRequest, mautic_workspace: str) -> HttpResponse:
    """Serve /m/<slug>/mtc.js, for Mautic's snippet; the same file for every slug (see the module's docstring)."""
    return _serve(request, mautic_tracker())
