"""The campaign webhook's HTTP side: which addresses it may call, and one signed POST with a timeout and no redirects.

url_problem() is the outbound-URL guard: https only, no user:password, and never an address on the
loopback, a private, link-local, reserved or multicast network (the server's own services, the cloud's
metadata endpoint), checked on the literal host and again on every address the name resolves to when
the call is made. TIDINGS_CAMPAIGN_WEBHOOK_ALLOW_PRIVATE (tests, a loopback receiver) lifts the address
rule and allows http. Known gap: the name is resolved once for the check and again by the connection, so a
name that changes its answer in between (DNS rebinding) is not caught; pinning the address needs our own
connection class with TLS to a name at a fixed address.

post() never follows a redirect (a 3xx is a failure: a redirect could lead to an address the guard
refused) and logs status codes and ids only: never the payload, which holds contacts' values.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

MAX_URL = 500
SIGNATURE_HEADER = "X-Tidings-Signature"


def allow_private() -> bool:
    return bool(getattr(settings, "TIDINGS_CAMPAIGN_WEBHOOK_ALLOW_PRIVATE", False))


def timeout() -> float:
    return float(getattr(settings, "TIDINGS_CAMPAIGN_WEBHOOK_TIMEOUT_SECONDS", 5))


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: object, *, resolve: bool, private_ok: bool = False) -> str:
    """Return why url may not be called ("" when it may): a code, never the url itself.

    resolve: also look the host name up and check every address it has (at call time; the graph's
    check is pure and only checks a literal address).
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL or not url.isprintable():
        return "invalid_url"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "invalid_url"
    if parts.scheme not in (("https", "http") if private_ok else ("https",)) or not parts.hostname:
        return "not_https"
    if parts.username is not None or parts.password is not None:
        return "invalid_url"
    if private_ok:
        return ""
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return "private_address" if _blocked(host) else ""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "private_address"
    if resolve:
        try:
            infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return "unresolved"
        if not infos or any(_blocked(str(info[4][0])) for info in infos):
            return "private_address"
    return ""


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def step_secret(workspace_id: int, campaign_id: int, step_id: int) -> bytes:
    """The step's signing key: derived from the server's secret, so it is stored nowhere and shown to editors."""
    label = f"tidings.campaigns.webhook:{workspace_id}:{campaign_id}:{step_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), label, hashlib.sha256).hexdigest().encode()


@dataclass
class Reply:
    ok: bool
    retry: bool  # a 5xx, a timeout or a connection failure: worth trying again later
    reason: str  # a code for the step run: webhook_5xx, webhook_timeout, webhook_4xx...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


def post(url: str, payload: dict, *, secret: bytes) -> Reply:
    """POST payload as JSON, signed with secret, within the timeout; return how it went."""
    problem = url_problem(url, resolve=True, private_ok=allow_private())
    if problem:
        return Reply(ok=False, retry=False, reason=f"webhook_{problem}"[:32])
    body = json.dumps(payload, default=str, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Tidings-Campaigns/1",
               SIGNATURE_HEADER: signature(secret, body)}  # fmt: skip
    # url_problem allowed https only (http in tests): never file: or another scheme.
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=timeout()) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except TimeoutError:
        return Reply(ok=False, retry=True, reason="webhook_timeout")
    except urllib.error.URLError as error:
        timed_out = isinstance(error.reason, TimeoutError | socket.timeout)
        return Reply(ok=False, retry=True, reason="webhook_timeout" if timed_out else "webhook_unreachable")
    except OSError:
        return Reply(ok=False, retry=True, reason="webhook_unreachable")
    if 200 <= status < 300:
        return Reply(ok=True, retry=False, reason="")
    if status >= 500:
        return Reply(ok=False, retry=True, reason="webhook_5xx")
    if 300 <= status < 400:
        return Reply(ok=False, retry=False, reason="webhook_redirect")
    return Reply(ok=False, retry=False, reason="webhook_4xx")
