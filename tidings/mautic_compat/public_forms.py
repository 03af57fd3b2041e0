"""Forms on customers' pages, Mautic's way: /m/<ws>/form/submit, /form/<id>, /form/generate.js, /form/confirm/<token>.

Every route goes through the public form door (tidings.web.entry.PUBLIC_FORM): the workspace is the
one the URL names, the principal holds forms:submit and consent:record only, submissions are
rate-limited per client network and per form; another workspace's form id (or an unpublished one)
answers 404 exactly like a missing one. This module translates the wire format; the forms app decides.

Mautic's submit (FormBundle PublicController::submitAction): a form-encoded body of
mauticform[<alias>] (mauticform[<alias>][] for checkbox groups), mauticform[formId],
mauticform[return] and mauticform[formName]; with ?ajax=1 a JSON answer {success: 1|0,
validationErrors: {alias: message}, ...}, otherwise a redirect to the form's redirect address, else
to return with ?mauticMessage= (or ?mauticError=). Tidings adds mauticform[tds_hp] (a honeypot),
mauticform[tds_ts] (the signed render time), mauticform[tds_visitor] (the tracker's device id) and
mauticform[tds_success] (a landing page's success address: it gets ?tds=<token>). A post with errors
and no return address re-renders the standalone page with the answers kept.

Redirects only go to hosts of the workspace's sites or to Tidings' own: return and tds_success come
from the page, so anything else would make Tidings an open redirect; they are then ignored.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.clickjacking import xframe_options_exempt

from tidings.accounts.decorators import require_permission
from tidings.forms import actions as form_actions
from tidings.forms import selectors as form_selectors
from tidings.tenancy.network import client_ip
from tidings.tracking import selectors as tracking_selectors
from tidings.web import entry

FIELD = re.compile(r"^mauticform\[([A-Za-z0-9_]{1,64})\](\[\])?$")
MAX_FIELDS = 200
MAX_VALUE = 10_000
DEFAULT_MESSAGE = "Thank you: your answers were received."
ERROR_MESSAGE = "Some answers need correcting."


def _refused(request, refusal) -> HttpResponse:
    """Answer a refusal of the public form door: 404 for no such workspace (any 401/403/404), else its status."""
    if refusal.status == 429:
        response = JsonResponse({"success": 0, "errorMessage": "Too many submissions; try again in a minute."},
                                status=429)  # fmt: skip
        response["Retry-After"] = str(refusal.details.get("retry_after", 60))
        return response
    return HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")


door = entry.public_form_entry(_refused)


# ----------------------------------------------------------------------------------------------
# Parsing


def parse_posted(data) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Split a posted body (a QueryDict, or a {name: [values]} mapping) into (answers by alias, Tidings' own fields).

    Own fields: formId, return, formName, tds_hp, tds_ts, tds_visitor, tds_success. Names that are not
    mauticform[...] are ignored; at most MAX_FIELDS names and MAX_VALUE characters a value are read.
    """
    answers: dict[str, list[str]] = {}
    own: dict[str, str] = {}
    items = data.lists() if hasattr(data, "lists") else data.items()
    for count, (name, values) in enumerate(items):
        if count >= MAX_FIELDS:
            break
        match = FIELD.match(name) if isinstance(name, str) else None
        if match is None:
            continue
        alias = match.group(1)
        values = [v[:MAX_VALUE] for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]
        if alias in {"formId", "return", "formName", "submit", "messenger"} or alias.startswith("tds_"):
            own[alias] = values[0] if values else ""
        else:
            answers[alias.lower()] = values[:MAX_FIELDS]
    return answers, own


def _form_id(request, own: dict[str, str]) -> int:
    raw = request.GET.get("formId") or own.get("formId") or ""
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and 0 < len(raw) < 19):
        raise Http404("Not found.")
    return int(raw)


def _allowed_hosts() -> set[str]:
    hosts = {urlsplit(settings.TIDINGS_BASE_URL).hostname or ""}
    for site in tracking_selectors.sites().filter(active=True):
        hosts.update(str(domain).lower() for domain in site.domains or ())
    return hosts - {""}


def _host_allowed(host: str, allowed: set[str]) -> bool:
    host = host.rstrip(".").lower()
    return any(host == d.lstrip(".") or (d.startswith(".") and host.endswith(d)) for d in allowed) if host else False


