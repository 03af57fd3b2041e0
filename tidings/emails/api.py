"""The native API of emails under /api/v1/: CRUD of the workspace's emails (authoring only).

Every endpoint states its permission (emails:view to read, emails:edit to write), calls one selector or
action and lets tidings.api turn errors into the one error format: an email of another workspace is a
404 exactly like one that does not exist, invalid values a 422 keyed by field whose messages never repeat
a value. Tokens that would not fill in are a 422 too (code "tokens"), unless tokens_confirmed is true; a
saved email's remaining ones are listed in token_problems. Sending and stats are other modules' routes.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import Unprocessable, found, validation_fields
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.emails import selectors_authoring as selectors
from tidings.emails import selectors_sending
from tidings.emails.actions import authoring
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = Router(tags=["emails"])

VIEW, EDIT = "emails:view", "emails:edit"


class EmailOut(Schema):
    id: int
    name: str
    kind: str = Field(description='"list" (a broadcast to segments) or "template" (campaigns, forms, API).')
    transactional: bool
    purpose_key: str = Field(description="The consent purpose the email serves.")
    subject: str
    preheader: str
    from_name: str
    from_address: str
    reply_to: str
    editor: str = Field(description='"builder" (MJML in source, rendered to html) or "code" (html as written).')
    source: str = Field(description="The builder's MJML; empty in code mode.")
    html: str
    text: str = Field(description="The plain text as written; empty: made from the HTML when sent.")
    theme: str
    segment_ids: list[int]
    published: bool
    version: int = Field(description="Bumped by every change to what recipients get.")
    variant_of: int | None
    variant_weight: int
    ab_criterion: str
    ab_test_hours: int
    ab_winner_id: int | None = Field(None, description="The A/B test's winner (the parent or a variant), once picked.")
    ab_test: dict | None = Field(
        None,
        description="The email's A/B test, in the one-email read only: state (not_sent, testing, decided, "
        "cancelled), send_id, started_at, criterion, test_hours, winner_id, held (recipients kept for the winner), "
        "winner_send_id/status, arms {email id: {name, weight, sent}} and result (the rates the winner was picked "
        "on). null for an email without variants.",
    )
    token_problems: dict[str, list[str]] = Field(description="Tokens that would not fill in, by attribute.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EmailPage(Schema):
    items: list[EmailOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class EmailIn(Schema):
    name: str = ""
    subject: str
    kind: str = "template"
    transactional: bool = False
    purpose_key: str = "marketing_email"
    preheader: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""
    editor: str = "code"
    source: str = ""
    html: str = ""
    text: str = ""
    theme: str = ""
    segment_ids: list[int] = []
    published: bool = False
    variant_weight: int = Field(0, description="Its share of an A/B test group in percent, once it has variants.")
    tokens_confirmed: bool = Field(False, description="Save even with tokens that would not fill in.")


class EmailPatch(Schema):
    name: str | None = None
    subject: str | None = None
    kind: str | None = None
    transactional: bool | None = None
    purpose_key: str | None = None
    preheader: str | None = None
    from_name: str | None = None
    from_address: str | None = None
    reply_to: str | None = None
    editor: str | None = None
    source: str | None = None
    html: str | None = None
    text: str | None = None
    theme: str | None = None
    segment_ids: list[int] | None = None
    published: bool | None = None
    variant_weight: int | None = None
    ab_criterion: str | None = None
    ab_test_hours: int | None = None
    tokens_confirmed: bool = False


ATTRIBUTES = (
    "name", "kind", "transactional", "purpose_key", "subject", "preheader", "from_name", "from_address", "reply_to",
    "editor", "source", "html", "text", "theme", "segment_ids", "published", "version", "variant_of",
    "variant_weight", "ab_criterion", "ab_test_hours", "ab_winner_id", "created_at", "updated_at",
)  # fmt: skip


def _email_out(email, *, problems: bool = True) -> dict:
    out = {name: getattr(email, name) for name in ATTRIBUTES}
    out["id"] = email.pk
    out["token_problems"] = selectors.token_problems(email) if problems else {}
    return out


def _unprocessable(error: ValidationError) -> Unprocessable:
    code = "tokens" if isinstance(error, authoring.TokenProblems) else None
    return Unprocessable("The request is not valid.", code=code, details={"fields": validation_fields(error)})


@router.get("/emails", response=EmailPage, summary="List emails")
@require_permission(VIEW)
def list_emails(
    request,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
    search: str = Query("", max_length=100),
    kind: str = Query("", max_length=10),
):
    """List the workspace's emails (variants included) by name, one keyset page at a time (needs emails:view).

    search matches name or subject; kind filters ("list" or "template"). token_problems is left empty here.
    """
    emails = selectors.emails(search=search, kind=kind, variants=True)
    page = paginate_keyset(emails, ordering="name", limit=limit, cursor=cursor)
    return {"items": [_email_out(e, problems=False) for e in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/emails", response={201: EmailOut}, summary="Create an email")
@require_permission(EDIT)
def create_email(request, payload: EmailIn):
    """Create an email at version 1 (needs emails:edit); 422 on invalid values, keyed by field."""
    values = payload.dict()
    confirmed = values.pop("tokens_confirmed")
    try:
        email = authoring.email_create(principal=request.principal, request=request, tokens_confirmed=confirmed,
                                       **values)  # fmt: skip
    except ValidationError as error:
        raise _unprocessable(error) from error
    return Status(201, _email_out(email))


@router.get("/emails/{int:email_id}", response=EmailOut, summary="Get an email")
@found
@require_permission(VIEW)
def get_email(request, email_id: Id):
    """Return one email (needs emails:view); 404 when not in this workspace."""
    email = selectors.email_get(email_id)
    out = _email_out(email)
    out["ab_test"] = selectors_sending.ab_test_states([email.pk]).get(email.pk)
    return out


@router.patch("/emails/{int:email_id}", response=EmailOut, summary="Change an email")
@found
@require_permission(EDIT)
def update_email(request, email_id: Id, payload: EmailPatch):
    """Change the given attributes (needs emails:edit); a change to the content is a new version. 422 on
    invalid values."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    confirmed = bool(changes.pop("tokens_confirmed", False))
    try:
        email = authoring.email_update(email_id, principal=request.principal, request=request,
                                       tokens_confirmed=confirmed, **changes)  # fmt: skip
    except ValidationError as error:
        raise _unprocessable(error) from error
    return _email_out(email)


