"""Mautic's contact API (LeadApiController) on Tidings' contacts actions and selectors (notes: notes.py).

Facts read from Mautic 5.1's source (not copied): the contact shape (fields.core/social/personal/
professional with per-field definitions, fields.all flat, tags, doNotContact, owner, points,
lastActive, dateIdentified...), POST /contacts/new as an upsert (200 matched, 201 created,
tags "-name" removed, overwriteWithBlank, owner, stage, lastActive, doNotContact, companies),
PUT|PATCH edit merging a duplicate found by unique identifier into the edited contact, DNC
reasons 1 unsubscribed, 2 bounced, 3 manual (0 refused), the list total as a string (0 when empty)
and {} for an empty contacts list.

What differs, by design: identifying values are encrypted, so ``search`` matches an email exactly
and names by whole words (not Mautic's LIKE), and where[] accepts only the conditions listed in
_where(); ``ipAddress`` is accepted and not stored (the event store keeps networks only).
Lists sort by id/date_added, points and last_active only (the selector's indexed orders):
encrypted values cannot be sorted in SQL, and another column is refused with 400 rather than
ignored. An owner must be a member of the workspace, and only members are named as owners.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.accounts.permissions import role_permissions
from tidings.accounts.selectors import members_by_id, members_of
from tidings.contacts import actions, search_query, selectors, selectors_fields, selectors_stages
from tidings.contacts.fields import coerce
from tidings.contacts.models import DncReason, FieldObject, FieldType
from tidings.countries import country_name
from tidings.events.registry import event_types
from tidings.inputs import is_ascii_digits, parse_bool
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import (
    Condition,
    ListParams,
    php_params,
    request_data,
    sort_of,
    strict_int,
)
from tidings.mautic_compat.responses import MauticError, mautic_datetime, validation_error
from tidings.mautic_compat.segments import segment_search
from tidings.mautic_compat.stages import serialize_stage
from tidings.mautic_compat.standard import Resource, allow, check_select, standard_urls, without_nulls
from tidings.tenancy.context import require_workspace

# Our aliases that Mautic sends as properties of the contact, not as fields.
_PROPERTIES = {"owner", "stage", "date_identified"}
DNC_REASON_CODES = {DncReason.UNSUBSCRIBED: 1, DncReason.BOUNCED: 2, DncReason.MANUAL: 3, DncReason.COMPLAINT: 1}
DNC_REASONS = {1: DncReason.UNSUBSCRIBED, 2: DncReason.BOUNCED, 3: DncReason.MANUAL}
GROUPS = ("core", "social", "personal", "professional")
OBJECT_NAMES = {"contact": "lead", "company": "company"}


# ==============================================================================================
# Serialising


def field_value(field_type: str, value: Any) -> Any:
    """Return a value as Mautic stores and sends it: numbers as numbers, dates as "Y-m-d H:i:s", lists joined by "|".

    Countries are stored as ISO codes; Mautic stores and sends the English name ("Germany"), so
    the code is named (a value stored before normalisation, not a code, is sent as it is).
    """
    if value is None:
        return None
    if field_type == FieldType.COUNTRY and isinstance(value, str):
        return country_name(value) or value
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return value


def field_properties(definition) -> dict | list:
    """Return a field's properties as Mautic names them: the options of a select under "list"."""
    if definition.type in (FieldType.SELECT, FieldType.MULTISELECT):
        return {
            "list": [{"label": o.get("label", o.get("value")), "value": o.get("value")} for o in definition.options]
        }
    return []


def field_groups(definitions, values: dict, object_id: int, object_name: str, groups=GROUPS) -> dict:
    """Return Mautic's fields: {group: {alias: definition and value}, ..., "all": {"id": id, alias: value}}."""
    grouped: dict[str, dict] = {group: {} for group in groups}
    flat: dict[str, Any] = {"id": object_id}
    for definition in definitions:
        if definition.alias in _PROPERTIES:
            continue
        value = field_value(definition.type, values.get(definition.alias))
        grouped.setdefault(definition.group, {})[definition.alias] = {
            "id": str(definition.id),
            "label": definition.label,
            "alias": definition.alias,
            "type": definition.type,
            "group": definition.group,
            "object": object_name,
            "is_fixed": "1" if definition.is_core else "0",
            "properties": field_properties(definition),
            "default_value": definition.default_value,
            "value": value,
            "normalizedValue": value,
        }
        flat[definition.alias] = value
    result: dict[str, Any] = {group: entries or [] for group, entries in grouped.items()}
    result["all"] = flat
    return result


