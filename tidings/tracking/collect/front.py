"""The lean front: a raw WSGI application that serves the collect endpoints itself, Django everything else.

A hit must not pay for Django's middleware (sessions, auth, OTP, messages, CSRF, htmx, axes,
workspace resolution) nor its URL resolver: at thousands of hits a second that is most of the
cost (docs/decisions/0019). It still takes each hit through the entry pipeline's steps
(tidings.web.entry): resolve the principal (the site key -> site -> workspace), enter the
workspace, the policies (the allowed origin, the consent decision), the permission
("tracking:record", the only one a site key holds) and the rate limit, then spools the reduced hit
and answers; the flusher (a process of its own under `tidings serve`, else a thread of this
process) persists it within a second.

Paths: POST /t/collect, GET /t/p.gif, POST /m/<slug>/mtc/event, GET /m/<slug>/mtc,
GET /m/<slug>/mtracking.gif; OPTIONS on the POST paths (CORS preflight).
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

from tidings import fastjson
from tidings.events.registry import _network, strip_url
from tidings.tracking.collect import agents, decide, networks, payload, seams
from tidings.tracking.collect.flusher import Flusher, process_mode, recover_orphans
from tidings.tracking.collect.payload import Hit, PayloadError
from tidings.tracking.collect.ratelimit import Limits
from tidings.tracking.collect.spool import Spool

log = logging.getLogger(__name__)

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
STATUS = {
    200: "200 OK", 202: "202 Accepted", 204: "204 No Content", 400: "400 Bad Request", 403: "403 Forbidden",
    404: "404 Not Found", 405: "405 Method Not Allowed", 413: "413 Content Too Large", 429: "429 Too Many Requests",
}  # fmt: skip
MAX_UTM = 100


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Answer:
    """What a route returns: status, JSON body (or the pixel) and the site whose origin may read it."""

    __slots__ = ("status", "body", "site", "pixel")

    def __init__(self, status: int, body: dict | None = None, *, site=None, pixel: bool = False):
        self.status, self.body, self.site, self.pixel = status, body, site, pixel


# ----------------------------------------------------------------------------------------------
# The process's spool and flusher, started on the first hit (after the server forked its workers)


class _Process:
    def __init__(self) -> None:
        self.pid = -1
        self.lock = threading.Lock()
        self.spool: Spool | None = None
        self.flusher: Flusher | None = None
        self.limits = Limits()

    def ready(self) -> tuple[Spool, Flusher | None]:
        """Return this process's spool and its flusher thread (None when the flusher process drains the spool)."""
        if self.pid != os.getpid():
            with self.lock:
                if self.pid != os.getpid():
                    if process_mode():  # `tidings flusher` drains it; this process only appends
                        self.spool = Spool(shared=True)
                        self.flusher = None
                    else:
                        self.spool = Spool()
                        self.flusher = Flusher(self.spool).start()
                        atexit.register(self.flusher.stop)
                        threading.Thread(target=_recover, name="tracking-recovery", daemon=True).start()
                    self.limits = Limits()
                    self.pid = os.getpid()
        assert self.spool is not None
        return self.spool, self.flusher


def _recover() -> None:
    try:
        recover_orphans()
    except Exception:
        log.exception("tracking: recovering orphaned spool files failed; the worker will retry")


PROCESS = _Process()


# ----------------------------------------------------------------------------------------------
# Steps shared by the routes


def _utm(url: str, fallback: tuple[str, str, str]) -> tuple[str, str, str]:
    """Return (source, medium, campaign) from url's query string (before it is stripped), else fallback."""
    if "utm_" not in url:
        return fallback
    try:
        params = dict(parse_qsl(urlsplit(url).query, max_num_fields=100))
    except ValueError:
        params = {}
    tags = (_printable(params.get("utm_source", "")), _printable(params.get("utm_medium", "")),
            _printable(params.get("utm_campaign", "")))  # fmt: skip
    return tags if any(tags) else fallback


