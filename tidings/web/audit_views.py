"""Browse the current workspace's audit log, newest first, with keyset pagination by seq.

The page joins audit entries with the people who acted (accounts), so it lives in the web shell
above both rather than in the audit app, which every app below accounts records into.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.http import urlencode

from tidings.accounts.decorators import require_permission
from tidings.accounts.selectors import ACTOR_TYPE_LABELS, actor_labels
from tidings.audit.selectors import audit_entries_for_workspace
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
    before = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


def entry_rows(entries) -> list[dict]:
    """Pair each entry with its actor's label (one query for all the people named)."""
    entries = list(entries)
    labels = actor_labels(entries)
    return [{"entry": entry, "actor": labels[(entry.actor_type, entry.actor_id)]} for entry in entries]


@require_permission("audit:view")
def audit_log(request, workspace_slug):
    """Show a page of entries; an htmx request for the next page gets only its rows.

    Pages are cut by seq (WHERE seq < last seen), so a page costs the same however deep it is;
    a cursor the page did not issue shows the first page.
    """
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    action_prefix, actor_type = filters.get("action") or "", filters.get("actor") or ""
    entries = audit_entries_for_workspace(action_prefix=action_prefix, actor_type=actor_type)
    try:
        page = keyset_page(entries, ordering="-seq", after=filters.get("before") or None, limit=PAGE_SIZE)
    except InvalidCursor:
        page = keyset_page(entries, ordering="-seq", limit=PAGE_SIZE)
    next_query = ""
    if page.has_more:
        params = {"action": action_prefix, "actor": actor_type, "before": page.next_cursor}
        next_query = urlencode({key: value for key, value in params.items() if value})
    context = {"form": form, "rows": entry_rows(page.items), "next_query": next_query}
    template = "audit/_rows.html" if request.htmx else "audit/log.html"
    return render(request, template, context)
