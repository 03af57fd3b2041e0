"""Mautic's segment API (ListApiController) on Tidings' segments actions and selectors.

Facts read from Mautic 5's source (not copied): the entity ``list``/``lists`` in the serializer
groups leadListDetails, userList, publishDetails and categoryList: isPublished, dateAdded,
dateModified, createdBy, createdByUser, modifiedBy, modifiedByUser, id, name, publicName,
alias, description, category, filters, isGlobal, isPreferenceCenter. The standard routes
(tidings.mautic_compat.standard), plus ``POST /segments/{id}/contact/{cid}/add|remove`` and
``POST /segments/{id}/contacts/add`` with ``ids`` (``{"success": 1, "details": {cid: {"success":
bool}}}``), and ``GET /contacts/{id}/segments`` (``lists`` keyed by segment id: id, name, alias,
dateAdded, manuallyAdded, manuallyRemoved). An alias that is taken gets a number appended, as
Mautic's ListModel does; PUT clears what the body leaves out (Mautic's forms clear missing fields,
isPublished included).

GET /segments answers ``lists`` as a JSON array, as issue #9 specifies; Mautic 5 itself keys it by
id like its other lists (a Paginator over an INDEX BY id query), so a client reading either works
with the values of the array.

Filters are Mautic's filter list on the wire, translated by tidings.mautic_compat.segment_filters
and checked by the segments app like any definition. What differs, by design: Tidings' segments
are all visible to the whole workspace (isGlobal is always true), have no category, public
name of their own (publicName is the name, ignored on input); isPreferenceCenter is the segment's
in_preference_centre (a subscription list of the preference centre); modifiedBy is not recorded
(null). Errors of a translated definition that only the segments app finds (a value of the wrong
type...) are keyed by the translated definition's path ("filters.0.filters.1.value"), which follows
Mautic's order but groups its OR-runs.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import path
from django.utils.text import slugify

from tidings.accounts.decorators import require_permission
from tidings.accounts.selectors import members_by_id
from tidings.contacts.conditions import existing_contact_ids
from tidings.inputs import InvalidInput, is_ascii_digits, parse_bool, parse_id
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import ListParams, optional_text, request_data
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.segment_filters import from_mautic, to_mautic
from tidings.mautic_compat.standard import ENTITY_COLUMNS, Resource, allow, listed, standard_views
from tidings.segments import actions, selectors
from tidings.segments.models import MembershipStatus
from tidings.tenancy.context import require_workspace

VIEW, EDIT = "segments:view", "segments:edit"
MEMBERS_LIMIT = 1000  # ids of one POST /segments/{id}/contacts/add; Mautic sets none, a request must end
ORDER_COLUMNS = {
    "id": "id",
    "name": "name",
    "alias": "alias",
    "dateAdded": "created_at",
    "date_added": "created_at",
    "l.id": "id",
    "l.name": "name",
    "l.alias": "alias",
    "l.dateAdded": "created_at",
}
_ALIAS_TRIES = 100

# The request being answered, so that serialising knows whether its caller may see sealed filter
# values (the standard views serialise without the request). Set by _with_request around each view.
_request: ContextVar[Any] = ContextVar("mautic_segments_request", default=None)


def _may_see_values() -> bool:
    principal = getattr(_request.get(), "principal", None)
    return principal is not None and principal.can(VIEW)


def _with_request(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        token = _request.set(request)
        try:
            return view(request, *args, **kwargs)
        finally:
            _request.reset(token)

    return wrapped


# ==============================================================================================
# Filters: the lookup the translator asks


class FilterLookup:
    """The workspace as tidings.mautic_compat.segment_filters asks about it: fields, tags and segments."""

    def __init__(self):
        self.known = selectors.lookups()

    def field_type(self, object: str, alias: str) -> str | None:
        fields = self.known.company_fields if object == "company" else self.known.contact_fields
        capability = fields.get(alias) if isinstance(alias, str) else None
        return None if capability is None else str(capability.type)

    def tag_id(self, value: str) -> int | None:
        return _known_id(value, self.known.tag_ids)

    def segment_id(self, value: str) -> int | None:
        return _known_id(value, self.known.segment_ids)

    def campaign_id(self, value: str) -> int | None:
        return _known_id(value, self.known.membership_ids.get("campaign", frozenset()))


def _known_id(value: Any, known: frozenset[int]) -> int | None:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not is_ascii_digits(text) or len(text) > 18:
        return None
    number = int(text)
    return number if number in known else None


def _filters_in(raw: Any) -> list:
    """Return Mautic's filters as a list: a form's filters[0][field]=... arrives as {"0": {...}}."""
    if isinstance(raw, dict):
        keys = list(raw)
        if all(is_ascii_digits(str(key)) and len(str(key)) < 10 for key in keys):
            return [raw[key] for key in sorted(keys, key=lambda key: int(key))]
        raise MauticError(400, "filters: a list of filters.", {"filters": ["a list of filters"]})
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise MauticError(400, "filters: a list of filters.", {"filters": ["a list of filters"]})
    return raw


def definition_of(raw_filters: Any) -> dict:
    """Return the Tidings definition of Mautic's filters; raise ValidationError keyed "filters.N..."."""
    return from_mautic(_filters_in(raw_filters), lookup=FilterLookup())


