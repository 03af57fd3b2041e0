"""The native API of landing pages under /api/v1/: CRUD of the workspace's pages.

Every endpoint states its permission (pages:view to read, pages:edit to write), calls one selector or
action and lets tidings.api turn errors into the one error format: a page of another workspace is a
404 exactly like one that does not exist, invalid values a 422 keyed by field whose messages never
repeat a value. Content is sanitised by the action, so what is read back is what is served.
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.pages import actions, content, selectors
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.tenancy.context import require_workspace

router = Router(tags=["pages"])

VIEW, EDIT = "pages:view", "pages:edit"


class PageOut(Schema):
    id: int
    title: str
    slug: str = Field(description="The end of the page's public address, /m/<workspace>/p/<slug>.")
    url: str = Field(description="The page's public address (served only while published).")
    content: str = Field(description="Sanitised HTML; {form=ID} and {pagelink=ID} tokens are replaced when served.")
    meta_description: str
    noindex: bool
    canonical_url: str
    og_title: str
    is_published: bool
    redirect_type: str = Field(description='"" (none: 404 when unpublished), "301" or "302".')
    redirect_url: str
    token_problems: list[str] = Field(description="Tokens that render as nothing (unknown or unpublished ids).")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PagePage(Schema):
    items: list[PageOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class PageIn(Schema):
    title: str
    slug: str = Field("", description="Made from the title when empty; unique in the workspace.")
    content: str = ""
    meta_description: str = ""
    noindex: bool = False
    canonical_url: str = ""
    og_title: str = ""
    is_published: bool = False
    redirect_type: str = ""
    redirect_url: str = ""


class PagePatch(Schema):
    title: str | None = None
    slug: str | None = None
    content: str | None = None
    meta_description: str | None = None
    noindex: bool | None = None
    canonical_url: str | None = None
    og_title: str | None = None
    is_published: bool | None = None
    redirect_type: str | None = None
    redirect_url: str | None = None


def _page_out(page, *, problems: bool = True) -> dict:
    return {
        "id": page.pk,
        "title": page.title,
        "slug": page.slug,
        "url": content.public_url(require_workspace().slug, page.slug),
        "content": page.content,
        "meta_description": page.meta_description,
        "noindex": page.noindex,
        "canonical_url": page.canonical_url,
        "og_title": page.og_title,
        "is_published": page.is_published,
        "redirect_type": page.redirect_type,
        "redirect_url": page.redirect_url,
        "token_problems": selectors.token_problems(page.content) if problems else [],
        "created_at": page.created_at,
        "updated_at": page.updated_at,
    }


@router.get("/pages", response=PagePage, summary="List landing pages")
@require_permission(VIEW)
def list_pages(request, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), cursor: str | None = None):
    """List the workspace's pages by title, one keyset page at a time (needs pages:view).

    token_problems is left empty in lists (it is checked per page on read and write).
    """
    page = paginate_keyset(selectors.pages(), ordering="title", limit=limit, cursor=cursor)
    return {"items": [_page_out(p, problems=False) for p in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/pages", response={201: PageOut}, summary="Create a landing page")
@require_permission(EDIT)
def create_page(request, payload: PageIn):
    """Create a page, its content sanitised (needs pages:edit); 422 on invalid values, keyed by field."""
    page = actions.page_create(principal=request.principal, request=request, **payload.dict())
    return Status(201, _page_out(page))


@router.get("/pages/{page_id}", response=PageOut, summary="Get a landing page")
@found
@require_permission(VIEW)
def get_page(request, page_id: Id):
    """Return one page (needs pages:view); 404 when not in this workspace."""
    return _page_out(selectors.page_get(page_id))


@router.patch("/pages/{page_id}", response=PageOut, summary="Change a landing page")
@found
@require_permission(EDIT)
def update_page(request, page_id: Id, payload: PagePatch):
    """Change the given attributes (needs pages:edit); 422 on invalid values."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    page = actions.page_update(page_id, principal=request.principal, request=request, **changes)
    return _page_out(page)


@router.delete("/pages/{page_id}", response={204: None}, summary="Delete a landing page")
@found
@require_permission(EDIT)
def delete_page(request, page_id: Id):
    """Delete a page (needs pages:edit); its address answers 404 at once."""
    actions.page_delete(page_id, principal=request.principal, request=request)
    return Status(204, None)
