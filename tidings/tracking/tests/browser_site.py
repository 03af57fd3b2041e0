"""A customer's website on loopback, for the tracker's browser tests, with a fake Tidings beside it.

One small HTTP server answers under two host names, so that the page and the tracker's endpoint
are different origins and the browser applies CORS as on a real site:

- ``site.page_url(path)``: http://localhost:<port>/..., the customer's pages (``site.pages``);
- ``site.fake_base``: http://127.0.0.1:<port>, a fake Tidings serving t.js and mtc.js from disk and
  recording what reaches ``/t/collect``, ``/t/p.gif``, ``/m/<slug>/mtc/event`` and
  ``/m/<slug>/mtracking.gif`` (``site.received``), answering per the wire contract
  (docs in /work/wt/TRACKING_SPEC.md, "Wire contract") with ``site.visitor_id`` as "v".

The real endpoints are tested with the same pages pointed at pytest-django's live server
(test_browser_tracking_e2e.py).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tidings.tracking.scripts import STATIC

# The snippet exactly as the site settings page shows it (TRACKING_SPEC.md).
SNIPPET = """<script>
(function(w,d,u,k){w.tidings=w.tidings||function(){(w.tidings.q=w.tidings.q||[]).push(arguments)};
var s=d.createElement('script');s.async=1;s.src=u+'/t.js';s.setAttribute('data-site',k);
s.setAttribute('data-endpoint',u);d.head.appendChild(s)})(window,document,'BASE_URL','SITE_KEY');
tidings('pageview');
</script>"""

# Mautic's own embed code, unchanged (Mautic's documentation), pointed at a workspace's base.
MAUTIC_SNIPPET = """<script>
(function(w,d,t,u,n,a,m){w['MauticTrackingObject']=n;
w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)},a=d.createElement(t),
m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)
})(window,document,'script','MTC_URL','mt');
</script>"""

GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def snippet(base_url: str, site_key: str) -> str:
    return SNIPPET.replace("BASE_URL", base_url).replace("SITE_KEY", site_key)


def page(title: str, head: str = "", body: str = "") -> str:
    """Return a small customer page (valid HTML, a title the tracker reports)."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


@dataclass
class Received:
    """One request that reached the fake Tidings."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def hits(self) -> list[dict]:
        """The hits of a collect POST (one hit or a batch), or the pixel's one hit."""
        if self.method == "GET":
            return [self.query]
        data = self.json()
        return data.get("hits", [data])


@dataclass
class LoopbackSite:
    port: int = 0
    pages: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    visitor_id: str | None = None  # what the fake collect answers as "v" (and /mtc/event as device_id)
    cors: bool = True  # False: the fake answers without Access-Control-Allow-Origin (the browser refuses)
    allowed_origin_host: str = "localhost"

    def page_url(self, path: str = "/") -> str:
        return f"http://localhost:{self.port}{path}"

    @property
    def fake_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self, path_prefix: str) -> list[Received]:
        return [r for r in list(self.received) if r.path.startswith(path_prefix) and r.method != "OPTIONS"]

    def hits(self, path_prefix: str = "/t/") -> list[dict]:
        return [hit for r in self.requests(path_prefix) for hit in r.hits()]

    def wait_for(self, predicate, *, timeout: float = 10.0, what: str = "the expected requests"):
        """Wait until predicate() is true (polling what the server received); fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; received: {[(r.method, r.path) for r in self.received]}")


def _handler(site: LoopbackSite):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _record(self) -> Received:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            received = Received(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            site.received.append(received)
            return received

        def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _cors(self) -> dict:
            origin = self.headers.get("Origin", "")
            headers = {"Vary": "Origin"}
            if site.cors and urlsplit(origin).hostname == site.allowed_origin_host:
                headers["Access-Control-Allow-Origin"] = origin
            return headers

        def do_OPTIONS(self):  # a preflight: the tracker must never cause one
            self._record()
            self._send(204, b"", "text/plain")

        def do_GET(self):
            received = self._record()
            path = received.path
            if path == "/t.js":
                self._send(200, (STATIC / "t.js").read_bytes(), "text/javascript")
            elif path.startswith("/m/") and path.endswith("/mtc.js"):
                self._send(200, (STATIC / "mtc.js").read_bytes(), "text/javascript")
            elif path == "/t/p.gif" or path.endswith("/mtracking.gif"):
                self._send(200, GIF, "image/gif")
            elif path in site.pages:
                self._send(200, site.pages[path].encode(), "text/html; charset=utf-8")
            elif path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            else:
                # An SPA serves its shell for any route (history.back() may reload one).
                self._send(200, site.pages.get("*", "").encode(), "text/html; charset=utf-8")

        def do_POST(self):
            received = self._record()
            if received.path == "/t/collect":
                answer = {"ok": 1, "v": site.visitor_id}
            elif received.path.endswith("/mtc/event"):
                answer = {"success": 1, "id": None, "sid": site.visitor_id, "device_id": site.visitor_id, "events": {}}
            else:
                self._send(404, b"{}", "application/json")
                return
            status = 202 if received.path == "/t/collect" else 200
            self._send(status, json.dumps(answer).encode(), "application/json", self._cors())

    return Handler


def start(site: LoopbackSite) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve site on a free loopback port (both host names resolve to 127.0.0.1)."""
    server = ThreadingHTTPServer(("127.0.0.1", site.port), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="loopback-site", daemon=True)
    thread.start()
    return server, thread