@router.delete("/emails/{int:email_id}", response={204: None}, summary="Delete an email")
@found
@require_permission(EDIT)
def delete_email(request, email_id: Id):
    """Delete an email and its variants (needs emails:edit); 422 while one of its sends is under way."""
    try:
        authoring.email_delete(email_id, principal=request.principal, request=request)
    except ValidationError as error:
        raise _unprocessable(error) from error
    return Status(204, None)


class VariantIn(Schema):
    name: str = ""
    subject: str | None = None
    html: str | None = None
    source: str | None = None
    text: str | None = None
    variant_weight: int = Field(50, description="The variant's share of the test group, in percent.")
    ab_criterion: str = Field("open_rate", description='The parent\'s test: "open_rate" or "click_rate".')
    ab_test_hours: int = Field(4, description="The parent's test period, in hours.")
    tokens_confirmed: bool = False


@router.post("/emails/{int:email_id}/variants", response={201: EmailOut}, summary="Create an A/B variant")
@found
@require_permission(EDIT)
def create_variant(request, email_id: Id, payload: VariantIn):
    """Copy the email as an A/B variant with the given changes and set the parent's test (needs emails:edit)."""
    values = {name: value for name, value in payload.dict().items() if value not in (None, "")}
    confirmed = bool(values.pop("tokens_confirmed", False))
    try:
        variant = authoring.variant_create(email_id, principal=request.principal, request=request,
                                           tokens_confirmed=confirmed, **values)  # fmt: skip
    except ValidationError as error:
        raise _unprocessable(error) from error
    return Status(201, _email_out(variant))


@router.post("/emails/{int:email_id}/clone", response={201: EmailOut}, summary="Copy an email")
@found
@require_permission(EDIT)
def clone_email(request, email_id: Id):
    """Copy an email as a new unpublished one at version 1 (needs emails:edit)."""
    return Status(201, _email_out(authoring.email_clone(email_id, principal=request.principal, request=request)))
