"""The native API of contacts, companies, fields, tags, notes and Do-Not-Contact, under /api/v1/.

Every endpoint states its permission (contacts:view to read, contacts:edit to write,
contacts:delete to delete contacts and companies), calls one selector or action of
tidings.contacts, and lets tidings.api turn errors into the one error format: an id of another
workspace is a 404 exactly like an id that does not exist (the selectors raise DoesNotExist,
which _found turns into NotFound), invalid values are a 422 naming each field.

Lists are keyset-paginated (?limit=&cursor=, {"items": [...], "next_cursor": ...}) and cost
a fixed number of queries whatever the page size (pinned in tests/test_api.py).
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import NotFound, found, validation_fields
from tidings.api.types import Id, Int64, Order
from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.models import Channel, DncReason, FieldGroup, FieldObject, FieldType, NoteType
from tidings.privacy.categories import DataCategory

router = Router(tags=["contacts"])

BATCH_LIMIT = 200  # items per batch call, as Mautic's api_batch_max_limit
VIEW, EDIT, DELETE = "contacts:view", "contacts:edit", "contacts:delete"


# ==============================================================================================
# Schemas


class ContactOut(Schema):
    id: int
    fields: dict[str, Any] = Field(description="Values by field alias; null when empty.")
    tags: list[str]
    is_anonymous: bool
    email_domain: str
    lawful_basis: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class ContactIn(Schema):
    fields: dict[str, Any] = Field(default_factory=dict, description="Values by field alias (see /fields).")
    tags: list[str] = Field(default_factory=list, description="Tag names to apply.")
    lawful_basis: str = Field("", description="The lawful basis under which the contact's data is processed.")


class ContactPatch(Schema):
    fields: dict[str, Any] = Field(default_factory=dict, description="Values to change; an empty value clears.")
    tags: list[str] = Field(default_factory=list, description='Tag names to add; a leading "-" removes.')


class UpsertIn(ContactIn):
    overwrite_with_blank: bool = Field(False, description="Let empty values clear a matched contact's fields.")


class UpsertOut(Schema):
    contact: ContactOut
    created: bool


class ContactFilters(Schema):
    search: str = Field("", description="Search syntax: names, an address, email:, tag:, domain:, is:anonymous...")
    order: Literal["id", "-id", "last_active", "-last_active", "points", "-points", "email_domain", "-email_domain"] = (
        "-id"
    )
    domain: str | None = None
    tag: str | None = None
    company_id: Id | None = None
    owner_id: Id | None = None
    is_anonymous: bool | None = None
    country: str | None = None
    city: str | None = None
    points_gte: Int64 | None = None
    points_lte: Int64 | None = None
    dnc: Literal["email", "sms", "push"] | None = Field(None, description="Only contacts with DNC on this channel.")
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)
    cursor: str | None = None

    def selector_filters(self) -> dict[str, Any]:
        names = ("domain", "tag", "company_id", "owner_id", "is_anonymous", "country", "city", "dnc")
        filters = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.points_gte is not None:
            filters["points__gte"] = self.points_gte
        if self.points_lte is not None:
            filters["points__lte"] = self.points_lte
        return filters


class BatchCreateIn(Schema):
    items: list[ContactIn] = Field(..., min_length=1, max_length=BATCH_LIMIT)


class BatchUpdateItem(ContactPatch):
    id: Id


class BatchUpdateIn(Schema):
    items: list[BatchUpdateItem] = Field(..., min_length=1, max_length=BATCH_LIMIT)


class BatchDeleteIn(Schema):
    ids: list[Id] = Field(..., min_length=1, max_length=BATCH_LIMIT)


class BatchItemResult(Schema):
    index: int
    status: int = Field(description="The status this item alone would have had: 200, 201, 204, 404 or 422.")
    id: int | None = None
    errors: dict[str, list[str]] = Field(default_factory=dict)


class BatchOut(Schema):
    results: list[BatchItemResult]


class TagsIn(Schema):
    tags: list[str] = Field(..., description='Tag names to add; a leading "-" removes the tag.')


class TagsChangedOut(Schema):
    added: int
    removed: int
    tags: list[str]


class NoteOut(Schema):
    id: int
    contact_id: int
    type: NoteType
    text: str
    author_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class NoteIn(Schema):
    text: str
    type: NoteType = NoteType.GENERAL


class NotePatch(Schema):
    text: str | None = None
    type: NoteType | None = None


class DncOut(Schema):
    channel: Channel
    reason: DncReason
    comment: str
    channel_id: int | None
    created_at: datetime.datetime


class DncIn(Schema):
    reason: DncReason = DncReason.MANUAL
    comment: str = ""
    channel_id: Id | None = None


class DncRemovedOut(Schema):
    removed: bool


class CompanyOut(Schema):
    id: int
    name: str
    fields: dict[str, Any] = Field(description="Values by company field alias (companyname, companycity...).")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None = None


class CompanyIn(Schema):
    fields: dict[str, Any] = Field(..., description="Values by company field alias; companyname is required.")


class CompanyLinkOut(Schema):
    company: CompanyOut
    is_primary: bool


class LinkIn(Schema):
    is_primary: bool = False


class EventOut(Schema):
    id: int
    type: str
    code: int
    at: datetime.datetime
    data: dict


class TimelinePage(Schema):
    items: list[EventOut]
    next_cursor: str | None = None


class FieldOut(Schema):
    id: int
    object: FieldObject
    alias: str
    label: str
    type: FieldType
    group: FieldGroup
    category: str
    is_encrypted: bool
    is_unique_identifier: bool
    is_publicly_updatable: bool
    is_required: bool
    is_listable: bool
    options: list
    default_value: Any = None
    order: int
    is_core: bool
    archived: bool

    @staticmethod
    def resolve_archived(field) -> bool:
        return field.archived_at is not None


class FieldIn(Schema):
    alias: str
    label: str
    type: FieldType = FieldType.TEXT
    object: FieldObject = FieldObject.CONTACT
    category: DataCategory = DataCategory.NONE
    group: FieldGroup = FieldGroup.CORE
    is_unique_identifier: bool = False
    is_publicly_updatable: bool = False
    is_required: bool = False
    is_listable: bool = True
    options: list | None = None
    default_value: Any = None
    order: Order | None = None
    acknowledge_sensitive: bool = Field(False, description="Required for financial, health and government-id data.")


class FieldPatch(Schema):
    label: str | None = None
    group: FieldGroup | None = None
    category: DataCategory | None = None
    is_unique_identifier: bool | None = None
    is_publicly_updatable: bool | None = None
    is_required: bool | None = None
    is_listable: bool | None = None
    options: list | None = None
    default_value: Any = None
    order: Order | None = None
    acknowledge_sensitive: bool = False


class TagOut(Schema):
    id: int
    name: str
    description: str


class TagIn(Schema):
    name: str
    description: str = ""


class TagPatch(Schema):
    name: str | None = None
    description: str | None = None


# ==============================================================================================
# Contacts


def _contact_out(view: selectors.ContactView) -> dict:
    return {
        "id": view.id,
        "fields": view.fields,
        "tags": list(view.tags),
        "is_anonymous": view.is_anonymous,
        "email_domain": view.email_domain,
        "lawful_basis": view.lawful_basis,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


@router.get("/contacts", response=ContactPage, summary="Search and list contacts")
@require_permission(VIEW)
def list_contacts(request, filters: Query[ContactFilters]):
    """List contacts matching search and filters, one keyset page at a time (needs contacts:view).

    Identifying values are encrypted: email, phone and unique identifiers match exactly, names
    by whole words (see docs/contacts-and-privacy.md). An unknown search command or a bad
    cursor answers 422.
    """
    principal = request.principal
    page = selectors.contacts_page(
        search=filters.search,
        filters=filters.selector_filters(),
        order=filters.order,
        after=filters.cursor,
        limit=filters.limit,
        me=getattr(principal.user, "pk", None),
    )
    return {"items": [_contact_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
@require_permission(EDIT)
def create_contact(request, payload: ContactIn):
    """Create a contact (needs contacts:edit); 422 on invalid values or an email another contact has."""
    principal = request.principal
    contact = actions.contact_create(
        payload.fields, tags=payload.tags, lawful_basis=payload.lawful_basis, principal=principal, request=request
    )
    return Status(201, _contact_out(selectors.contact_get(contact.id)))


@router.post("/contacts/upsert", response={200: UpsertOut, 201: UpsertOut}, summary="Create or update by identifier")
@require_permission(EDIT)
def upsert_contact(request, payload: UpsertIn):
    """Update the contact whose unique identifiers (email by default) match, or create one (needs contacts:edit).

    Answer 200 when a contact matched, 201 when one was created. Empty values leave a matched
    contact's fields alone unless overwrite_with_blank.
    """
    principal = request.principal
    contact, created = actions.contact_upsert(
        payload.fields,
        tags=payload.tags,
        lawful_basis=payload.lawful_basis,
        overwrite_with_blank=payload.overwrite_with_blank,
        principal=principal,
        request=request,
    )
    body = {"contact": _contact_out(selectors.contact_get(contact.id)), "created": created}
    return Status(201 if created else 200, body)


@router.post("/contacts/batch/create", response=BatchOut, summary="Create up to 200 contacts")
@require_permission(EDIT)
def batch_create_contacts(request, payload: BatchCreateIn):
    """Create each item as POST /contacts would; one item's error does not stop the others (needs contacts:edit)."""
    from django.core.exceptions import ValidationError

    principal = request.principal
    results = []
    for index, item in enumerate(payload.items):
        try:
            contact = actions.contact_create(
                item.fields, tags=item.tags, lawful_basis=item.lawful_basis, principal=principal, request=request
            )
        except ValidationError as error:
            results.append({"index": index, "status": 422, "errors": validation_fields(error)})
        else:
            results.append({"index": index, "status": 201, "id": contact.id})
    return {"results": results}