# ==============================================================================================
# Serialising


def _user_name(user) -> str | None:
    if user is None:
        return None
    return f"{user.first_name} {user.last_name}".strip() or user.email


def serialize_segments(segments: list) -> list[dict]:
    """Return segments in the shape of Mautic's GET /segments/{id}; creators are read in one query for all."""
    if not segments:
        return []
    creators = members_by_id(require_workspace(), {s.created_by for s in segments if s.created_by})
    lookup = FilterLookup()
    open_sealed = _may_see_values()
    result = []
    for segment in segments:
        # Mautic sets dateModified on the first change only; created_at and updated_at differ by
        # microseconds at creation (two defaults), so a change is an update a second later or more.
        modified = (segment.updated_at - segment.created_at).total_seconds() >= 1
        definition = selectors.definition_for_display(segment.definition, open_sealed=open_sealed)
        result.append(
            {
                "isPublished": segment.is_published,
                "dateAdded": mautic_datetime(segment.created_at),
                "dateModified": mautic_datetime(segment.updated_at) if modified else None,
                "createdBy": segment.created_by,
                "createdByUser": _user_name(creators.get(segment.created_by)),
                "modifiedBy": None,
                "modifiedByUser": None,
                "id": segment.pk,
                "name": segment.name,
                "publicName": segment.name,
                "alias": segment.alias,
                "description": segment.description or None,
                "category": None,
                "filters": to_mautic(definition, lookup=lookup),
                "isGlobal": True,
                "isPreferenceCenter": segment.in_preference_centre,
            }
        )
    return result


# ==============================================================================================
# Listing and writing


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    segments = selectors.segments_list(search=params.search, published_only=params.published_only)
    page, total = listed(segments, params, ORDER_COLUMNS)
    return serialize_segments(page), total


def _free_alias(wanted: str, *, exclude_id: int | None = None) -> str:
    """Return wanted as a slug, with a number appended while another segment has it (Mautic's ListModel)."""
    base = slugify(wanted)[:180] or "segment"
    alias = base
    for count in range(1, _ALIAS_TRIES + 1):
        try:
            holder = selectors.segment_by_alias(alias)
        except ObjectDoesNotExist:
            return alias
        if holder.pk == exclude_id:
            return alias
        alias = f"{base}{count}"
    return alias  # still taken: the action names the alias in its error


