"""What every contacts page shares: rendering with the page's context, URLs, owner names."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse


def render_page(request, template: str, context: dict, status: int = 200):
    """Render with `can`: what the principal may do here, so pages offer only what will be allowed."""
    principal = request.principal
    context["can"] = {
        "edit": principal.can("contacts:edit"),
        "delete": principal.can("contacts:delete"),
        "import": principal.can("contacts:import"),
        "export": principal.can("contacts:export"),
    }
    return render(request, template, context, status=status)


def owner_names(request, ids) -> dict[str, str]:
    """Return {str(user id): name or email} of those of ids that are members (one query, not every member)."""
    from tidings.accounts.selectors import members_by_id

    users = members_by_id(request.workspace, {int(i) for i in ids if isinstance(i, int)})
    return {str(pk): user.get_full_name() or user.email for pk, user in users.items()}


def slug_of(request) -> str:
    return request.workspace.slug


def contact_url(request, contact_id: int, anchor: str = "") -> str:
    url = reverse("contacts:detail", kwargs={"workspace_slug": slug_of(request), "contact_id": contact_id})
    return f"{url}#{anchor}" if anchor else url


def suggest_urls_of(request) -> dict[str, str]:
    """Return the autocomplete endpoints a contact or company form asks (ValuesForm's suggest_urls)."""
    slug = {"workspace_slug": slug_of(request)}
    return {"country": reverse("contacts:country_suggest", kwargs=slug),
            "company": reverse("contacts:company_suggest", kwargs=slug),
            "owner": reverse("contacts:owner_suggest", kwargs=slug)}  # fmt: skip