@router.post("/contacts/batch/update", response=BatchOut, summary="Change up to 200 contacts")
@require_permission(EDIT)
def batch_update_contacts(request, payload: BatchUpdateIn):
    """Change each item as PATCH /contacts/{id} would; unknown ids are 404 items (needs contacts:edit)."""
    from django.core.exceptions import ValidationError

    principal = request.principal
    results = []
    for index, item in enumerate(payload.items):
        try:
            actions.contact_update(item.id, item.fields, tags=item.tags, principal=principal, request=request)
        except ObjectDoesNotExist:
            results.append({"index": index, "status": 404, "id": item.id, "errors": {"id": ["not found"]}})
        except ValidationError as error:
            results.append({"index": index, "status": 422, "id": item.id, "errors": validation_fields(error)})
        else:
            results.append({"index": index, "status": 200, "id": item.id})
    return {"results": results}


@router.post("/contacts/batch/delete", response=BatchOut, summary="Delete up to 200 contacts")
@require_permission(DELETE)
def batch_delete_contacts(request, payload: BatchDeleteIn):
    """Delete each id; ids not in this workspace are 404 items (needs contacts:delete)."""
    principal = request.principal
    found = set(selectors.contacts_get(payload.ids))
    if found:
        actions.contacts_delete(sorted(found), principal=principal, request=request)
    return {
        "results": [
            {"index": i, "status": 204, "id": cid}
            if cid in found
            else {"index": i, "status": 404, "id": cid, "errors": {"id": ["not found"]}}
            for i, cid in enumerate(payload.ids)
        ]
    }


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Get a contact")
@found
@require_permission(VIEW)
def get_contact(request, contact_id: int):
    """Return one contact with every field decrypted (needs contacts:view); 404 when not in this workspace."""
    return _contact_out(selectors.contact_get(contact_id))


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
@found
@require_permission(EDIT)
def update_contact(request, contact_id: int, payload: ContactPatch):
    """Change the given fields and add or remove tags (needs contacts:edit); other fields are kept."""
    principal = request.principal
    actions.contact_update(contact_id, payload.fields, tags=payload.tags, principal=principal, request=request)
    return _contact_out(selectors.contact_get(contact_id))


