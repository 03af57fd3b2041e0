"""Helpers of the collect tests: a site of Acme, calls to the lean front app, the spool drained by hand."""

from __future__ import annotations

import io
import json
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tidings.tracking.collect import decide, front, seams
from tidings.tracking.collect.flusher import drain
from tidings.tracking.collect.ratelimit import Limits
from tidings.tracking.collect.spool import Spool

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)


def client_id() -> str:
    return secrets.token_urlsafe(16)


class FakeFlusher:
    def __init__(self):
        self.nudged = 0

    def nudge(self, count):
        self.nudged += count


class Harness:
    """The front app with its spool in tmp_path and no flusher thread: tests drain the spool themselves."""

    def __init__(self, tmp_path: Path):
        self.spool = Spool(tmp_path)
        self.flusher = FakeFlusher()

    def call(self, method, path, *, body=b"", query="", headers=None, ip="198.51.100.7", user_agent=CHROME):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        if isinstance(query, dict):
            query = urlencode(query)
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": ip,
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "text/plain;charset=UTF-8",
            "wsgi.input": io.BytesIO(body), "HTTP_USER_AGENT": user_agent,
        }  # fmt: skip
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        seen = {}

        def start_response(status, response_headers):
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(response_headers)

        answered = front.handle(environ, start_response)
        assert answered is not None, "not a tracking path"
        content = b"".join(answered)
        return Response(seen["status"], seen["headers"], content)

    def drain(self) -> int:
        return drain(self.spool.path)

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.spool.path.read_bytes().splitlines()]


class Response:
    def __init__(self, status, headers, content):
        self.status, self.headers, self.content = status, headers, content

    def json(self):
        return json.loads(self.content)


@pytest.fixture(name="harness")
def harness_fixture(tmp_path, monkeypatch):
    seams.clear_site_cache()
    decide._consents.clear()
    monkeypatch.setenv("TIDINGS_TRACKING_RATE_PER_NETWORK", "1000")
    h = Harness(tmp_path)
    monkeypatch.setattr(front.PROCESS, "ready", lambda: (h.spool, h.flusher))
    monkeypatch.setattr(front.PROCESS, "limits", Limits())
    yield h
    h.spool.close()
    seams.clear_site_cache()


def make_site(workspace, *, consent_mode="legitimate_interest", ip_storage="network", domains=None, excluded=()):
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.models import Site, new_public_key

    with use_workspace(workspace):
        return Site.objects.create(
            workspace_id=workspace.pk, name="Shop", public_key=new_public_key(workspace.region),
            domains=list(domains or ["shop.example", ".blog.example"]), consent_mode=consent_mode,
            ip_storage=ip_storage, excluded_networks=list(excluded),
        )  # fmt: skip


def hit(site, **extra):
    return {"k": site.public_key, "id": client_id(), "t": "pageview", "u": "https://shop.example/pricing", **extra}
