"""The native API of tracking under /api/v1/: sites (CRUD, key rotation) and the events of a contact or a site.

Every endpoint states its permission (tracking:view to read, tracking:edit to write; a contact's
events also need contacts:view), calls one selector or action and lets tidings.api turn errors into
the one error format: a site or contact of another workspace is a 404 exactly like one that does
not exist, invalid values a 422 keyed by field whose messages never repeat a value.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ObjectDoesNotExist
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.accounts.permissions import require
from tidings.api.errors import NotFound, Unprocessable, found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.contacts.conditions import existing_contact_ids
from tidings.events import selectors as events
from tidings.events.registry import UnknownEventType, code_for, event_types, label
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.tracking import actions, selectors
from tidings.tracking.models import ConsentMode, IpStorage
from tidings.tracking.traffic_api import router as traffic_router

router = Router(tags=["tracking"])
router.add_router("", traffic_router)  # GET /sites/{id}/traffic: the cookieless counts, suppressed below k

VIEW, EDIT = "tracking:view", "tracking:edit"
MAX_TYPES = 20  # type names one events query may filter on


# ==============================================================================================
# Schemas


class SiteOut(Schema):
    id: int
    name: str
    public_key: str = Field(description="The key of the snippet (data-site); rotating it stops the old one.")
    domains: list[str] = Field(description='Hosts whose pages may send hits; ".shop.example" allows subdomains.')
    consent_mode: ConsentMode
    ip_storage: IpStorage
    excluded_networks: list[str] = Field(description="CIDRs whose hits are ignored.")
    active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SitePage(Schema):
    items: list[SiteOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class SiteIn(Schema):
    name: str
    domains: list[str] = Field(default_factory=list, max_length=50)
    consent_mode: str = Field(ConsentMode.CONSENT.value, description="consent | legitimate_interest | cookieless")
    ip_storage: str = Field(IpStorage.NETWORK.value, description="network | none")
    excluded_networks: list[str] = Field(default_factory=list, max_length=50)
    active: bool = True


class SitePatch(Schema):
    name: str | None = None
    domains: list[str] | None = Field(None, max_length=50)
    consent_mode: str | None = None
    ip_storage: str | None = None
    excluded_networks: list[str] | None = Field(None, max_length=50)
    active: bool | None = None


class EventOut(Schema):
    id: int
    type: str = Field(description='The event type\'s name, e.g. "page.hit".')
    at: datetime.datetime
    contact_id: int | None = Field(description="The contact: the event's own, or its device's once identified.")
    visitor_id: int | None
    data: dict = Field(description="The type's data keys; dictionary ids (URLs) resolved to their text.")


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


def _site_out(site) -> dict:
    return {
        "id": site.pk,
        "name": site.name,
        "public_key": site.public_key,
        "domains": list(site.domains),
        "consent_mode": site.consent_mode,
        "ip_storage": site.ip_storage,
        "excluded_networks": list(site.excluded_networks),
        "active": site.active,
        "created_at": site.created_at,
        "updated_at": site.updated_at,
    }


# ==============================================================================================
# Sites


@router.get("/sites", response=SitePage, summary="List tracked sites")
@require_permission(VIEW)
def list_sites(request, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), cursor: str | None = None):
    """List the workspace's sites by name, one keyset page at a time (needs tracking:view)."""
    page = paginate_keyset(selectors.sites(), ordering="name", limit=limit, cursor=cursor)
    return {"items": [_site_out(site) for site in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/sites", response={201: SiteOut}, summary="Register a site")
@require_permission(EDIT)
def create_site(request, payload: SiteIn):
    """Register a site with a fresh public key (needs tracking:edit); 422 on invalid values, keyed by field."""
    site = actions.site_create(principal=request.principal, request=request, **payload.dict())
    return Status(201, _site_out(site))


@router.get("/sites/{site_id}", response=SiteOut, summary="Get a site")
@found
@require_permission(VIEW)
def get_site(request, site_id: Id):
    """Return one site (needs tracking:view); 404 when not in this workspace."""
    return _site_out(selectors.site_get(site_id))


@router.patch("/sites/{site_id}", response=SiteOut, summary="Change a site")
@found
@require_permission(EDIT)
def update_site(request, site_id: Id, payload: SitePatch):
    """Change the given attributes (needs tracking:edit); 422 on invalid values."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    site = actions.site_update(site_id, principal=request.principal, request=request, **changes)
    return _site_out(site)


@router.post("/sites/{site_id}/rotate_key", response=SiteOut, summary="Give a site a new public key")
@found
@require_permission(EDIT)
def rotate_site_key(request, site_id: Id):
    """Replace the site's key (needs tracking:edit): the old one stops working at once."""
    return _site_out(actions.site_rotate_key(site_id, principal=request.principal, request=request))


@router.delete("/sites/{site_id}", response={204: None}, summary="Delete a site")
@found
@require_permission(EDIT)
def delete_site(request, site_id: Id):
    """Delete a site (needs tracking:edit); its key stops working, recorded events stay."""
    actions.site_delete(site_id, principal=request.principal, request=request)
    return Status(204, None)


# ==============================================================================================
# Events


def _type_codes(names: list[str]) -> list[int] | None:
    if not names:
        return None
    if len(names) > MAX_TYPES:
        raise Unprocessable("The request is not valid.", details={"fields": {"type": [f"at most {MAX_TYPES} types"]}})
    try:
        return [code_for(name) for name in names]
    except UnknownEventType as error:
        raise Unprocessable("The request is not valid.",
                            details={"fields": {"type": ["an event type name, e.g. page.hit"]}}) from error  # fmt: skip


_CONTACT = Query(None, description="A contact id: its events, its identified devices' included.")
_SITE = Query(None, description="A site id: the events tracking recorded for it.")
_TYPES = Query([], description="Event type names to keep (repeat the parameter).")
_SINCE = Query(None, description="Events at or after this time.")
_UNTIL = Query(None, description="Events before this time.")


@router.get("/events", response=EventPage, summary="Query the events of a contact or of a site")
@require_permission(VIEW)
def list_events(
    request,
    contact: Id | None = _CONTACT,
    site: Id | None = _SITE,
    type: list[str] = _TYPES,  # noqa: A002 - the query parameter's name
    since: datetime.datetime | None = _SINCE,
    until: datetime.datetime | None = _UNTIL,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """Return events newest first, one keyset page at a time: exactly one of contact or site (needs tracking:view).

    A contact's events also need contacts:view. 404 for a contact or site not in this workspace;
    422 for neither or both, or an unknown type name.
    """
    if (contact is None) == (site is None):
        raise Unprocessable("The request is not valid.",
                            details={"fields": {"contact": ["give exactly one of contact or site"]}})  # fmt: skip
    codes = _type_codes(type)
    if contact is not None:
        require(request.principal, "contacts:view")
        if not existing_contact_ids([contact]):
            raise NotFound("Not found.")
        queryset = events.events_page_query(contact_id=contact, types=codes, since=since, until=until)
    else:
        assert site is not None  # exactly one of the two, checked above
        try:
            selectors.site_get(site)
        except ObjectDoesNotExist as error:
            raise NotFound("Not found.") from error
        site_codes = [spec.code for spec in event_types() if "site" in spec.keys]
        wanted = [code for code in site_codes if codes is None or code in codes]
        if not wanted:
            return {"items": [], "next_cursor": None}
        queryset = events.events_page_query(data={"site": site}, types=wanted, since=since, until=until)
    page = paginate_keyset(queryset, ordering="-id", limit=limit, cursor=cursor)
    rows = [{"id": e.pk, "type": e.type, "at": e.at, "who": e.who, "visitor_id": e.visitor_id, "data": dict(e.data)}
            for e in page["items"]]  # fmt: skip
    events.resolve_strings(rows)
    items = [
        {"id": row["id"], "type": label(row["type"]), "at": row["at"], "contact_id": row["who"],
         "visitor_id": row["visitor_id"], "data": row["data"]}
        for row in rows
    ]  # fmt: skip
    return {"items": items, "next_cursor": page["next_cursor"]}
