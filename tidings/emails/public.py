"""A message's public routes under /m/<workspace>/e/ (tidings.emails.links builds them), for anyone holding its token.

    GET  o/<token>.gif        the open pixel: always the same 1x1 GIF, not cached, whatever the token
    GET  c/<token>/<link id>  a click: 302 to the email version's link (query string forwarded); else 404
    GET  v/<token>            the message as the contact got it, under a sandboxing Content-Security-Policy
    GET  u/<token>            the unsubscribe page (changes nothing: mail scanners open links)
    POST u/<token>            unsubscribes; RFC 8058's one-click POST (List-Unsubscribe=One-Click) needs
                              no cookie or CSRF token, and nor does the page's own button: the signed token
                              in the address is the authority, and unsubscribing twice changes nothing

They go through the entry pipeline's public-page door (the route's `public_workspace` kwarg): the
workspace is the URL's, the visitor holds emails:feedback only, rate-limited per client address. A token
is verified against the workspace of the URL (links.read_message_token), so a token of another workspace,
a forged one and one of a message never sent all get the same answer: the pixel, or the 404 page.
HEAD requests (link scanners, prefetchers checking a URL) get the same answers and record nothing.
"""

from __future__ import annotations

import base64

from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from tidings.accounts.decorators import require_permission
from tidings.emails import links, selectors
from tidings.emails.actions import feedback
from tidings.tenancy.context import require_workspace

# The smallest transparent GIF (1x1, 43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
# The web view shows authored HTML: no script, no form, no plugin; images from anywhere (as in a mail client).
WEBVIEW_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src https: data:; "
    "style-src 'unsafe-inline'; font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MAX_TOKEN = 60
FEEDBACK = "emails:feedback"


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found(request) -> HttpResponse:
    context = {"title": "Page not found", "message": "There is no page at this address, or it has expired."}
    return _private(render(request, "public_message.html", context, status=404))


def _ref(token: str):
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    return links.read_message_token(token, require_workspace().id)


def _pixel() -> HttpResponse:
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # shown inside mail clients' pages
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_permission(FEEDBACK)
def open_pixel(request, public_workspace: str, token: str) -> HttpResponse:
    """Count an open (GET only; a HEAD records nothing) and answer the pixel, whatever the token."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    ref = _ref(token)
    if ref is not None and request.method == "GET":
        feedback.message_opened(ref, principal=request.principal)
    return _pixel()


def _link_id(value: str) -> int | None:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    number = int(value)
    return number if number > 0 else None


@require_permission(FEEDBACK)
def click(request, public_workspace: str, token: str, link_id: str) -> HttpResponse:
    """Redirect to the link of the message's email version; count the click on GET (HEAD: scanners)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    ref, number = _ref(token), _link_id(link_id)
    if ref is None or number is None:
        return _not_found(request)
    query = request.META.get("QUERY_STRING", "")
    if request.method == "HEAD":
        delivery = selectors.delivery_for(ref)
        url = selectors.click_destination(delivery, number) if delivery is not None else None
    else:
        url = feedback.message_clicked(ref, number, principal=request.principal, query=query)
    if url is None:
        return _not_found(request)
    response = HttpResponseRedirect(url)
    return _private(response)


def _webview_html(delivery) -> str | None:
    """Render the delivery's message as the contact got it (the sender's render.personalise); None if not."""
    from tidings.emails import render as email_render

    version = selectors.version_of(delivery)
    if version is None:
        return None
    workspace = require_workspace()
    values, owner = selectors.contact_token_values(delivery.contact_id)
    token = links.message_token(workspace.id, delivery.send_id, delivery.contact_id)
    prepared = email_render.prepare(version)
    message = email_render.personalise(prepared, values=values, owner=owner, token=token,
                                       workspace_slug=workspace.slug)  # fmt: skip
    return str(message.html)


@require_permission(FEEDBACK)
def webview(request, public_workspace: str, token: str) -> HttpResponse:
    """The message in a browser, sandboxed (authored HTML runs nothing here); 404 for a bad token."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    ref = _ref(token)
    delivery = selectors.delivery_for(ref) if ref is not None else None
    html = _webview_html(delivery) if delivery is not None else None
    if html is None:
        return _not_found(request)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = WEBVIEW_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)


def _is_one_click(request) -> bool:
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click (form-encoded, or multipart)."""
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return True
    try:
        body = request.body[:200].decode("ascii", "replace").strip()
    except Exception:  # a body already read as a stream
        return False
    return body == ONE_CLICK_BODY


@csrf_exempt  # RFC 8058: the one-click POST carries no cookie; the signed token in the address is the authority
@require_permission(FEEDBACK)
def unsubscribe(request, public_workspace: str, token: str) -> HttpResponse:
    """The unsubscribe page (GET changes nothing) and its POST (the page's button, or RFC 8058's one-click)."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    ref = _ref(token)
    delivery = selectors.delivery_for(ref) if ref is not None else None
    if ref is None or delivery is None:
        return _not_found(request)
    done = False
    if request.method == "POST":
        one_click = _is_one_click(request)
        feedback.message_unsubscribed(ref, principal=request.principal, one_click=one_click)
        if one_click:
            return _private(HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8"))
        done = True
    from tidings.pages import selectors as pages_selectors

    context = {
        "workspace_name": request.workspace.name,
        "done": done or delivery.unsubscribed,
        "just_done": done,
        "preference_url": pages_selectors.preference_link(delivery.contact_id),
    }
    return _private(render(request, "emails/public_unsubscribe.html", context))
