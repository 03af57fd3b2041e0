"""Mautic's form API (FormApiController): /forms (list, get, new, edit, delete) and /forms/{id}/submissions.

A form is answered in Mautic's shape: {id, name, alias, description, isPublished, dateAdded,
dateModified, category, cachedHtml, postAction, postActionProperty, formType, fields{id: {...}},
actions{...}}; fields carry label, alias, type, isRequired, defaultValue, helpMessage, leadField,
order and properties (list options, consent purpose). Submissions: {total: "n", submissions: [{id,
ipAddress: {ip}, form: {id, name, alias, category}, lead: {id}, trackingId, dateSubmitted, referer,
page, results: {alias: value}}]}; the address is the stored network, never more (nothing more is kept).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.forms import actions as form_actions
from tidings.forms import selectors as form_selectors
from tidings.inputs import InvalidInput, parse_id
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import ListParams
from tidings.mautic_compat.responses import mautic_json
from tidings.mautic_compat.standard import Resource, listed, php_array, standard_urls

# Mautic's field type names <-> Tidings' kinds (the same words, but a consent box is a checkbox to Mautic).
TO_MAUTIC_TYPE = {"consent": "checkboxgrp"}
ACTION_TYPES = {
    "segment_add": "lead.changelist",
    "segment_remove": "lead.changelist",
    "tags_add": "lead.changetags",
    "tags_remove": "lead.changetags",
    "points": "lead.pointschange",
    "notify": "form.email",
    "double_opt_in": "tidings.double_opt_in",
    "remove_dnc": "lead.remove_do_not_contact",
    "send_email": "email.send.lead",
}


def _date(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00") if value else None


def _field_out(field: dict, order: int) -> dict:
    properties: dict[str, Any] = {}
    if field.get("options"):
        properties["list"] = {"list": [{"label": o["label"], "value": o["value"]} for o in field["options"]]}
    if field["kind"] == "consent":
        properties["consentPurpose"] = field.get("purpose", "")
    if field["kind"] == "freehtml":
        properties["text"] = field.get("html", "")
    return {
        "id": field["id"], "label": field["label"], "showLabel": True, "alias": field["alias"],
        "type": TO_MAUTIC_TYPE.get(field["kind"], field["kind"]), "defaultValue": field.get("default") or None,
        "isRequired": bool(field.get("required")), "validationMessage": None, "helpMessage": field.get("help") or None,
        "order": order, "properties": properties, "leadField": field.get("maps_to") or None,
        "saveResult": True, "isAutoFill": False, "showWhenValueExists": not field.get("progressive"),
        "labelAttributes": None, "inputAttributes": None, "containerAttributes": None,
    }  # fmt: skip


def _action_out(action: dict, index: int) -> dict:
    properties = {key: value for key, value in action.items() if key != "kind"}
    return {"id": index + 1, "type": ACTION_TYPES.get(action["kind"], action["kind"]), "name": action["kind"],
            "order": index + 1, "properties": properties}  # fmt: skip


def serialize_forms(forms: list) -> list[dict]:
    result = []
    for form in forms:
        if form.redirect_url:
            post_action, post_property = "redirect", form.redirect_url
        else:
            post_action, post_property = "message", form.success_message or None
        result.append({
            "id": form.pk, "name": form.name, "alias": form.alias, "description": form.description or None,
            "isPublished": form.published, "dateAdded": _date(form.created_at), "dateModified": _date(form.updated_at),
            "createdBy": None, "createdByUser": None, "modifiedBy": None, "modifiedByUser": None, "category": None,
            "publishUp": None, "publishDown": None, "template": None, "inKioskMode": False, "renderStyle": True,
            "formType": "standalone", "postAction": post_action, "postActionProperty": post_property,
            "cachedHtml": str(form_selectors.render_form(form)),
            "fields": php_array({field["id"]: _field_out(field, n + 1) for n, field in enumerate(form.fields)}),
            "actions": php_array({n + 1: _action_out(a, n) for n, a in enumerate(form.actions)}),
        })  # fmt: skip
    return result


ORDER_COLUMNS = {"id": "id", "name": "name", "alias": "alias", "dateAdded": "created_at"}


def _list(params: ListParams, request) -> tuple[list, int]:
    queryset = form_selectors.forms().order_by("name", "id")  # unless the client sorts
    if params.search:
        queryset = queryset.filter(name__icontains=params.search[:191])
    items, total = listed(queryset, params, ORDER_COLUMNS, published_field="published")
    return serialize_forms(items), total


def _field_in(raw: Any) -> Any:
    """Translate one Mautic field ({label, alias, type, isRequired, defaultValue, helpMessage, leadField,
    properties}) to Tidings' shape; Tidings' own keys pass through."""
    if not isinstance(raw, dict):
        return raw
    field = dict(raw)
    if "type" in raw and "kind" not in raw:
        field["kind"] = raw["type"]
    found = raw.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    if field.get("kind") == "checkboxgrp" and properties.get("consentPurpose"):
        field["kind"], field["purpose"] = "consent", properties["consentPurpose"]
    options = properties.get("list") or properties.get("optionlist")
    if isinstance(options, dict):
        options = options.get("list")
    if options is not None and "options" not in raw:
        field["options"] = options
    if "text" in properties and "html" not in raw:
        field["html"] = properties["text"]
    for mautic, ours in (("isRequired", "required"), ("defaultValue", "default"), ("helpMessage", "help"),
                         ("leadField", "maps_to")):  # fmt: skip
        if mautic in raw and ours not in raw:
            field[ours] = raw[mautic]
    if raw.get("showWhenValueExists") is False:
        field["progressive"] = True
    for key in ("type", "properties", "isRequired", "defaultValue", "helpMessage", "leadField", "showWhenValueExists"):
        field.pop(key, None)
    return field


def _actions_in(raw: Any) -> Any:
    """Translate Mautic's submit actions (lead.changelist, lead.changetags, lead.pointschange,
    lead.remove_do_not_contact) to Tidings' kinds; Tidings' own {"kind": ...} pass through."""
    if isinstance(raw, dict):
        raw = list(raw.values())
    if not isinstance(raw, list):
        return raw
    result: list[Any] = []
    for action in raw:
        if not isinstance(action, dict) or "kind" in action:
            result.append(action)
            continue
        kind, properties = action.get("type"), action.get("properties") or {}
        if kind == "lead.changelist":
            result += [{"kind": "segment_add", "segment_id": i} for i in properties.get("addToLists") or []]
            result += [{"kind": "segment_remove", "segment_id": i} for i in properties.get("removeFromLists") or []]
        elif kind == "lead.changetags":
            if properties.get("add_tags"):
                result.append({"kind": "tags_add", "tags": properties["add_tags"]})
            if properties.get("remove_tags"):
                result.append({"kind": "tags_remove", "tags": properties["remove_tags"]})
        elif kind == "lead.pointschange":
            points = properties.get("points")
            sign = -1 if properties.get("operator") == "minus" else 1
            delta = sign * int(str(points)) if str(points).lstrip("-").isdigit() else None
            result.append({"kind": "points", "delta": delta})
        elif kind == "lead.remove_do_not_contact":
            result.append({"kind": "remove_dnc"})
        elif kind == "email.send.lead":
            result.append({"kind": "send_email", "email_id": properties.get("email")})
        else:
            result.append({"kind": kind})  # refused by the form's checks, naming the kinds it knows
    return result


def _values(data: dict, *, full: bool) -> dict:
    values: dict[str, Any] = {}
    for mautic, ours in (("name", "name"), ("alias", "alias"), ("description", "description"),
                         ("isPublished", "published")):  # fmt: skip
        if mautic in data:
            values[ours] = data[mautic]
    if "postAction" in data:
        action, target = data.get("postAction"), data.get("postActionProperty") or ""
        values["redirect_url"] = target if action == "redirect" else ""
        values["success_message"] = target if action == "message" else ""
    if "fields" in data:
        fields = data["fields"]
        values["fields"] = [_field_in(f) for f in (fields.values() if isinstance(fields, dict) else fields or [])]
    elif full:
        values["fields"] = []
    if "actions" in data:
        values["actions"] = _actions_in(data["actions"])
    elif full:
        values["actions"] = []
    return values


def _create(request, data: dict, principal, *, method: str):
    values = _values(data, full=True)
    form = form_actions.form_create(principal=principal, request=request, **values)
    return form, True


def _update(request, form_id: int, data: dict, method: str, principal):
    return form_actions.form_update(form_id, principal=principal, request=request,
                                    **_values(data, full=method == "PUT"))  # fmt: skip


FORMS = Resource(
    one="form",
    many="forms",
    list=_list,
    get=form_selectors.form_get,
    serialize=serialize_forms,
    create=_create,
    update=_update,
    delete=lambda request, form_id, principal: form_actions.form_delete(form_id, principal=principal, request=request),
    view_permission="forms:view",
    edit_permission="forms:edit",
    delete_permission="forms:edit",
    selectable=frozenset({"id", "name", "alias", "description", "isPublished", "fields", "actions", "cachedHtml"}),
    published="filter",
)


def serialize_submissions(form, submissions) -> list[dict]:
    return [
        {"id": s.id, "ipAddress": {"ip": s.ip_network or None}, "form": {"id": form.pk, "name": form.name,
         "alias": form.alias, "category": None}, "lead": {"id": s.contact_id}, "trackingId": None,
         "dateSubmitted": _date(s.submitted_at), "referer": s.page_url or None, "page": None,
         "results": {alias: (", ".join(v) if isinstance(v, list) else v) for alias, v in s.answers.items()}}
        for s in submissions
    ]  # fmt: skip


@mautic_api
@require_permission("forms:results")
def submissions(request, id, **kwargs):
    """GET /forms/{id}/submissions (?start, ?limit): a form's submissions in Mautic's shape, newest first."""
    try:
        form = form_selectors.form_get(parse_id(id))
        start = max(int(request.GET.get("start") or 0), 0)
        limit = min(max(int(request.GET.get("limit") or 30), 1), 200)
    except (ObjectDoesNotExist, InvalidInput, ValueError) as error:
        raise Http404("Not found.") from error
    total = form_selectors.submissions_count(form.pk)
    page = form_selectors.submissions_page(form.pk, limit=start + limit)[start:]
    return mautic_json({"total": str(total), "submissions": serialize_submissions(form, page)})


@mautic_api
@require_permission("forms:results")
def submission(request, id, sid, **kwargs):
    """GET /forms/{id}/submissions/{sid}: one submission in Mautic's shape."""
    try:
        form = form_selectors.form_get(parse_id(id))
        found = form_selectors.submission_get(form.pk, parse_id(sid))
    except (ObjectDoesNotExist, InvalidInput) as error:
        raise Http404("Not found.") from error
    return mautic_json({"submission": serialize_submissions(form, [found])[0]})


urlpatterns = [
    path("forms/<int:id>/submissions", submissions, name="form_submissions"),
    path("forms/<int:id>/submissions/<int:sid>", submission, name="form_submission"),
    *standard_urls("forms", "forms", FORMS),
]