def _changes(data: dict, method: str, *, segment_id: int | None) -> dict:
    """Return the segment_update/segment_create arguments of a Mautic body (PUT clears what it leaves out)."""
    full = method in ("POST", "PUT")
    changes: dict[str, Any] = {}
    name = optional_text(data, "name")
    if name is not None or full:
        changes["name"] = name or ""
    alias = optional_text(data, "alias")
    if alias:
        changes["alias"] = _free_alias(alias, exclude_id=segment_id)
    elif full:
        changes["alias"] = _free_alias(changes["name"] or "segment", exclude_id=segment_id)
    description = optional_text(data, "description")
    if description is not None or full:
        changes["description"] = description or ""
    if "isPublished" in data:
        try:
            changes["is_published"] = parse_bool(data["isPublished"], strict=True)
        except InvalidInput as error:
            raise MauticError(400, "isPublished: 0 or 1.", {"isPublished": ["0 or 1"]}) from error
    elif method == "PUT":
        changes["is_published"] = False
    elif method == "POST":
        changes["is_published"] = True
    if "isPreferenceCenter" in data:
        try:
            changes["in_preference_centre"] = parse_bool(data["isPreferenceCenter"], strict=True)
        except InvalidInput as error:
            raise MauticError(400, "isPreferenceCenter: 0 or 1.", {"isPreferenceCenter": ["0 or 1"]}) from error
    if "filters" in data or full:
        changes["definition"] = definition_of(data.get("filters"))
    return changes


def _create(request, data: dict, principal, *, method: str):
    changes = _changes(data, method, segment_id=None)
    return actions.segment_create(principal=principal, request=request, **changes), True


def _update(request, segment_id: int, data: dict, method: str, principal):
    changes = _changes(data, method, segment_id=segment_id)
    return actions.segment_update(segment_id, principal=principal, request=request, **changes)


SEGMENTS = Resource(
    one="list",
    many="lists",
    list=_list,
    get=selectors.segment_get,
    serialize=serialize_segments,
    create=_create,
    update=_update,
    delete=lambda request, segment_id, principal: actions.segment_delete(
        segment_id, principal=principal, request=request
    ),
    view_permission=VIEW,
    edit_permission=EDIT,
    delete_permission=EDIT,
    columns=set(ORDER_COLUMNS),
    selectable=ENTITY_COLUMNS
    | frozenset(
        {
            "name",
            "publicName",
            "alias",
            "description",
            "category",
            "filters",
            "isGlobal",
            "isPreferenceCenter",
        }
    ),  # fmt: skip
    published="filter",
    list_as_array=True,
)


# ==============================================================================================
# Membership


def _segment_or_404(segment_id: int):
    try:
        return selectors.segment_get(segment_id)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error


def _change_one(request, id, contact_id, change) -> dict:
    allow(request, "POST")
    _segment_or_404(id)
    if not existing_contact_ids([contact_id]):
        raise MauticError(404)
    change(id, [contact_id], principal=request.principal, request=request)
    return {"success": 1}


@mautic_api
@require_permission(EDIT)
def add_contact(request, id, contact_id):
    """POST /segments/{id}/contact/{cid}/add (and Mautic 2's /contact/add/{cid}): {"success": 1}."""
    return _change_one(request, id, contact_id, actions.segment_members_add)


@mautic_api
@require_permission(EDIT)
def remove_contact(request, id, contact_id):
    """POST /segments/{id}/contact/{cid}/remove (and Mautic 2's /contact/remove/{cid}): {"success": 1}."""
    return _change_one(request, id, contact_id, actions.segment_members_remove)


def _ids(raw: Any) -> list:
    if isinstance(raw, dict):
        raw = list(raw.values())
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw = [part for part in str(raw).split(",") if part.strip()]
    if not isinstance(raw, list):
        raise MauticError(400, "ids: a list of contact ids.", {"ids": ["a list of contact ids"]})
    if len(raw) > MEMBERS_LIMIT:
        raise MauticError(400, f"A max of {MEMBERS_LIMIT} contacts are supported at a time.")
    return raw