@router.delete("/contacts/{contact_id}", response={204: None}, summary="Delete a contact")
@found
@require_permission(DELETE)
def delete_contact(request, contact_id: int):
    """Delete a contact and erase its data everywhere (crypto-shredding; needs contacts:delete)."""
    principal = request.principal
    actions.contact_delete(contact_id, principal=principal, request=request)
    return Status(204, None)


@router.get("/contacts/{contact_id}/tags", response=list[str], summary="A contact's tags")
@found
@require_permission(VIEW)
def list_contact_tags(request, contact_id: int):
    """Return the names of a contact's tags, sorted (needs contacts:view)."""
    return list(selectors.contact_get(contact_id).tags)


@router.post("/contacts/{contact_id}/tags", response=TagsChangedOut, summary="Add or remove a contact's tags")
@found
@require_permission(EDIT)
def change_contact_tags(request, contact_id: int, payload: TagsIn):
    """Add tags, and remove those written with a leading "-" (needs contacts:edit)."""
    principal = request.principal
    added, removed = actions.contact_tags_change(contact_id, payload.tags, principal=principal, request=request)
    return {"added": added, "removed": removed, "tags": selectors.contact_tags(contact_id)}


def _note_out(note: selectors.NoteView) -> dict:
    return {
        "id": note.id,
        "contact_id": note.contact_id,
        "type": note.type,
        "text": note.text,
        "author_id": note.author_id,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
    }


