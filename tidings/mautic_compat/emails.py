"""Mautic's email API (EmailApiController): /api/emails list, get, new, edit, delete in Mautic's shapes.

Serialised as Mautic's Email entity's API groups name them (loadApiMetadata): id, name, subject, language,
category, fromAddress, fromName, replyToAddress, bccAddress, preheaderText, customHtml, plainText, template,
emailType ("list" a broadcast to segments, "template" sent by campaigns, forms and the API), publishUp,
publishDown, readCount, sentCount, revision (Tidings' version), variantParent, variantChildren, variantSettings
({weight, winnerCriteria}: Mautic's "email.openrate" / "email.clickthrough"), variantStartDate and
variantSentCount/variantReadCount (the latest A/B test send's), lists (the segments, as {id, name, alias,
description}), isPublished, dateAdded, dateModified, createdBy. What differs, by design: no categories,
translations, dynamic content, attachments, headers, BCC or publish dates (always null/empty and ignored on input);
readCount and sentCount are 0 here (the stats live in Tidings' own stats); Mautic's builder templates are not
Tidings' themes, so template is always null and content sent through this API is code-mode HTML. Tokens Tidings
does not fill in are accepted (Mautic clients know plugin tokens Tidings does not).
"""

from __future__ import annotations

from typing import Any

from tidings.emails import selectors_authoring as selectors
from tidings.emails import selectors_sending
from tidings.emails.actions import authoring
from tidings.inputs import InvalidInput, parse_bool
from tidings.mautic_compat.parsing import ListParams, optional_text
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.standard import ENTITY_COLUMNS, Resource, listed, standard_urls
from tidings.segments import selectors as segments_selectors

ORDER_COLUMNS = {"id": "id", "name": "name", "subject": "subject", "dateAdded": "created_at",
                 "dateModified": "updated_at"}  # fmt: skip


def _segments(ids: set[int]) -> dict[int, dict]:
    rows = segments_selectors.segments_list().filter(pk__in=list(ids)).values("pk", "name", "alias", "description")
    return {row["pk"]: {"id": row["pk"], "name": row["name"], "alias": row["alias"],
                        "description": row["description"] or None} for row in rows}  # fmt: skip


def serialize_emails(emails: list) -> list[dict]:
    segments = _segments({pk for email in emails for pk in email.segment_ids})
    parents = [email.pk for email in emails if email.variant_of is None]
    children: dict[int, list[int]] = {}
    for variant in selectors.emails(variants=True).filter(variant_of__in=parents).values("pk", "variant_of"):
        children.setdefault(variant["variant_of"] or 0, []).append(variant["pk"])
    tests = selectors_sending.ab_test_states([email.pk for email in emails])
    result = []
    for email in emails:
        test = tests.get(email.pk)
        arm = test["arms"].get(str(email.pk), {}) if test else {}
        result_arm = (test.get("result") or {}).get("arms", {}).get(str(email.pk), {}) if test else {}
        modified = (email.updated_at - email.created_at).total_seconds() >= 1
        result.append(
            {
                "isPublished": email.published,
                "dateAdded": mautic_datetime(email.created_at),
                "dateModified": mautic_datetime(email.updated_at) if modified else None,
                "createdBy": email.created_by,
                "createdByUser": None,
                "modifiedBy": None,
                "modifiedByUser": None,
                "id": email.pk,
                "name": email.name,
                "subject": email.subject,
                "language": "en",
                "category": None,
                "fromAddress": email.from_address or None,
                "fromName": email.from_name or None,
                "replyToAddress": email.reply_to or None,
                "bccAddress": None,
                "useOwnerAsMailer": False,
                "utmTags": [],
                "preheaderText": email.preheader or None,
                "customHtml": email.html,
                "plainText": email.text or None,
                "template": None,
                "emailType": email.kind,
                "publishUp": None,
                "publishDown": None,
                "publicPreview": False,
                "readCount": 0,
                "sentCount": 0,
                "revision": email.version,
                "assetAttachments": [],
                "variantStartDate": mautic_datetime(test["started_at"]) if test and test["started_at"] else None,
                "variantSentCount": arm.get("sent", 0),
                "variantReadCount": result_arm.get("opened", 0),
                "variantSettings": _variant_settings(email, test),
                "variantParent": {"id": email.variant_of} if email.variant_of else None,
                "variantChildren": [{"id": pk} for pk in children.get(email.pk, [])],
                "translationParent": None,
                "translationChildren": [],
                "unsubscribeForm": None,
                "dynamicContent": [],
                "lists": [segments[pk] for pk in email.segment_ids if pk in segments],
                "headers": [],
            }
        )
    return result