def _owner(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.email, "firstName": user.first_name, "lastName": user.last_name}


def serialize_contacts(views: list, *, minimal: bool = False) -> list[dict]:
    """Return contacts in the shape of Mautic's GET /contacts/{id} (or its list shape when minimal).

    Related rows are read for all contacts at once: tags, Do-Not-Contact and owners cost one
    query each whatever the number of contacts.
    """
    if not views:
        return []
    definitions = selectors_fields.field_definitions()
    tags = selectors.tags_by_name({name for v in views for name in v.tags})
    if minimal:
        dnc, owners, stages = {}, {}, {}
    else:
        stages = selectors_stages.stages_by_id({v.fields.get("stage") for v in views})
        dnc = selectors.contacts_dnc([v.id for v in views])
        # Only members are named: an owner stored before owners were checked stays hidden.
        owners = members_by_id(require_workspace(), {v.fields.get("owner") for v in views if v.fields.get("owner")})
    result = []
    for view in views:
        body = {
            "id": view.id,
            "points": int(view.fields.get("points") or 0),
            "color": None,
            "fields": field_groups(definitions, view.fields, view.id, "lead"),
        }
        if minimal:
            result.append(body)
            continue
        stage = stages.get(view.fields.get("stage"))
        result.append(
            {
                "isPublished": True,
                "dateAdded": mautic_datetime(view.created_at),
                "dateModified": mautic_datetime(view.updated_at),
                "createdBy": None,
                "createdByUser": None,
                "modifiedBy": None,
                "modifiedByUser": None,
                **body,
                "lastActive": mautic_datetime(view.fields.get("last_active")),
                "owner": _owner(owners.get(view.fields.get("owner"))),
                "ipAddresses": [],
                "tags": [
                    {"id": tags[name].id, "tag": name, "description": tags[name].description or None}
                    for name in view.tags
                    if name in tags
                ],
                "utmtags": [],
                "stage": serialize_stage(stage) if stage is not None else None,
                "dateIdentified": mautic_datetime(view.fields.get("date_identified")),
                "preferredProfileImage": None,
                "doNotContact": [_dnc(row) for row in dnc.get(view.id, [])],
                "frequencyRules": [],
            }
        )
    return result


def _dnc(row) -> dict:
    return {
        "id": row.id,
        "dateAdded": mautic_datetime(row.created_at),
        "reason": DNC_REASON_CODES.get(row.reason, 3),
        "comments": row.comment or None,
        "channel": row.channel,
        "channelId": row.channel_id,
    }


# What a select[] of contacts or companies may name besides field aliases: columns of Mautic's
# leads and companies tables and the properties of their bodies (whole in every answer, as in Mautic).
_BASE_COLUMNS = {
    "id", "points", "score", "date_added", "date_modified", "owner_id", "stage_id", "last_active", "date_identified",
    "isPublished", "createdBy", "createdByUser", "modifiedBy", "modifiedByUser", "color", "fields", "owner",
    "ipAddresses", "tags", "utmtags", "stage", "preferredProfileImage", "doNotContact", "frequencyRules",
}  # fmt: skip