def safe_target(url: str) -> str:
    """Return url when it is an http(s) address on a host of the workspace's sites or Tidings' own, or a path
    of Tidings' own (a landing page's); else ""."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return ""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    return url if _host_allowed(parts.hostname, _allowed_hosts()) else ""


def with_query(url: str, **params: str) -> str:
    """Return url with params added to its query string (replacing those of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _cors(request, response: HttpResponse) -> HttpResponse:
    """Let a page of the workspace's sites read the answer (Mautic's forms post with XHR); Vary on Origin."""
    origin = request.headers.get("Origin", "")
    response["Vary"] = "Origin"
    try:
        host = urlsplit(origin).hostname or ""
    except ValueError:
        host = ""
    if origin and origin != "null" and _host_allowed(host, _allowed_hosts()):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Requested-With"
        response["Access-Control-Max-Age"] = "600"
    return response


# ----------------------------------------------------------------------------------------------
# Routes


def _standalone(request, form, *, values=None, errors=None, status=200, message="", token="") -> HttpResponse:
    token = token[:64] if isinstance(token, str) else ""
    known = form_selectors.known_for_visitor(token) if token else set()
    html = form_selectors.render_form(form, values=values, errors=errors, known=known, visitor_token=token)
    response = render(request, "forms/public_page.html",
                      {"form": form, "form_html": html, "message": message, "stylesheet": static("forms/form.css")},
                      status=status)  # fmt: skip
    return response


@door
@require_permission("forms:submit")
def submit(request, mautic_workspace):
    """POST /m/<ws>/form/submit?formId=N: Mautic's submission (see the module docstring); OPTIONS: CORS preflight."""
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(status=204))
    if request.method != "POST":
        return _cors(request, JsonResponse({"success": 0, "errorMessage": "Use POST."}, status=405))
    answers, own = parse_posted(request.POST)
    form_id = _form_id(request, own)
    ajax = request.GET.get("ajax") == "1" or request.path.endswith("/ajax")
    context = form_actions.SubmitContext(
        ip=client_ip(request) or "",
        page_url=request.headers.get("Referer", "")[:2000],
        visitor_token=own.get("tds_visitor", ""),
        render_token=own.get("tds_ts", ""),
        honeypot=own.get("tds_hp", ""),
    )
    try:
        form = form_selectors.published_form(form_id)
        result = form_actions.form_submit(form.pk, answers, context=context, principal=request.principal,
                                          request=request)  # fmt: skip
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error
    message = form.success_message or DEFAULT_MESSAGE
    if not result.accepted:
        if ajax:
            return _cors(request, JsonResponse({"success": 0, "validationErrors": result.errors,
                                                "errorMessage": ERROR_MESSAGE}, status=200))  # fmt: skip
        back = safe_target(own.get("return", ""))
        if back:
            return HttpResponseRedirect(with_query(back, mauticError=ERROR_MESSAGE))
        return _standalone(request, form, values=result.values, errors=result.errors, status=400,
                           token=own.get("tds_visitor", ""))  # fmt: skip
    target = safe_target(own.get("tds_success", "")) or form.redirect_url
    if target and result.token:
        target = with_query(target, tds=result.token)
    if ajax:
        body = {"success": 1, "successMessage": message, "message": message}
        if target:
            body["redirect"] = target
        return _cors(request, JsonResponse(body))
    if target:
        return HttpResponseRedirect(target)
    back = safe_target(own.get("return", ""))
    if back:
        return HttpResponseRedirect(with_query(back, mauticMessage=message))
    return render(request, "forms/public_done.html", {"form": form, "message": message,
                                                       "stylesheet": static("forms/form.css")})  # fmt: skip


def _frame_ancestors() -> list[str]:
    sources = []
    for host in sorted(_allowed_hosts()):
        name = f"*{host}" if host.startswith(".") else host
        sources += [f"https://{name}", f"http://{name}"]
    return sources or ["'none'"]


@door
@require_permission("forms:submit")
@xframe_options_exempt
def standalone(request, mautic_workspace, form_id):
    """GET /m/<ws>/form/<id>: the published form on a page of its own (the iframe embed's target).

    It may be framed by pages of the workspace's sites only (CSP frame-ancestors).
    """
    try:
        form = form_selectors.published_form(form_id)
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error
    response = _standalone(request, form, token=request.GET.get("tdv", ""))
    # django-csp reads this attribute (what its @csp_replace decorator sets): framing by the sites' pages only.
    response._csp_replace = {"frame-ancestors": _frame_ancestors()}  # type: ignore[attr-defined]
    return response


@door
@require_permission("forms:submit")
def generate_js(request, mautic_workspace):
    """GET /m/<ws>/form/generate.js?id=N: Mautic's script embed; writes the form where the script tag is.

    The script fills the tracker's device id (_tdv), sets return to the page and sends the form with
    ?ajax=1, showing the answer's message or field errors in place; without fetch the form posts as usual.
    """
    raw = request.GET.get("id", "")
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 19):
        raise Http404("Not found.")
    html = form_selectors.form_embed_html(int(raw))
    if html is None:
        raise Http404("Not found.")
    body = render_to_string("forms/generate.js", {"html_json": json.dumps(str(html)).replace("</", "<\\/")})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"  # the render token in it is signed per load
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@door
@require_permission("forms:submit")
def confirm(request, mautic_workspace, token):
    """GET /m/<ws>/form/confirm/<token>: the double opt-in link's page, with a button; POST confirms.

    Two steps, because mail scanners open links: a GET changes nothing.
    """
    context = {"stylesheet": static("forms/form.css")}
    if form_selectors.confirmation_form(token) is None:
        return render(request, "forms/public_confirm.html", {**context, "invalid": True}, status=404)
    if request.method == "POST":
        form = form_actions.submission_confirm(token, principal=request.principal, request=request)
        if form is None:
            return render(request, "forms/public_confirm.html", {**context, "invalid": True}, status=404)
        return render(request, "forms/public_confirm.html", {**context, "done": True, "form": form})
    return render(request, "forms/public_confirm.html", context)