@router.get("/contacts/{contact_id}/notes", response=list[NoteOut], summary="A contact's notes")
@found
@require_permission(VIEW)
def list_contact_notes(request, contact_id: int):
    """Return a contact's notes, newest first, decrypted (needs contacts:view)."""
    selectors.contact_get(contact_id)
    return [_note_out(n) for n in selectors.contact_notes(contact_id)]


@router.post("/contacts/{contact_id}/notes", response={201: NoteOut}, summary="Add a note")
@found
@require_permission(EDIT)
def add_contact_note(request, contact_id: int, payload: NoteIn):
    """Add a note, encrypted under the contact's key (needs contacts:edit); 422 on an empty text."""
    principal = request.principal
    note = actions.note_add(contact_id, payload.text, type=payload.type, principal=principal, request=request)
    return Status(201, _note_out(selectors.note_get(note.id)))


@router.patch("/notes/{note_id}", response=NoteOut, summary="Change a note")
@found
@require_permission(EDIT)
def update_note(request, note_id: int, payload: NotePatch):
    """Change a note's text or type (needs contacts:edit)."""
    principal = request.principal
    actions.note_edit(note_id, text=payload.text, type=payload.type, principal=principal, request=request)
    return _note_out(selectors.note_get(note_id))


@router.delete("/notes/{note_id}", response={204: None}, summary="Delete a note")
@found
@require_permission(EDIT)
def delete_note(request, note_id: int):
    """Delete a note (needs contacts:edit)."""
    principal = request.principal
    actions.note_delete(note_id, principal=principal, request=request)
    return Status(204, None)


@router.get("/contacts/{contact_id}/dnc", response=list[DncOut], summary="A contact's Do-Not-Contact records")
@found
@require_permission(VIEW)
def list_contact_dnc(request, contact_id: int):
    """Return the channels a contact must not be contacted on, with reasons (needs contacts:view)."""
    selectors.contact_get(contact_id)
    return selectors.contact_dnc(contact_id)


@router.put("/contacts/{contact_id}/dnc/{channel}", response=DncOut, summary="Mark Do-Not-Contact on a channel")
@found
@require_permission(EDIT)
def add_contact_dnc(request, contact_id: int, channel: Channel, payload: DncIn):
    """Mark a contact as not to be contacted on channel, or change the reason (needs contacts:edit)."""
    principal = request.principal
    return actions.dnc_add(
        contact_id,
        channel=channel,
        reason=payload.reason,
        comment=payload.comment,
        channel_id=payload.channel_id,
        principal=principal,
        request=request,
    )


@router.delete("/contacts/{contact_id}/dnc/{channel}", response=DncRemovedOut, summary="Allow a channel again")
@found
@require_permission(EDIT)
def remove_contact_dnc(request, contact_id: int, channel: Channel):
    """Remove the Do-Not-Contact record of a channel; removed says whether there was one (needs contacts:edit)."""
    principal = request.principal
    return {"removed": actions.dnc_remove(contact_id, channel=channel, principal=principal, request=request)}


def _company_out(company) -> dict:
    return {
        "id": company.id,
        "name": company.name,
        "fields": selectors.company_values(company),
        "created_at": company.created_at,
        "updated_at": company.updated_at,
    }


@router.get("/contacts/{contact_id}/companies", response=list[CompanyLinkOut], summary="A contact's companies")
@found
@require_permission(VIEW)
def list_contact_companies(request, contact_id: int):
    """Return a contact's companies, the primary one first (needs contacts:view)."""
    selectors.contact_get(contact_id)
    return [
        {"company": _company_out(link.company), "is_primary": link.is_primary}
        for link in selectors.contact_companies(contact_id)
    ]