def _printable(value: str) -> str:
    value = value[:MAX_UTM]
    return value if value.isprintable() else "".join(ch for ch in value if ch.isprintable())


def _origin_allowed(environ: dict, site: seams.SiteInfo) -> bool:
    origin = environ.get("HTTP_ORIGIN", "")
    return not origin or site.allows_host(payload.page_host(origin))


def _principal(site: seams.SiteInfo, workspace):
    """Return the site key's principal, for the rare synchronous paths (consent, identify, a signal's withdrawal)."""
    from tidings.accounts.permissions import PUBLIC_KEY_PERMISSIONS, Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    return Principal(
        workspace=workspace_by_id(workspace.id), user=None, permissions=PUBLIC_KEY_PERMISSIONS, via=Via.PUBLIC_KEY,
        credential_id=site.id, extra={"rate_key": f"site:{site.id}"},
    )  # fmt: skip


def _token_of(site: seams.SiteInfo, decision: decide.Decision) -> str | None:
    if not decision.profiled or decision.visitor_id is None:
        return None
    return decide.visitor_token(site.workspace_id, decision.visitor_id)


def _accept(environ: dict, site: seams.SiteInfo, hits: list[Hit]) -> str | None:
    """Take hits of site through the policies and spool them; return the visitor token to hand back, or None."""
    from tidings.tenancy.context import ActiveWorkspace

    for hit in hits:
        if hit.url and not site.allows_host(hit.host):
            raise Refused(403, "the page is not on one of the site's domains")
    ip = networks.client_address(environ)
    network = _network(ip) if ip else "unknown"
    if not PROCESS.limits.allow(f"site:{site.id}", network, len(hits)):
        raise Refused(429, "too many hits; slow down")
    user_agent = environ.get("HTTP_USER_AGENT", "")
    agent = agents.describe(user_agent)
    if agent.bot or networks.excluded(ip, site.excluded_networks):
        return None  # accepted and dropped: a crawler's or the office's visit is no visit
    header_gpc = environ.get("HTTP_SEC_GPC", "") == "1"
    header_dnt = environ.get("HTTP_DNT", "") == "1"
    workspace = ActiveWorkspace(id=site.workspace_id, slug=site.workspace_slug, region=site.region)
    now = time.time()
    at = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    country = networks.geoip().country(ip) if ip else ""
    stored_ip = networks.stored_network(ip, site.ip_storage)
    digest = seams.traffic_digest(workspace, site.id, ip, user_agent, at).hex()
    token: str | None = None
    records = []
    for hit in hits:
        decision = decide.decide(site, visitor_token=hit.visitor, gpc=hit.gpc or header_gpc, dnt=hit.dnt or header_dnt)
        if decision.withdraw_for is not None:
            seams.record_signal_withdrawal(
                workspace, decision.withdraw_for, decision.signal, _principal(site, workspace)
            )
            decide.forget_consent(site.workspace_id, decision.withdraw_for)
        if hit.kind == "consent":
            visitor = decide.visitor_from_token(site.workspace_id, hit.visitor) if hit.visitor else None
            given_to = seams.consent(workspace, site_id=site.id, visitor_id=visitor, purposes=hit.consents, ip=ip,
                                     source_url=hit.url, principal=_principal(site, workspace))  # fmt: skip
            decide.forget_consent(site.workspace_id, visitor)
            # A first "yes" gives the device its id here: the next hits carry it (and are profiled).
            device = decide.visitor_token(site.workspace_id, given_to) if given_to is not None else hit.visitor
            decision = decide.decide(site, visitor_token=device, gpc=hit.gpc or header_gpc, dnt=hit.dnt or header_dnt)
            token = _token_of(site, decision)
            continue
        if hit.fields:
            seams.identify(workspace, site_id=site.id, visitor_id=decision.visitor_id if decision.profiled else None,
                           fields=hit.fields, ip=ip, principal=_principal(site, workspace))  # fmt: skip
        if hit.kind == "identify":
            continue
        token = _token_of(site, decision)
        referrer_host = payload.page_host(hit.referrer)
        records.append({
            "w": site.workspace_id, "s": site.id, "r": site.region, "id": hit.id, "at": now, "t": hit.kind,
            "n": hit.name, "u": strip_url(hit.url), "rh": referrer_host, "utm": _utm(hit.url, hit.utm),
            "d": agent.device, "o": agent.os, "b": agent.browser, "cc": country, "ip": stored_ip,
            "v": decision.visitor_id if decision.profiled else None, "g": digest, "l": hit.language,
            "tz": hit.time_zone, "sc": hit.screen,
        })  # fmt: skip
    if records:
        spool, flusher = PROCESS.ready()
        spool.append(records)
        if flusher is not None:
            flusher.nudge(len(records))
    return token


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Content-Length is not a number") from None
    if length > payload.MAX_BODY:
        raise Refused(413, f"the body is larger than {payload.MAX_BODY} bytes")
    stream = environ.get("wsgi.input")
    body = stream.read(length) if (stream is not None and length > 0) else b""
    return body


