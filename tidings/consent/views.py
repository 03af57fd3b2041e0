"""Consent pages: the contact page's "Consents" panel, and the page of purposes and privacy notices.

Thin: forms in, tidings.consent.actions and .selectors do the work. A purpose named in a URL is
read through a selector scoped to request.workspace; one of another workspace answers 404
exactly like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import require_permission
from tidings.consent import actions, selectors
from tidings.consent.forms import NoticeForm, PurposeEditForm, PurposeForm
from tidings.validation import form_add_errors

HISTORY_SHOWN = 20  # records on the contact panel; the API lists them all


def _settings_url(request) -> str:
    return reverse("consent:settings", kwargs={"workspace_slug": request.workspace.slug})


def _page(request, *, purpose_form=None, notice_form=None, status=200):
    context = {
        "purposes": selectors.purposes(),
        "notices": list(selectors.notices()[:50]),
        "purpose_form": purpose_form or PurposeForm(),
        "notice_form": notice_form or NoticeForm(),
        "can_manage": request.principal.can("privacy:manage"),
    }
    return render(request, "consent/settings.html", context, status=status)


@require_permission("privacy:view")
def consent_settings(request, workspace_slug):
    """The workspace's purposes (with their lawful basis) and the versions of its privacy notice."""
    return _page(request)


@require_POST
@require_permission("privacy:manage")
def purpose_create(request, workspace_slug):
    form = PurposeForm(request.POST)
    if form.is_valid():
        try:
            actions.purpose_create(principal=request.principal, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Purpose added.")
            return redirect(_settings_url(request))
    return _page(request, purpose_form=form, status=400)


@require_permission("privacy:manage")
def purpose_edit(request, workspace_slug, purpose_id):
    """Change a stored purpose's name, description, lawful basis or activity; its key never changes."""
    try:
        purpose = selectors.purpose_get(purpose_id)
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error
    status = 200
    if request.method == "POST":
        form = PurposeEditForm(request.POST)
        if form.is_valid():
            try:
                actions.purpose_update(purpose.pk, principal=request.principal, request=request, **form.cleaned_data)
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, "Purpose saved.")
                return redirect(_settings_url(request))
        status = 400
    else:
        form = PurposeEditForm(initial={"name": purpose.name, "description": purpose.description,
                                        "lawful_basis": purpose.lawful_basis, "active": purpose.active})  # fmt: skip
    return render(request, "consent/purpose_edit.html", {"purpose": purpose, "form": form}, status=status)


@require_POST
@require_permission("privacy:manage")
def notice_publish(request, workspace_slug):
    form = NoticeForm(request.POST)
    if form.is_valid():
        try:
            notice = actions.notice_publish(principal=request.principal, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Version {notice.version} published; new consents record it.")
            return redirect(_settings_url(request))
    return _page(request, notice_form=form, status=400)


# ==============================================================================================
# The contact page's panel


def contact_panel(request, contact) -> dict:
    """The "Consents" panel: the current decision per purpose, and the latest records of the ledger."""
    state = selectors.consent_state(contact.id)
    history = list(selectors.consent_history(contact.id)[:HISTORY_SHOWN])
    keys = selectors.purpose_keys(r.purpose_id for r in history)
    return {
        "consent_rows": [(purpose, state.get(purpose.key)) for purpose in selectors.purposes()],
        "consent_history": [(keys.get(r.purpose_id, "?"), r) for r in history],
    }