@router.get("/contacts/{contact_id}/timeline", response=TimelinePage, summary="A contact's events, newest first")
@found
@require_permission(VIEW)
def contact_timeline(
    request,
    contact_id: int,
    before: str | None = None,
    limit: int = Query(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT),
    types: str = Query("", description="Only these event type codes, comma-separated (e.g. 40,41)."),
):
    """Return a page of a contact's timeline; pass next_cursor as ?before= for older events (needs contacts:view)."""
    codes = _type_codes(types)
    page = selectors.timeline(contact_id, before=before, limit=limit, types=codes or None)
    return {
        "items": [{"id": e.id, "type": e.type, "code": e.code, "at": e.at, "data": e.data} for e in page.items],
        "next_cursor": page.next_cursor,
    }


def _type_codes(types: str) -> list[int]:
    """Return the event type codes of ?types=40,41; raise ValidationError (422) on anything but known codes."""
    from django.core.exceptions import ValidationError

    from tidings.events.registry import event_types
    from tidings.inputs import InvalidInput, parse_int

    try:
        codes = [parse_int(code) for code in types.split(",") if code.strip()]
    except InvalidInput as error:
        raise ValidationError({"types": ["event type codes, comma-separated (e.g. 40,41)"]}) from error
    if set(codes) - {spec.code for spec in event_types()}:
        raise ValidationError({"types": ["unknown event type code"]})
    return codes


# ==============================================================================================
# Companies