def select_fields(object: str = FieldObject.CONTACT):
    """Return the select[] of contacts or companies: the values of the named fields only, no nulls.

    Mautic reads only the selected columns for the values and loads the entity whole, then
    serialises without nulls; so do we. A name that is neither a field alias nor a column is a 400.
    """

    def select(items: list[dict], columns: tuple[str, ...]) -> list[dict]:
        aliases = {d.alias for d in selectors_fields.field_definitions(object)}
        check_select(columns, aliases | _BASE_COLUMNS, hint="use field aliases")
        wanted = set(columns) & aliases
        result = []
        for item in items:
            fields = {
                group: ({a: v for a, v in entries.items() if a in wanted} or [])
                if isinstance(entries, dict) and group != "all"
                else entries
                for group, entries in item["fields"].items()
            }
            fields["all"] = {a: v for a, v in item["fields"]["all"].items() if a == "id" or a in wanted}
            result.append(without_nulls({**item, "fields": fields}))
        return result

    return select


def contact_body(contact_id: int) -> dict:
    """Return one contact in Mautic's full shape; raise Contact.DoesNotExist for an id not in this workspace."""
    return serialize_contacts([selectors.contact_get(contact_id)])[0]


# ==============================================================================================
# Listing: Mautic's search and where[] onto the selector's search and filters


ORDER_COLUMNS = {"id": "id", "date_added": "id", "points": "points", "last_active": "last_active"}
WHERE_COLUMNS = {
    "id",
    "email",
    "firstname",
    "lastname",
    "points",
    "country",
    "city",
    "state",
    "owner_id",
    "date_identified",
    "last_active",
    "date_added",
}
COLUMNS = set(ORDER_COLUMNS) | WHERE_COLUMNS


def _quoted(value: str) -> str:
    return f'"{value}"' if " " in value else value


def _search(text: str, principal) -> str:
    """Translate Mautic's search commands into the selector's; owner: may name a member instead of an id."""
    parts = []
    for command, value in search_query.parse_search(text):
        if command == "owner" and not is_ascii_digits(value):
            wanted = value.lower()
            ids = [
                m.user_id
                for m in members_of(principal.workspace).select_related("user")
                if wanted in {m.user.email.lower(), m.user.first_name.lower(), m.user.last_name.lower()}
            ]
            value = str(ids[0]) if ids else "0"
        parts.append(f"{command}:{_quoted(value)}")
    return " ".join(parts)


def _unsupported(condition: Condition) -> MauticError:
    where = f"{condition.col} {condition.expr}" if condition.col else condition.expr
    return MauticError(
        400,
        f"where: “{where}” is not supported; identifying values are encrypted and match exactly only.",
        {"where": [f"unsupported condition {where}"]},
    )


def _int(value, name: str = "where") -> int:
    return strict_int(name, value)


def _where(conditions: Iterable[Condition]) -> tuple[dict, list[str]]:
    """Return (selector filters, extra search terms) for where[] conditions; raise MauticError(400) otherwise."""
    filters: dict[str, Any] = {}
    terms: list[str] = []
    for c in conditions:
        if c.expr == "andX":
            more_filters, more_terms = _where(c.val)
            filters.update(more_filters)
            terms.extend(more_terms)
        elif c.col == "id" and c.expr in ("eq", "in"):
            ids = [_int(v) for v in (c.val if c.expr == "in" else (c.val,))]
            filters["ids"] = [i for i in filters["ids"] if i in ids] if "ids" in filters else ids
        elif c.col == "email" and c.expr == "eq":
            terms.append(f"email:{_quoted(str(c.val))}")
        elif c.col == "email" and c.expr == "like" and str(c.val).startswith("%@") and "%" not in str(c.val)[1:]:
            filters["domain"] = str(c.val)[2:]
        elif c.col in ("firstname", "lastname") and c.expr == "eq":
            terms.append(f"name:{_quoted(str(c.val))}")
        elif c.col == "points" and c.expr in ("eq", "gt", "gte", "lt", "lte"):
            number = _int(c.val)
            if c.expr in ("eq", "gte", "gt"):
                filters["points__gte"] = number + (1 if c.expr == "gt" else 0)
            if c.expr in ("eq", "lte", "lt"):
                filters["points__lte"] = number - (1 if c.expr == "lt" else 0)
        elif c.col == "last_active" and c.expr in ("gt", "gte", "lt", "lte"):
            try:
                moment = coerce(FieldType.DATETIME, c.val)
            except ValidationError as error:
                raise MauticError(400, "where: last_active needs a date.", {"where": ["not a date"]}) from error
            filters["last_active__gte" if c.expr in ("gt", "gte") else "last_active__lte"] = moment
        elif c.col in ("country", "city", "state") and c.expr == "eq":
            filters[c.col] = str(c.val)
        elif c.col == "owner_id" and c.expr == "eq":
            filters["owner_id"] = _int(c.val)
        elif c.col == "owner_id" and c.expr in ("isNull", "isNotNull"):
            filters["unowned"] = c.expr == "isNull"
        elif c.col == "date_identified" and c.expr in ("isNull", "isNotNull"):
            filters["is_anonymous"] = c.expr == "isNull"
        else:
            raise _unsupported(c)
    return filters, terms


