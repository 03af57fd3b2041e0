"""Where an audit entry's target lives: a registry of resolvers, one per target_type, that apps fill.

The audit log sits below the domain apps and never imports them: each app registers, in its
AppConfig.ready(), how a target of its types becomes a link (a contact's page, a company's, the
members list...). A target type nobody registered is shown as text. Resolvers get the workspace
slug and the target id as stored (a string) and return a URL, or None when the id cannot name one
of their objects; they only build links (no query), so a link to a deleted object leads to its 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import NoReverseMatch, reverse

from tidings.inputs import is_ascii_digits

Resolver = Callable[[str, str], "str | None"]

_RESOLVERS: dict[str, Resolver] = {}


def register_target(target_type: str, resolver: Resolver) -> None:
    """Register how targets of target_type become links; a second registration replaces the first."""
    _RESOLVERS[target_type] = resolver


def by_id(url_name: str, id_kwarg: str) -> Resolver:
    """Return a resolver reversing url_name with the workspace slug and the target id (whole numbers only)."""

    def resolve(workspace_slug: str, target_id: str) -> str | None:
        if not is_ascii_digits(target_id):
            return None
        return reverse(url_name, kwargs={"workspace_slug": workspace_slug, id_kwarg: int(target_id)})

    return resolve


def to_page(url_name: str, query: str = "") -> Resolver:
    """Return a resolver pointing every target of a type at one page (its list), e.g. the members page."""

    def resolve(workspace_slug: str, target_id: str) -> str | None:
        return reverse(url_name, kwargs={"workspace_slug": workspace_slug}) + query

    return resolve


def target_url(workspace_slug: str, target_type: str, target_id: str) -> str | None:
    """Return the link to an entry's target, or None (no target, no resolver, or an id it cannot link)."""
    resolver = _RESOLVERS.get(target_type)
    if resolver is None or not target_id:
        return None
    try:
        return resolver(workspace_slug, str(target_id))
    except NoReverseMatch:
        return None
