"""Browse the current workspace's audit log, newest first, with keyset pagination by seq; one entry in detail.

The page joins audit entries with the people who acted (accounts), so it lives in the web shell
above both rather than in the audit app, which every app below accounts records into.
"""

from __future__ import annotations

import datetime

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode

from tidings.accounts.decorators import require_permission
from tidings.accounts.selectors import ACTOR_TYPE_LABELS, actor_labels
from tidings.audit.models import AuditEntry
from tidings.audit.selectors import SUPPORT_REQUEST, audit_entries_for_workspace, audit_entry
from tidings.audit.targets import target_url
from tidings.pagination import InvalidCursor, keyset_page

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label="Action starts with",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "member."}),
    )
    actor = forms.ChoiceField(label="Actor", required=False, choices=[("", "Anyone"), *ACTOR_TYPE_LABELS.items()])
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To (included)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "the end date comes before the start date")
        return data


def _day_start(day: datetime.date | None) -> datetime.datetime | None:
    """Return midnight UTC starting day (the log shows UTC times), or None."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC) if day else None


def entry_rows(entries, workspace_slug: str) -> list[dict]:
    """Pair each entry with its actor's label (one query for all the people named) and its target's link."""
    entries = list(entries)
    labels = actor_labels(entries)
    return [
        {
            "entry": entry,
            "actor": labels[(entry.actor_type, entry.actor_id)],
            "target_url": target_url(workspace_slug, entry.target_type, entry.target_id),
            "support_view": entry.action == SUPPORT_REQUEST,
        }
        for entry in entries
    ]


@require_permission("audit:view")
def audit_log(request, workspace_slug):
    """Show a page of entries; an htmx request for the next page gets only its rows.

    Pages are cut by seq (WHERE seq < last seen), so a page costs the same however deep it is;
    a cursor the page did not issue shows the first page. Dates are UTC days, both ends included;
    an invalid filter shows its error and the unfiltered log.
    """
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    action_prefix, actor_type = filters.get("action") or "", filters.get("actor") or ""
    since, until = filters.get("since"), filters.get("until")
    entries = audit_entries_for_workspace(
        action_prefix=action_prefix,
        actor_type=actor_type,
        since=_day_start(since),
        until=_day_start(until + datetime.timedelta(days=1)) if until else None,
    )
    try:
        page = keyset_page(entries, ordering="-seq", after=filters.get("before") or None, limit=PAGE_SIZE)
    except InvalidCursor:
        page = keyset_page(entries, ordering="-seq", limit=PAGE_SIZE)
    next_query = ""
    if page.has_more:
        params = {"action": action_prefix, "actor": actor_type, "since": since, "until": until,
                  "before": page.next_cursor}  # fmt: skip
        next_query = urlencode({key: value for key, value in params.items() if value})
    context = {"form": form, "rows": entry_rows(page.items, workspace_slug), "next_query": next_query}
    template = "audit/_rows.html" if request.htmx else "audit/log.html"
    return render(request, template, context)


@require_permission("audit:view")
def audit_entry_detail(request, workspace_slug, seq):
    """Show one entry: who, what, when, its target (linked), its data, and its place in the hash chain."""
    try:
        entry = audit_entry(seq)
    except AuditEntry.DoesNotExist:
        raise Http404("Not found.") from None
    row = entry_rows([entry], workspace_slug)[0]
    data = sorted(entry.data.items()) if isinstance(entry.data, dict) else []
    return render(request, "audit/entry.html", {"row": row, "entry": entry, "data": data})