def list_contacts(params: ListParams, request) -> tuple[list[dict], int | str]:
    """Return (contacts in Mautic's shape, total as Mautic sends it: a string, or 0) for GET /contacts."""
    principal = request.principal
    filters, terms = _where(params.where)
    text, members = segment_search(params.search)
    if members is not None:  # segment:alias: a subquery of the segment's members, never a list of ids
        filters["ids"] = members.filter(contact_id__in=filters["ids"]) if "ids" in filters else members
    search = " ".join([_search(text, principal), *terms]).strip()
    order = "id"
    if params.order or params.order_by:
        encrypted = {d.alias for d in selectors_fields.field_definitions() if d.is_encrypted}
        sort = sort_of(params, ORDER_COLUMNS, encrypted=encrypted)
        if sort is not None:
            order = ("-" if sort[1] else "") + sort[0]
    me = getattr(principal.user, "pk", None)
    try:
        total = selectors.contacts_count(search=search, filters=filters, me=me)
        views = (
            selectors.contacts_page(
                search=search, filters=filters, order=order, start=params.start, limit=params.limit, me=me
            ).items
            if total
            else []
        )
    except ValidationError as error:
        raise validation_error(error) from error
    # Mautic's contact total is the database driver's count: a string, except 0 for no results.
    return serialize_contacts(views, minimal=params.minimal), str(total) if total else 0


# ==============================================================================================
# Writing


def _tags(raw) -> list[str]:
    """Return tag names from "a,b", ["a", "b"] or {"0": "a"}; raise MauticError(400) for any other shape."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, dict):
        raw = list(raw.values())
    if not isinstance(raw, list) or not all(isinstance(tag, str | int) for tag in raw):
        raise MauticError(400, "tags: a list of tag names, or names separated by commas.", {"tags": ["not tag names"]})
    return [str(tag).strip() for tag in raw if str(tag).strip()]


def _is_zero(value) -> bool:
    try:
        return float(str(value)) == 0
    except ValueError:
        return False


def contact_values(data: dict, method: str) -> tuple[dict, dict]:
    """Split a Mautic contact body into ({alias: value}, extras) the way LeadApiController reads it.

    Field aliases of this workspace become values; unknown keys are ignored (Mautic's forms allow
    extra fields). owner, stage and lastActive become the owner, stage and last_active fields. On
    POST and PATCH a 0 is taken as "not meant to overwrite" and dropped, as Mautic does, and
    empty values are dropped unless overwriteWithBlank. On PUT (a full representation) every
    field the body leaves out is cleared.
    """
    definitions = {f.alias: f for f in selectors_fields.field_definitions()}
    extras = {
        "tags": _tags(data.get("tags")),
        "overwrite": parse_bool(data.get("overwriteWithBlank", "")) or method == "PUT",
        "dnc": data.get("doNotContact"),
        "companies": data.get("companies"),
    }
    renamed = {"owner": "owner", "stage": "stage", "lastActive": "last_active"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        alias = renamed.get(key, key)
        if alias not in definitions or key in ("tags", "id"):
            continue
        if isinstance(value, dict) and "id" in value:  # {"owner": {"id": 3}} as Mautic sends it back
            value = value["id"]
        if method in ("POST", "PATCH") and (_is_zero(value) or (alias == "points" and value in ("", None))):
            continue
        if method in ("POST", "PATCH") and value in ("", None) and not extras["overwrite"]:
            continue
        values[alias] = value
    if method == "PUT":
        for alias, definition in definitions.items():
            if alias not in values and alias not in _PROPERTIES and alias not in ("points", "last_active"):
                values[alias] = definition.default_value
    return values, extras


def _apply_extras(contact_id: int, extras: dict, principal, request) -> None:
    """Apply doNotContact and companies of a contact body (inside the caller's transaction)."""
    dnc = extras["dnc"]
    if isinstance(dnc, dict):
        dnc = list(dnc.values())
    if dnc not in (None, "") and not isinstance(dnc, list):
        raise MauticError(400, "doNotContact: a list of entries with reason and channel.")
    for entry in dnc or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("channel") or "email", str):
            raise MauticError(400, "doNotContact: each entry needs reason and channel.")
        channel = entry.get("channel") or "email"
        reason = _int(entry.get("reason", 3), "doNotContact")
        if reason == 0:
            actions.dnc_remove(contact_id, channel=channel, principal=principal, request=request)
        elif reason in DNC_REASONS:
            actions.dnc_add(
                contact_id,
                channel=channel,
                reason=DNC_REASONS[reason],
                comment=entry.get("comments") or "",
                principal=principal,
                request=request,
            )
        else:
            raise MauticError(400, "Invalid reason code given", ["Reason code needs to be 0, 1, 2 or 3."])
    companies = extras["companies"]
    if isinstance(companies, dict):
        companies = list(companies.values())
    if isinstance(companies, str | int):
        companies = [companies]
    if companies not in (None, "") and not isinstance(companies, list):
        raise MauticError(400, "companies: a list of company ids.", {"companies": ["not company ids"]})
    for company_id in companies or []:
        actions.company_link(contact_id, _int(company_id, "companies"), principal=principal, request=request)