WINNER_CRITERIA = {"open_rate": "email.openrate", "click_rate": "email.clickthrough"}


def _variant_settings(email, test: dict | None) -> list | dict:
    """Mautic's variantSettings: an empty list for an email outside any A/B test, else its weight and the
    parent's winner criterion."""
    if test is None:
        return []
    return {"weight": email.variant_weight, "winnerCriteria": WINNER_CRITERIA.get(test["criterion"], "")}


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    emails = selectors.emails(search=params.search, variants=True)
    found, total = listed(emails, params, ORDER_COLUMNS, published_field="published")
    return serialize_emails(found), total


def _lists(data: dict) -> list[int]:
    """Return the segment ids of "lists": ids, or objects with an id, as Mautic clients send them."""
    value = data.get("lists")
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise MauticError(400, "lists: a list of segment ids.", {"lists": ["a list of segment ids"]})
    ids = []
    for item in value[:101]:
        if isinstance(item, dict):
            item = item.get("id")
        try:
            ids.append(int(item))
        except (TypeError, ValueError, OverflowError):
            raise MauticError(400, "lists: segment ids.", {"lists": ["segment ids"]}) from None
    return ids


# Mautic's name -> the action's argument, for the plain text fields.
_TEXT_FIELDS = {
    "name": "name", "subject": "subject", "fromAddress": "from_address", "fromName": "from_name",
    "replyToAddress": "reply_to", "preheaderText": "preheader", "customHtml": "html", "plainText": "text",
}  # fmt: skip


def _changes(data: dict, method: str) -> dict[str, Any]:
    """Return email_create/email_update arguments of a Mautic body (PUT clears what it leaves out)."""
    full = method in {"PUT", "POST"}
    changes: dict[str, Any] = {}
    for key, name in _TEXT_FIELDS.items():
        value = optional_text(data, key)
        if value is not None or full:
            changes[name] = value or ""
    kind = optional_text(data, "emailType")
    if kind is not None or full:
        changes["kind"] = kind or "template"
    if "lists" in data and data["lists"] is not None:
        changes["segment_ids"] = _lists(data)
    elif full:
        changes["segment_ids"] = []
    if "isPublished" in data:
        try:
            changes["published"] = parse_bool(data["isPublished"], strict=True)
        except InvalidInput as error:
            raise MauticError(400, "isPublished: 0 or 1.", {"isPublished": ["0 or 1"]}) from error
    elif method == "PUT":
        changes["published"] = False
    elif method == "POST":
        changes["published"] = True  # Mautic publishes a new entity unless told otherwise
    if full:
        changes["editor"] = "code"  # content through this API is HTML (customHtml)
    return changes


def _create(request, data: dict, principal, *, method: str):
    changes = _changes(data, method)
    return authoring.email_create(principal=principal, request=request, tokens_confirmed=True, **changes), True


def _update(request, email_id: int, data: dict, method: str, principal):
    changes = _changes(data, method)
    return authoring.email_update(email_id, principal=principal, request=request, tokens_confirmed=True, **changes)


EMAILS = Resource(
    one="email",
    many="emails",
    list=_list,
    get=selectors.email_get,
    serialize=serialize_emails,
    create=_create,
    update=_update,
    delete=lambda request, email_id, principal: authoring.email_delete(email_id, principal=principal, request=request),
    view_permission="emails:view",
    edit_permission="emails:edit",
    delete_permission="emails:edit",
    columns=set(ORDER_COLUMNS),
    selectable=ENTITY_COLUMNS
    | frozenset(
        {
            "name",
            "subject",
            "language",
            "category",
            "fromAddress",
            "fromName",
            "replyToAddress",
            "bccAddress",
            "useOwnerAsMailer",
            "utmTags",
            "preheaderText",
            "customHtml",
            "plainText",
            "template",
            "emailType",
            "publishUp",
            "publishDown",
            "publicPreview",
            "readCount",
            "sentCount",
            "revision",
            "assetAttachments",
            "variantStartDate",
            "variantSentCount",
            "variantReadCount",
            "variantParent",
            "variantChildren",
            "variantSettings",
            "translationParent",
            "translationChildren",
            "unsubscribeForm",
            "dynamicContent",
            "lists",
            "headers",
        }
    ),  # fmt: skip
    published="filter",
)

urlpatterns = standard_urls("emails", "emails", EMAILS)