@mautic_api
@require_permission(EDIT)
def add_contacts(request, id):
    """POST /segments/{id}/contacts/add with ids: {"success": 1, "details": {cid: {"success": bool}}}.

    An id that names no contact of this workspace is {"success": false}, as Mautic answers a
    contact the caller may not edit; the others are added in one action.
    """
    allow(request, "POST")
    data = request_data(request)
    if data.get("ids") is None:
        raise MauticError(400, "The request is not valid: ids is required.")
    raw_ids = _ids(data["ids"])
    _segment_or_404(id)
    parsed: dict[str, int | None] = {}
    for raw in raw_ids:
        key = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        try:
            parsed[key] = parse_id(key)
        except InvalidInput:
            parsed[key] = None
    found = set(existing_contact_ids(sorted({pk for pk in parsed.values() if pk is not None})))
    if found:
        actions.segment_members_add(id, sorted(found), principal=request.principal, request=request)
    details = {(str(pk) if pk in found else key): {"success": pk in found} for key, pk in parsed.items() if key or pk}
    return {"success": 1, "details": details}


@mautic_api
@require_permission("contacts:view")
def contact_segments(request, id):
    """GET /contacts/{id}/segments: {total, lists} keyed by segment id, the contact's memberships.

    Declares contacts:view as Mautic does (lead:leads:viewown); naming segments also needs segments:view.
    """
    allow(request, "GET")
    if not request.principal.can(VIEW):
        raise MauticError(403)
    if not existing_contact_ids([id]):
        raise MauticError(404)
    lists = {
        str(segment.pk): {
            "id": segment.pk,
            "name": segment.name,
            "alias": segment.alias,
            "dateAdded": mautic_datetime(membership.created_at),
            "manuallyRemoved": False,
            "manuallyAdded": membership.status == MembershipStatus.ADDED,
        }
        for segment, membership in selectors.contact_memberships(id)
    }
    return {"total": len(lists), "lists": lists or []}


# ==============================================================================================
# Search: segment:alias on GET /contacts


def segment_search(search: str) -> tuple[str, Any]:
    """Split segment:alias commands off a contacts search; return (the rest, a queryset of member ids or None).

    Several segment: commands must all hold. An unknown alias matches nobody, as in Mautic.
    """
    rest, members = [], None
    for token in search.split():
        command, sep, value = token.partition(":")
        if not (sep and command.lower() == "segment" and value):
            rest.append(token)
            continue
        try:
            segment = selectors.segment_by_alias(value.strip('"')[:191])
        except ObjectDoesNotExist:
            ids = selectors.segment_member_ids(0)  # no segment has id 0: nobody
        else:
            ids = selectors.segment_member_ids(segment.pk)
        members = ids if members is None else members.filter(contact_id__in=ids)
    return " ".join(rest), members


_VIEWS = {name: _with_request(view) for name, view in standard_views(SEGMENTS).items()}

urlpatterns = [
    path("segments", _VIEWS["list"], name="segments_list"),
    path("segments/new", _VIEWS["new"], name="segments_new"),
    path("segments/batch/new", _VIEWS["batch_new"], name="segments_batch_new"),
    path("segments/batch/edit", _VIEWS["batch_edit"], name="segments_batch_edit"),
    path("segments/batch/delete", _VIEWS["batch_delete"], name="segments_batch_delete"),
    path("segments/<int:id>", _VIEWS["get"], name="segments_get"),
    path("segments/<int:id>/edit", _VIEWS["edit"], name="segments_edit"),
    path("segments/<int:id>/delete", _VIEWS["delete"], name="segments_delete"),
    path("segments/<int:id>/contact/<int:contact_id>/add", add_contact, name="segments_add_contact"),
    path("segments/<int:id>/contact/<int:contact_id>/remove", remove_contact, name="segments_remove_contact"),
    path("segments/<int:id>/contact/add/<int:contact_id>", add_contact, name="segments_add_contact_v2"),
    path("segments/<int:id>/contact/remove/<int:contact_id>", remove_contact, name="segments_remove_contact_v2"),
    path("segments/<int:id>/contacts/add", add_contacts, name="segments_add_contacts"),
    path("contacts/<int:id>/segments", contact_segments, name="contacts_segments"),
]