def _merge_duplicates(contact_id: int, values: dict, principal, request) -> None:
    """Merge into contact_id any other contact whose unique identifier equals one in values (Mautic's edit)."""
    for definition in selectors_fields.field_definitions():
        value = values.get(definition.alias)
        if not definition.is_unique_identifier or value in (None, ""):
            continue
        try:
            other = selectors.contact_by_unique_identifier(definition.alias, value)
        except (ObjectDoesNotExist, ValidationError):
            continue
        if other.id != contact_id:
            actions.contact_merge(contact_id, other.id, principal=principal, request=request)


def create_contact(request, data: dict, principal, *, method: str) -> tuple[Any, bool]:
    """POST /contacts/new (an upsert by unique identifiers) and PUT of a missing id (a plain create)."""
    values, extras = contact_values(data, method)
    if method == "PUT":
        values = {alias: value for alias, value in values.items() if value not in (None, "")}
        contact = actions.contact_create(values, tags=extras["tags"], principal=principal, request=request)
        created = True
    else:
        contact, created = actions.contact_upsert(
            values, tags=extras["tags"], overwrite_with_blank=extras["overwrite"], principal=principal, request=request
        )
    _apply_extras(contact.id, extras, principal, request)
    return contact, created


def update_contact(request, contact_id: int, data: dict, method: str, principal):
    """PUT|PATCH /contacts/{id}/edit: merge a duplicate found by unique identifier, then change the fields."""
    values, extras = contact_values(data, method)
    _merge_duplicates(contact_id, values, principal, request)
    contact = actions.contact_update(contact_id, values, tags=extras["tags"], principal=principal, request=request)
    _apply_extras(contact_id, extras, principal, request)
    return contact


def _serialize(contacts) -> list[dict]:
    if all(isinstance(c, selectors.ContactView) for c in contacts):
        return serialize_contacts(contacts)
    views = selectors.contacts_get([c.id for c in contacts])
    return serialize_contacts([views[c.id] for c in contacts])