# ----------------------------------------------------------------------------------------------
# Routes


def collect(environ: dict) -> Answer:
    """POST /t/collect: one hit or a batch as JSON (sent as text/plain, so no preflight)."""
    hits = payload.parse_body(_read_body(environ))
    site = seams.site_for_key(hits[0].key)
    if site is None:
        raise Refused(403, "unknown site key")
    if not _origin_allowed(environ, site):
        return Answer(403, {"ok": 0, "error": "this origin may not send hits for the site"})
    token = _accept(environ, site, hits)
    return Answer(202, {"ok": 1, "v": token}, site=site)


def pixel(environ: dict) -> Answer:
    """GET /t/p.gif: the image fallback; always the transparent GIF, whatever the outcome."""
    hit = payload.parse_pixel(environ.get("QUERY_STRING", ""))
    site = seams.site_for_key(hit.key)
    if site is None:
        raise Refused(403, "unknown site key")
    _accept(environ, site, [hit])
    return Answer(200, pixel=True, site=site)


def _mautic_site(slug: str, hit: Hit) -> seams.SiteInfo:
    sites = seams.sites_of_workspace(slug)
    if not sites:
        raise Refused(404, "not found")
    for site in sites:
        if site.allows_host(hit.host):
            return site
    raise Refused(403, "the page is not on one of the workspace's tracked sites")


