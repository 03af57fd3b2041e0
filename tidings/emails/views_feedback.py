"""Emails' feedback pages: an email's stats (counts, per variant, opens and clicks per day) and the
suppression list. Thin: selectors and actions of tidings.emails do the work.

The suppression list never shows an address: only its keyed hash is stored. A row shows its reason, its
date and, when the address belonged to a known contact, a link to the contact (with its current email
address only for a member who may see contacts' personal data).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.emails import selectors, selectors_sending
from tidings.emails.actions import feedback
from tidings.emails.models import SuppressionReason
from tidings.ui.charts import time_series
from tidings.ui.confirm import confirmation_required
from tidings.validation import form_add_errors

SUPPRESSIONS_PAGE = 50


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"emails_feedback:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


@found
@require_permission("emails:view")
def email_stats(request, workspace_slug, email_id):
    """An email's counts, those of its A/B variants, and its opens, clicks and replies per day (the last 30 days)."""
    stats = selectors.email_stats(email_id)
    series = selectors.email_stats_series(email_id, days=30)
    charts = [
        time_series([(d.day, d.opens) for d in series], title="Opens by day", value_label="Opens",
                    empty_message="No open yet."),
        time_series([(d.day, d.clicks) for d in series], title="Clicks by day", value_label="Clicks",
                    empty_message="No click yet."),
        time_series([(d.day, d.replies) for d in series], title="Replies by day", value_label="Replies",
                    empty_message="No reply yet."),
    ]  # fmt: skip
    context = {"stats": stats, "charts": charts, "name": selectors.email_name(email_id),
               "can_send": request.principal.can("emails:send"),
               "ab": selectors_sending.ab_test_states([email_id]).get(email_id)}  # fmt: skip
    return render(request, "emails/stats.html", context)


class SuppressionForm(forms.Form):
    address = forms.EmailField(label="Email address", max_length=254,
                               help_text="Only a keyed hash of it is kept: the list never shows it again.")  # fmt: skip


def _rows(request, rows):
    from tidings.contacts import selectors as contacts_selectors

    see_people = request.principal.can("contacts:view")
    ids = {row.contact_id for row in rows if row.contact_id}
    contacts = contacts_selectors.contacts_get(ids) if ids and see_people else {}
    out = []
    for row in rows:
        contact = contacts.get(row.contact_id) if row.contact_id else None
        out.append({
            "row": row,
            "reason": SuppressionReason(row.reason).label if row.reason in SuppressionReason.values else row.reason,
            "contact_id": row.contact_id if see_people else None,
            "contact_url": reverse("contacts:detail", kwargs={"workspace_slug": request.workspace.slug,
                                                             "contact_id": row.contact_id})
            if (row.contact_id and see_people and contact is not None) else "",
            "email": (contact.email if contact is not None else "") or "",
        })  # fmt: skip
    return out


@require_permission("emails:view")
def suppression_list(request, workspace_slug):
    """The addresses no email may go to (hard bounces, repeated soft bounces, complaints, added by hand)."""
    after = request.GET.get("after", "")
    after_id = int(after) if after.isascii() and after.isdigit() and len(after) < 19 else None
    rows = selectors.suppressions(limit=SUPPRESSIONS_PAGE + 1, after_id=after_id)
    more = len(rows) > SUPPRESSIONS_PAGE
    rows = rows[:SUPPRESSIONS_PAGE]
    form = SuppressionForm()
    status = 200
    if request.method == "POST":
        from tidings.accounts.permissions import require

        require(request.principal, "emails:send")
        form = SuppressionForm(request.POST)
        if form.is_valid():
            try:
                feedback.suppression_add(form.cleaned_data["address"], principal=request.principal)
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, "The address is suppressed: no email goes to it any more.")
                return redirect(_url(request, "suppressions"))
        status = 400
    context = {"rows": _rows(request, rows), "form": form, "can_send": request.principal.can("emails:send"),
               "next_after": rows[-1].pk if (more and rows) else None}  # fmt: skip
    return render(request, "emails/suppressions.html", context, status=status)


@require_POST
@found
@require_permission("emails:send")
def suppression_remove(request, workspace_slug, suppression_id):
    """Take an address off the list, after a confirmation."""
    row = selectors.suppression_get(suppression_id)
    page = confirmation_required(
        request,
        title="Remove this address from the suppression list?",
        message="Emails may go to it again. A Do-Not-Contact set on its contact by the bounce or complaint stays.",
        label="Remove",
        back=_url(request, "suppressions"),
    )
    if page:
        return page
    feedback.suppression_remove(row.pk, principal=request.principal)
    messages.success(request, "The address is off the suppression list.")
    return redirect(_url(request, "suppressions"))
