"""A landing page's content: the slug rules, sanitising on save, and the Mautic tokens rendered on view.

Content is HTML cleaned by tidings.html_sanitise when it is saved (no script, style, event handler or
javascript: URL survives), so the public path serves it as stored. Two of Mautic's tokens are kept in
it and replaced when the page is served:

- ``{form=ID}``: the published form's HTML (tidings.forms.selectors.form_embed_html, imported lazily:
  forms is another app and may not be installed); an unknown or unpublished form's token is removed;
- ``{pagelink=ID}``: the public address of another published page of the workspace; "#" when none.

``token_problems`` lists the tokens that would render as nothing, for the editor to report on save.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from tidings.html_sanitise import clean_html

MAX_SLUG = 191
SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# Words that name, or may one day name, a route of the workspace's public path or of the editor.
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "asset", "assets", "delete", "edit", "form", "forms", "index", "login", "m", "mtc",
        "mtracking", "new", "oauth", "p", "page", "pages", "preferences", "preview", "static", "t", "unsubscribe",
    }
)  # fmt: skip
TOKEN_RE = re.compile(r"\{(form|pagelink)=(\d{1,18})\}")


def clean_content(value: str) -> str:
    """Return value sanitised with the house allow-list (the only HTML a page may store)."""
    return clean_html(value) if value else ""


def slug_problem(slug: str) -> str | None:
    """Return why slug cannot name a page (without repeating it), or None when it can."""
    if not slug or len(slug) > MAX_SLUG:
        return f"a slug of 1 to {MAX_SLUG} characters"
    if not SLUG_RE.match(slug):
        return "lowercase letters and digits, words joined by dashes"
    if slug in RESERVED_SLUGS:
        return "a word Tidings keeps for its own addresses: choose another"
    return None


def slug_from_title(title: str) -> str:
    """Return a slug made from title ("untitled" when nothing of it is left; a reserved word gets "-page")."""
    slug = slugify(title)[: MAX_SLUG - 5].strip("-_") or "untitled"
    return f"{slug}-page" if slug in RESERVED_SLUGS else slug


def public_url(workspace_slug: str, page_slug: str) -> str:
    """Return the public address of a page: <base>/m/<workspace>/p/<slug>."""
    return f"{str(settings.TIDINGS_BASE_URL).rstrip('/')}/m/{workspace_slug}/p/{page_slug}"


def tokens(content: str) -> list[tuple[str, int]]:
    """Return the (kind, id) of every token in content, in order, without repeats."""
    seen: list[tuple[str, int]] = []
    for kind, number in TOKEN_RE.findall(content or ""):
        token = (kind, int(number))
        if token not in seen:
            seen.append(token)
    return seen


def render(
    content: str, *, form_html: Callable[[int], str | None], page_url: Callable[[int], str | None]
) -> SafeString:
    """Return stored (sanitised) content with its tokens replaced: forms by their HTML, page links by addresses."""

    def replace(match: re.Match) -> str:
        kind, number = match.group(1), int(match.group(2))
        if kind == "form":
            return form_html(number) or ""
        url = page_url(number)
        return escape(url) if url else "#"

    return mark_safe(TOKEN_RE.sub(replace, content or ""))  # noqa: S308 - stored content is sanitised on save