@router.get("/companies", response=CompanyPage, summary="List companies by name", tags=["companies"])
@require_permission(VIEW)
def list_companies(
    request,
    search: str = Query("", description="Name prefix, case-insensitive."),
    limit: int = Query(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT),
    cursor: str | None = None,
):
    """List companies by name, one keyset page at a time (needs contacts:view)."""
    page = selectors.companies_page(search=search, after=cursor, limit=limit)
    return {"items": [_company_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/companies/{company_id}", response=CompanyOut, summary="Get a company", tags=["companies"])
@found
@require_permission(VIEW)
def get_company(request, company_id: int):
    """Return one company (needs contacts:view)."""
    return _company_out(selectors.company_get(company_id))


@router.post("/companies", response={201: CompanyOut}, summary="Create a company", tags=["companies"])
@require_permission(EDIT)
def create_company(request, payload: CompanyIn):
    """Create a company (needs contacts:edit); 422 without companyname or on invalid values."""
    principal = request.principal
    return Status(201, _company_out(actions.company_create(payload.fields, principal=principal, request=request)))


@router.patch("/companies/{company_id}", response=CompanyOut, summary="Change a company", tags=["companies"])
@found
@require_permission(EDIT)
def update_company(request, company_id: int, payload: CompanyIn):
    """Change the given company fields (needs contacts:edit)."""
    principal = request.principal
    company = actions.company_update(company_id, payload.fields, principal=principal, request=request)
    return _company_out(company)


@router.delete("/companies/{company_id}", response={204: None}, summary="Delete a company", tags=["companies"])
@found
@require_permission(DELETE)
def delete_company(request, company_id: int):
    """Delete a company and its links to contacts; the contacts stay (needs contacts:delete)."""
    principal = request.principal
    actions.company_delete(company_id, principal=principal, request=request)
    return Status(204, None)


@router.put(
    "/companies/{company_id}/contacts/{contact_id}",
    response=CompanyLinkOut,
    summary="Link a contact to a company",
    tags=["companies"],
)
@found
@require_permission(EDIT)
def link_company_contact(request, company_id: int, contact_id: int, payload: LinkIn | None = None):
    """Link a contact to a company (idempotent); is_primary makes it the contact's primary company (contacts:edit)."""
    principal = request.principal
    link = actions.company_link(
        contact_id, company_id, is_primary=bool(payload and payload.is_primary), principal=principal, request=request
    )
    return {"company": _company_out(selectors.company_get(company_id)), "is_primary": link.is_primary}


@router.delete(
    "/companies/{company_id}/contacts/{contact_id}",
    response={204: None},
    summary="Unlink a contact from a company",
    tags=["companies"],
)
@found
@require_permission(EDIT)
def unlink_company_contact(request, company_id: int, contact_id: int):
    """Remove a contact's link to a company; 404 when there is none (needs contacts:edit)."""
    principal = request.principal
    selectors.company_get(company_id)
    if not actions.company_unlink(contact_id, company_id, principal=principal, request=request):
        raise NotFound("This contact is not linked to this company.")
    return Status(204, None)


# ==============================================================================================
# Fields


@router.get("/fields", response=list[FieldOut], summary="List field definitions", tags=["fields"])
@require_permission(VIEW)
def list_fields(request, object: FieldObject = FieldObject.CONTACT, include_archived: bool = False):
    """List the contact (or company) fields in display order, core ones included (needs contacts:view)."""
    return selectors_fields.field_definitions(object, include_archived=include_archived)


@router.post("/fields", response={201: FieldOut}, summary="Create a custom field", tags=["fields"])
@require_permission(EDIT)
def create_field(request, payload: FieldIn):
    """Create a custom field (needs contacts:edit).

    Fields whose category identifies a person are stored encrypted, for good. 422 on a taken or
    reserved alias, or a financial/health/government-id category without acknowledge_sensitive.
    """
    principal = request.principal
    field = actions.field_create(**payload.dict(), principal=principal, request=request)
    return Status(201, field)


@router.patch("/fields/{field_id}", response=FieldOut, summary="Change a field", tags=["fields"])
@found
@require_permission(EDIT)
def update_field(request, field_id: int, payload: FieldPatch):
    """Change a field's label, flags, options, default, order, group or category; never its alias or type.

    Needs contacts:edit; 422 on a category change that would move values in or out of encryption.
    """
    principal = request.principal
    changes = payload.dict(exclude_unset=True)
    acknowledge = changes.pop("acknowledge_sensitive", False)
    return actions.field_update(
        field_id, acknowledge_sensitive=acknowledge, principal=principal, request=request, **changes
    )


@router.post("/fields/{field_id}/archive", response=FieldOut, summary="Archive a field", tags=["fields"])
@found
@require_permission(EDIT)
def archive_field(request, field_id: int):
    """Hide a custom field from forms and lists; its values are kept (needs contacts:edit). 422 for a core field."""
    principal = request.principal
    return actions.field_archive(field_id, principal=principal, request=request)


@router.post("/fields/{field_id}/restore", response=FieldOut, summary="Restore an archived field", tags=["fields"])
@found
@require_permission(EDIT)
def restore_field(request, field_id: int):
    """Bring an archived field back with its values (needs contacts:edit)."""
    principal = request.principal
    return actions.field_archive(field_id, archived=False, principal=principal, request=request)


# ==============================================================================================
# Tags


@router.get("/tags", response=list[TagOut], summary="List tags", tags=["tags"])
@require_permission(VIEW)
def list_tags(
    request,
    search: str = Query("", description="Name prefix."),
    limit: int = Query(selectors.MAX_LIMIT, ge=1, le=selectors.MAX_LIMIT),
):
    """List the workspace's tags by name (needs contacts:view)."""
    return selectors.tags(search=search, limit=limit)


@router.get("/tags/{tag_id}", response=TagOut, summary="Get a tag", tags=["tags"])
@found
@require_permission(VIEW)
def get_tag(request, tag_id: int):
    """Return one tag (needs contacts:view)."""
    return selectors.tag_get(tag_id)


@router.post("/tags", response={201: TagOut}, summary="Create a tag", tags=["tags"])
@require_permission(EDIT)
def create_tag(request, payload: TagIn):
    """Create a tag (needs contacts:edit); 422 on an empty or taken name."""
    principal = request.principal
    return Status(
        201, actions.tag_create(payload.name, description=payload.description, principal=principal, request=request)
    )


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename or describe a tag", tags=["tags"])
@found
@require_permission(EDIT)
def update_tag(request, tag_id: int, payload: TagPatch):
    """Rename or describe a tag (needs contacts:edit)."""
    principal = request.principal
    return actions.tag_update(tag_id, **payload.dict(exclude_unset=True), principal=principal, request=request)


@router.delete("/tags/{tag_id}", response={204: None}, summary="Delete a tag", tags=["tags"])
@found
@require_permission(EDIT)
def delete_tag(request, tag_id: int):
    """Delete a tag and take it off every contact (needs contacts:edit)."""
    principal = request.principal
    actions.tag_delete(tag_id, principal=principal, request=request)
    return Status(204, None)
