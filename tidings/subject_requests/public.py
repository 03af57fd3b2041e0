"""The subject's side: the public request form, the link that confirms a request, the access package.

All three are on the workspace's public path and enter through the public-page door (the workspace
middleware takes the ``public_workspace`` kwarg through): the visitor acts with privacy:ask only and is
rate-limited per address. Whatever is typed, the form answers the same page ("check your inbox"): it
never says whether an address belongs to a contact. A bad, used, expired or foreign link or package token
gets the same "not valid" page. Nothing here is cached and the pages send no Referer elsewhere.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from tidings.accounts.decorators import require_permission
from tidings.subject_requests import actions, links, selectors
from tidings.subject_requests.models import RequestKind, RequestSource, RequestStatus
from tidings.tenancy.context import require_workspace

HONEYPOT = "website"  # a field people never see; bots fill it in


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _not_valid(request) -> HttpResponse:
    context = {"title": "This link is not valid", "message": "It may have expired or been used already. "
               "You can send a new request from the form."}  # fmt: skip
    return _private(render(request, "public_message.html", context, status=404))


@require_http_methods(["GET", "HEAD", "POST"])
@require_permission("privacy:ask")
def request_form(request, public_workspace: str) -> HttpResponse:
    """Ask for one's data, its correction, restriction or erasure, or object to marketing, by address."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if request.POST.get(HONEYPOT):
            return _sent(request)  # the same answer: a bot learns nothing
        try:
            actions.request_receive(request.POST.get("kind", ""), principal=request.principal,
                                    source=RequestSource.PUBLIC_FORM, address=request.POST.get("email", "").strip(),
                                    details=request.POST.get("details", ""), request=request)  # fmt: skip
        except ValidationError as error:
            errors = error.message_dict
        else:
            return _sent(request)
    context = {"workspace_name": request.workspace.name, "kinds": RequestKind.choices, "errors": errors,
               "posted": request.POST if errors else {}, "honeypot": HONEYPOT}  # fmt: skip
    return _private(render(request, "subject_requests/public_form.html", context, status=400 if errors else 200))


def _sent(request) -> HttpResponse:
    context = {"title": "Check your inbox", "message": "If the address is known here, a message is on its way to "
               "it: open the link in it to confirm your request. Requests are answered within 30 days."}  # fmt: skip
    return _private(render(request, "public_message.html", context))


@require_http_methods(["GET", "HEAD", "POST"])
@require_permission("privacy:ask")
def verify(request, public_workspace: str, request_id: int, code: str) -> HttpResponse:
    """Confirm a request with the mailed link: GET shows a button (mail scanners open links), POST confirms."""
    if request.method == "POST":
        if not actions.verify_by_token(request_id, code, principal=request.principal, request=request):
            return _not_valid(request)
        context = {"title": "Your request is confirmed",
                   "message": "Thank you. You will hear from us by email when it has been answered."}  # fmt: skip
        return _private(render(request, "public_message.html", context))
    if not selectors.awaiting_confirmation(request_id):
        return _not_valid(request)
    context = {"workspace_name": request.workspace.name}
    return _private(render(request, "subject_requests/public_verify.html", context))


@require_safe
@require_permission("privacy:ask")
def package(request, public_workspace: str, token: str) -> HttpResponse:
    """The access package a completed access request's link opens: a readable page, or JSON (?format=json)."""
    request_id = links.package_request_id(token, require_workspace().id)
    row = selectors.requests_queue(status=RequestStatus.COMPLETED).filter(pk=request_id).first() if request_id else None
    data = selectors.access_package(row) if row is not None else None
    if row is None or data is None:
        return _not_valid(request)
    as_json = request.GET.get("format") == "json"
    actions.package_opened(row.pk, as_json=as_json, principal=request.principal, request=request)
    if as_json:
        response = HttpResponse(json.dumps({"request": row.pk, "data": data}, indent=2, default=str),
                                content_type="application/json")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="my-data-{row.pk}.json"'
        return _private(response)
    context = {"workspace_name": request.workspace.name, "data": data, "row": row}
    return _private(render(request, "subject_requests/public_package.html", context))