def mautic_event(environ: dict, slug: str, *, as_pixel: bool) -> Answer:
    """Mautic's /mtc/event (form body or query) and /mtracking.gif; the workspace is the /m/<slug>/ base."""
    if environ.get("REQUEST_METHOD") == "POST":
        raw = _read_body(environ)
        try:
            params = payload.query_params(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise PayloadError("the body is not UTF-8") from None
        params = {**payload.query_params(environ.get("QUERY_STRING", "")), **params}
    else:
        params = payload.query_params(environ.get("QUERY_STRING", ""))
    hit = payload.parse_mautic(params)
    site = _mautic_site(slug, hit)
    if not as_pixel and not _origin_allowed(environ, site):
        return Answer(403, {"success": 0, "error": "this origin may not send hits for the site"})
    token = _accept(environ, site, [hit])
    if as_pixel:
        return Answer(200, pixel=True, site=site)
    # Never a contact id: Mautic's "id" is null; sid/device_id are the signed visitor id, or null.
    return Answer(200, {"success": 1, "id": None, "sid": token, "device_id": token, "events": {}}, site=site)


def _route(method: str, path: str) -> tuple[Callable[[dict], Answer], tuple[str, ...]] | None:
    if path == "/t/collect":
        return (collect, ("POST",))
    if path == "/t/p.gif":
        return (pixel, ("GET", "HEAD"))
    if path.startswith("/m/"):
        slug, _, rest = path[3:].partition("/")
        if not slug or "/" in slug:
            return None
        if rest == "mtc/event":
            return (lambda environ: mautic_event(environ, slug, as_pixel=False), ("POST", "GET"))
        if rest == "mtc":
            return (lambda environ: mautic_event(environ, slug, as_pixel=False), ("GET", "POST"))
        if rest == "mtracking.gif":
            return (lambda environ: mautic_event(environ, slug, as_pixel=True), ("GET", "HEAD"))
    return None


def _cors(environ: dict, site) -> list[tuple[str, str]]:
    headers = [("Vary", "Origin")]
    origin = environ.get("HTTP_ORIGIN", "")
    if origin and site is not None and site.allows_host(payload.page_host(origin)):
        headers.append(("Access-Control-Allow-Origin", origin))  # never Allow-Credentials
    return headers


def _respond(start_response, environ: dict, answer: Answer, *, pixel_route: bool) -> Iterable[bytes]:
    headers = _cors(environ, answer.site)
    headers.append(("Cache-Control", "no-store"))
    if answer.pixel or pixel_route:
        body = GIF
        headers += [("Content-Type", "image/gif"), ("Cross-Origin-Resource-Policy", "cross-origin")]
    else:
        body = fastjson.dumps_bytes(answer.body or {})
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(body))))
    start_response(STATUS[answer.status], headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def handle(environ: dict, start_response) -> Iterable[bytes] | None:
    """Serve environ when it is a tracking path; return None to let Django have it."""
    path = environ.get("PATH_INFO", "")
    found = _route(environ.get("REQUEST_METHOD", "GET"), path)
    if found is None:
        return None
    view, methods = found
    method = environ.get("REQUEST_METHOD", "GET")
    pixel_route = path.endswith(".gif")
    mautic = path.startswith("/m/")
    if method == "OPTIONS":
        headers = [("Vary", "Origin"), ("Access-Control-Allow-Methods", ", ".join(methods)),
                   ("Access-Control-Allow-Headers", "Content-Type"), ("Access-Control-Max-Age", "86400"),
                   ("Content-Length", "0")]  # fmt: skip
        origin = environ.get("HTTP_ORIGIN", "")
        if origin:
            headers.append(("Access-Control-Allow-Origin", origin))  # a preflight reveals nothing; the POST is checked
        start_response(STATUS[204], headers)
        return []
    if method not in methods:
        return _respond(start_response, environ, Answer(405, _error(mautic, "method not allowed")),
                        pixel_route=pixel_route)  # fmt: skip
    try:
        answer = view(environ)
    except PayloadError as error:
        answer = Answer(400, _error(mautic, str(error)))
    except Refused as refusal:
        answer = Answer(refusal.status, _error(mautic, refusal.message))
    return _respond(start_response, environ, answer, pixel_route=pixel_route)


def _error(mautic: bool, message: str) -> dict:
    return {"success": 0, "error": message} if mautic else {"ok": 0, "error": message}


def bare(environ: dict, start_response) -> Iterable[bytes]:
    """The benchmark's ceiling: a route on the same server that does nothing (TIDINGS_TRACKING_BARE=1)."""
    start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", "8")])
    return [b'{"ok":1}']


def make_application(django_application: Callable) -> Callable:
    """Return the WSGI application: the tracking paths served here, everything else by django_application."""
    with_bare = os.environ.get("TIDINGS_TRACKING_BARE") == "1"
    agents.warm_up()
    if not process_mode():  # (the flusher process replays them itself)
        # Spool files of a server killed before its flusher finished: replayed by whichever process starts next.
        threading.Thread(target=_recover, name="tracking-recovery", daemon=True).start()

    def application(environ, start_response):
        if with_bare and environ.get("PATH_INFO") == "/t/bare":
            return bare(environ, start_response)
        answered = handle(environ, start_response)
        if answered is not None:
            return answered
        return django_application(environ, start_response)

    return application