CONTACTS = Resource(
    one="contact",
    many="contacts",
    list=list_contacts,
    get=lambda contact_id: selectors.contact_get(contact_id),
    serialize=_serialize,
    create=create_contact,
    update=update_contact,
    delete=lambda request, contact_id, principal: actions.contact_delete(
        contact_id, principal=principal, request=request
    ),
    view_permission="contacts:view",
    edit_permission="contacts:edit",
    delete_permission="contacts:delete",
    columns=COLUMNS,
    empty_as_object=True,
    select=select_fields(FieldObject.CONTACT),
)


# ==============================================================================================
# The contact's own routes


def contact_or_404(contact_id: int):
    try:
        return selectors.contact_get(contact_id)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error


@mautic_api
@require_permission("contacts:edit")
def dnc_add(request, id, channel="email"):
    """POST /contacts/{id}/dnc/{channel}/add (and Mautic 2's /dnc/add/{channel}): {reason, channelId, comments}."""
    allow(request, "POST")
    principal = request.principal
    contact_or_404(id)
    data = request_data(request)
    reason = _int(data.get("reason", 3) or 0, "reason")
    if reason not in DNC_REASONS:
        raise MauticError(400, "Invalid reason code given", ["Reason code needs to be an integer and higher than 0."])
    channel_id = data.get("channelId")
    try:
        actions.dnc_add(
            id,
            channel=channel,
            reason=DNC_REASONS[reason],
            comment=str(data.get("comments") or ""),
            channel_id=_int(channel_id, "channelId") if channel_id else None,
            principal=principal,
            request=request,
        )
    except ValidationError as error:
        raise validation_error(error) from error
    return {"contact": contact_body(id)}


@mautic_api
@require_permission("contacts:edit")
def dnc_remove(request, id, channel="email"):
    """POST /contacts/{id}/dnc/{channel}/remove (and Mautic 2's /dnc/remove/{channel}): {recordFound, contact}."""
    allow(request, "POST")
    principal = request.principal
    contact_or_404(id)
    found = actions.dnc_remove(id, channel=channel, principal=principal, request=request)
    return {"recordFound": found, "contact": contact_body(id)}


@mautic_api
@require_permission("contacts:view")
def contact_companies(request, id):
    """GET /contacts/{id}/companies: {total, companies: [{company_id, date_associated, is_primary, ...values}]}."""
    allow(request, "GET")
    contact_or_404(id)
    companies = []
    for link in selectors.contact_companies(id):
        company = link.company
        values = {
            alias: field_value(FieldType.COUNTRY if alias == "companycountry" else "text", value)
            for alias, value in selectors.company_values(company).items()
        }
        companies.append(
            {
                "company_id": company.id,
                "date_associated": None,
                "is_primary": int(link.is_primary),
                "id": company.id,
                **values,
                "score": 0,
                "owner_id": company.owner_id,
                "date_added": mautic_datetime(company.created_at),
            }
        )
    return {"total": len(companies), "companies": companies}


def _event_types(raw) -> list[int]:
    if not raw:
        return []
    names = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else [raw]
    by_label = {spec.name: spec.code for spec in event_types()}
    return [by_label[name] for name in names if name in by_label]


def _check_activity_order(raw) -> None:
    """Raise MauticError(400) unless raw (Mautic's order[]: column, direction) asks for newest first or nothing."""
    if raw is None:
        return
    parts = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else [raw]
    wanted = [str(part).strip().lower() for part in parts]
    if wanted not in (["timestamp"], ["timestamp", "desc"]):
        message = "activity is listed newest first only: order[]=timestamp&order[]=DESC"
        raise MauticError(400, f"order: {message}.", {"order": [message]})


