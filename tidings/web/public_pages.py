"""A workspace's public pages: landing pages (/m/<ws>/p/<slug>) and the preference centre (/m/<ws>/preferences/<token>).

Both enter through the public-page door (tidings.web.entry.PUBLIC_PAGE): the workspace is the URL's,
the visitor anonymous and rate-limited per address. They live in the web shell, above the pages app,
because only the shell may take a request through the entry pipeline; tidings.pages' selectors and
actions do the work.

What a stranger can learn is nothing: an unknown workspace, an unknown or unpublished page, a page of
another workspace, and a forged, expired or foreign preference token all get the same 404 page. The
preference centre shows only the names the workspace chose (lists, purposes) and the contact's own
choices, never a value of its profile; its answers are not cached and send a Referer to this host only (the
token is in the address).
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from tidings.accounts.decorators import public
from tidings.pages import actions as pages_actions
from tidings.pages import selectors as pages_selectors
from tidings.subject_requests import actions as subject_requests_actions
from tidings.tenancy.network import client_ip
from tidings.web.entry import Refusal, public_page_entry

MAX_CHOICES = 200  # subscription ids or purpose keys one save may name


def _not_found(request) -> HttpResponse:
    context = {"title": "Page not found", "message": "There is no page at this address, or it has expired."}
    return render(request, "public_message.html", context, status=404)


def refused(request, refusal: Refusal) -> HttpResponse:
    """Answer a refusal of the door: too many requests (429), otherwise the same 404 as a missing page."""
    if refusal.reason == "rate_limited":
        context = {"title": "Too many requests", "message": "Please wait a minute before trying again."}
        response = render(request, "public_message.html", context, status=429)
        response["Retry-After"] = str(refusal.details.get("window", 60))
        return response
    return _not_found(request)


@public_page_entry(answer=refused)
@public
@require_safe
# A page's images may live on the customer's own hosts. (django-csp types its decorator for views of one argument.)
@csp_update({"img-src": ["https:"]})  # type: ignore[arg-type]
def landing_page(request, page_slug: str) -> HttpResponse:
    """Serve a published landing page; an unpublished one redirects where it says, or is not found."""
    try:
        page = pages_selectors.page_by_slug(page_slug)
    except ObjectDoesNotExist:
        return _not_found(request)
    if not page.is_published:
        if page.redirect_type and page.redirect_url:
            redirect_class = HttpResponsePermanentRedirect if page.redirect_type == "301" else HttpResponseRedirect
            return redirect_class(page.redirect_url)
        return _not_found(request)
    host = request.get_host().rsplit(":", 1)[0].strip("[]")
    site = pages_selectors.tracking_site_for_host(host)
    tracker = {"src": pages_selectors.tracker_src(), "key": site.public_key} if site is not None else None
    context = {"page": page, "body": pages_selectors.page_render(page), "tracker": tracker, "preview": False}
    return render(request, "pages/public_page.html", context)


def _ids(values: list[str]) -> set[int]:
    return {int(value) for value in values[:MAX_CHOICES] if value.isascii() and value.isdigit() and len(value) < 19}


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer would make the form post Origin: null (CSRF)
    return response


@public_page_entry(answer=refused)
@public
@require_http_methods(["GET", "HEAD", "POST"])
def preference_centre(request, token: str) -> HttpResponse:
    """A contact's preference centre, opened by its signed link: subscriptions, email, consents, data requests."""
    contact_id = pages_selectors.contact_for_preference_token(token)
    if contact_id is None:
        return _private(_not_found(request))
    principal = pages_selectors.preference_principal(request.workspace, contact_id)
    saved, requested = False, None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "save":
            offered = request.POST.getlist("offered")[:MAX_CHOICES]
            ticked = set(request.POST.getlist("consent")[:MAX_CHOICES])
            pages_actions.preferences_save(
                contact_id,
                principal=principal,
                subscriptions=_ids(request.POST.getlist("subscription")),
                unsubscribe_all=request.POST.get("unsubscribe_all") == "1",
                consents={key: key in ticked for key in offered},
                ip=client_ip(request) or None,
                request=request,
            )
            saved = True
        elif action in {"access", "erasure"}:
            requested = subject_requests_actions.request_receive(
                action, principal=principal, source="preference_centre", contact_id=contact_id, request=request
            )
    context = {
        "workspace_name": request.workspace.name,
        "prefs": pages_selectors.preferences(contact_id),
        "saved": saved,
        "requested": requested,
    }
    return _private(render(request, "pages/preference_centre.html", context))
