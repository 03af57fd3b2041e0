"""Pages of the duplicates finder: candidate pairs, the side-by-side merge preview, and "not duplicates".

Thin like tidings.contacts.views: the finder and the preview are reads of
tidings.contacts.duplicates, the merge and the dismissal are actions.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, duplicates
from tidings.contacts.views.common import contact_url, owner_names, render_page
from tidings.validation import error_message

SIDES = ("winner", "loser")


def _list_url(request) -> str:
    return reverse("contacts:duplicates", kwargs={"workspace_slug": request.workspace.slug})


@require_permission("contacts:edit")
def duplicate_list(request, workspace_slug):
    """List pairs of contacts that may be one person, with why, each linking to its merge preview."""
    after = request.GET.get("after") or None
    try:
        page = duplicates.duplicate_candidates(after=after)
    except ValidationError:
        context = {"page": None, "error": "This page link is no longer valid: start from the first page."}
        return render_page(request, "contacts/duplicates.html", context, status=400)
    return render_page(request, "contacts/duplicates.html", {"page": page, "error": ""})


@require_POST
@found
@require_permission("contacts:edit")
def duplicate_dismiss(request, workspace_slug, contact_id, other_id):
    """Record that two contacts are different people, so the finder stops proposing them."""
    try:
        actions.duplicate_dismiss(contact_id, other_id, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, f"Contacts #{min(contact_id, other_id)} and #{max(contact_id, other_id)} "
                                  "will not be proposed as duplicates again.")  # fmt: skip
    return redirect(_list_url(request))


def _shown(value, alias: str, owners: dict[str, str]) -> str:
    """Return a field value as the preview shows it (an owner by name, a list joined, nothing as "")."""
    if value is None or value == "" or value == []:
        return ""
    if alias == "owner":
        return owners.get(str(value), f"#{value}")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


@found
@require_permission("contacts:edit")
def merge_preview(request, workspace_slug, contact_id, other_id):
    """Show two contacts side by side, one radio per field to choose its winner; posting merges with those choices.

    contact_id is the contact that stays (the winner); other_id is erased. Opening the page
    needs contacts:edit, merging also contacts:delete, as on the merge page.
    """
    preview = duplicates.merge_preview(contact_id, other_id)
    chosen = {f.alias: f.default for f in preview.fields if not f.rule}
    errors: list[str] = []
    if request.method == "POST":
        for alias in chosen:
            side = request.POST.get(f"choice-{alias}", chosen[alias])
            if side not in SIDES:
                errors.append("Choose this contact's or the other's value for every field.")
                break
            chosen[alias] = side
        if not errors:
            if not request.principal.can("contacts:delete"):
                raise PermissionDenied("Merging erases the other contact: you need the contacts:delete permission.")
            # Every field's side is passed: one kept on the winner's side stays as the winner has it, even empty.
            try:
                actions.contact_merge(
                    contact_id, other_id, choices=chosen, principal=request.principal, request=request
                )
            except ValidationError as error:
                errors.append(error_message(error))
            else:
                messages.success(request, f"Contact #{other_id} merged into this one.")
                return redirect(contact_url(request, contact_id))
    owners = owner_names(request, [v for f in preview.fields if f.alias == "owner" for v in (f.winner, f.loser)])
    rows = [
        {
            "field": f,
            "winner": _shown(f.winner, f.alias, owners),
            "loser": _shown(f.loser, f.alias, owners),
            "chosen": chosen.get(f.alias, "winner"),
        }
        for f in preview.fields
    ]
    context = {"preview": preview, "rows": rows, "errors": errors}
    return render_page(request, "contacts/merge_preview.html", context, status=400 if errors else 200)