@mautic_api
@require_permission("contacts:view")
def contact_activity(request, id):
    """GET /contacts/{id}/activity: {events, filters, order, types, total, page, limit, maxPages} from the event store.

    filters[includeEvents][] and filters[excludeEvents][] take event type names (email.opened...).
    The event store reads newest first: order[]=timestamp&order[]=DESC (Mautic's default) is the one
    order, and any other is refused with 400 rather than ignored.
    """
    allow(request, "GET")
    contact_or_404(id)
    query = php_params(request.GET)
    _check_activity_order(query.get("order"))
    raw_filters = query.get("filters")
    filters = raw_filters if isinstance(raw_filters, dict) else {}
    include = _event_types(filters.get("includeEvents"))
    exclude = set(_event_types(filters.get("excludeEvents")))
    known = include or [spec.code for spec in event_types()]
    types = [code for code in known if code not in exclude] if (include or exclude) else None
    limit = max(1, min(strict_int("limit", query.get("limit", 25)), 200))
    page_number = max(1, strict_int("page", query.get("page", 1)))
    total = selectors.timeline_count(id, types=types)
    cursor, events = None, []
    # The event store pages by cursor; a page number walks the cursors (each an index range scan).
    for number in range(1, page_number + 1):
        page = selectors.timeline(id, before=cursor, limit=limit, types=types)
        if number == page_number:
            events = page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return {
        "events": [
            {
                "event": e.type,
                "eventId": f"{e.type}{e.id}",
                "eventLabel": e.type,
                "eventType": e.type,
                "timestamp": mautic_datetime(e.at),
                "contactId": e.contact_id,
                "extra": e.data,
            }
            for e in events
        ],
        "filters": {
            "search": "",
            "includeEvents": filters.get("includeEvents") or [],
            "excludeEvents": filters.get("excludeEvents") or [],
        },
        "order": ["timestamp", "DESC"],
        "types": {spec.name: spec.name for spec in event_types()},
        "total": total,
        "page": page_number,
        "limit": limit,
        "maxPages": max(1, -(-total // limit)),
    }


@mautic_api
@require_permission("contacts:edit")
def contact_points(request, id, operator, delta):
    """POST /contacts/{id}/points/{plus|minus|times|divide}/{delta}: {"success": 1}."""
    allow(request, "POST")
    principal = request.principal
    try:
        actions.contact_points_change(id, operator, delta, principal=principal, request=request)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    except ValidationError as error:
        raise validation_error(error) from error
    return {"success": 1}


@mautic_api
@require_permission("contacts:edit")
def list_fields(request):
    """GET /contacts/list/fields: the contact fields in Mautic's list shape, keyed by id."""
    allow(request, "GET")
    return {
        str(f.id): {
            "id": f.id,
            "label": f.label,
            "alias": f.alias,
            "type": f.type,
            "group": f.group,
            "order": f.order,
            "object": "lead",
        }
        for f in selectors_fields.field_definitions()
    }


@mautic_api
@require_permission("contacts:edit")
def list_owners(request):
    """GET /contacts/list/owners: the workspace's members who may own contacts, [{id, firstName, lastName}]."""
    allow(request, "GET")
    principal = request.principal
    wanted = str(request.GET.get("filter", "")).strip().lower()
    owners = [
        {"id": m.user.pk, "firstName": m.user.first_name, "lastName": m.user.last_name}
        for m in members_of(principal.workspace).select_related("user").order_by("user__last_name", "user__first_name")
        if "contacts:view" in role_permissions(m.role)
        and (not wanted or wanted in f"{m.user.first_name} {m.user.last_name} {m.user.email}".lower())
    ]
    return owners


urlpatterns = [
    path("contacts/list/fields", list_fields, name="contacts_list_fields"),
    path("contacts/list/owners", list_owners, name="contacts_list_owners"),
    *standard_urls("contacts", "contacts", CONTACTS),
    path("contacts/<int:id>/dnc/add/<str:channel>", dnc_add, name="contacts_dnc_add_v2"),
    path("contacts/<int:id>/dnc/remove/<str:channel>", dnc_remove, name="contacts_dnc_remove_v2"),
    path("contacts/<int:id>/dnc/<str:channel>/add", dnc_add, name="contacts_dnc_add"),
    path("contacts/<int:id>/dnc/<str:channel>/remove", dnc_remove, name="contacts_dnc_remove"),
    path("contacts/<int:id>/companies", contact_companies, name="contacts_companies"),
    path("contacts/<int:id>/activity", contact_activity, name="contacts_activity"),
    path("contacts/<int:id>/points/<str:operator>/<int:delta>", contact_points, name="contacts_points"),
]
