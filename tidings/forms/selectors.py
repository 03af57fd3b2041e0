"""Reads of forms that the UI, both APIs, the public door, landing pages and assets use.

Everything here works in the current workspace: another workspace's form id behaves as a missing one.
The seams landing pages and assets call (SEAMS_11): form_embed_html and submission_token_valid.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, QuerySet
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tidings.countries import country_choices
from tidings.forms import tokens
from tidings.forms.answers import skipped
from tidings.forms.models import FieldKind, Form, Submission
from tidings.forms.personal_data import open_answers
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace

FORMS_LIMIT = 500
SUBMISSIONS_PAGE = 50
EXPORT_LIMIT = 100_000


def forms() -> QuerySet[Form]:
    """Return the current workspace's forms, by name."""
    return Form.objects.order_by("name", "id")


def forms_with_counts() -> QuerySet[Form]:
    """Return the forms with their number of submissions (one query)."""
    counts = dict(Submission.objects.values_list("form_id").annotate(n=Count("id")).values_list("form_id", "n"))
    result = list(forms()[:FORMS_LIMIT])
    for form in result:
        form.submission_count = counts.get(form.pk, 0)  # type: ignore[attr-defined]
    return result  # type: ignore[return-value]


def form_get(form_id: int) -> Form:
    """Return one form of the current workspace; raise Form.DoesNotExist for an id not in it."""
    return Form.objects.get(pk=form_id)


def published_form(form_id: int) -> Form:
    """Return a published form of the current workspace; raise Form.DoesNotExist otherwise."""
    return Form.objects.get(pk=form_id, published=True)


# ==============================================================================================
# Rendering


def base_url() -> str:
    return str(settings.TIDINGS_BASE_URL).rstrip("/")


def submit_url(form_id: int) -> str:
    """Return the absolute address a form posts to: /m/<ws>/form/submit?formId=N (Mautic's route)."""
    slug = require_workspace().slug
    return f"{base_url()}/m/{slug}/form/submit?{urlencode({'formId': form_id})}"


def _field_context(field: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, str]) -> dict:
    alias = field["alias"]
    value = values.get(alias, field.get("default", "") if field["kind"] != FieldKind.CONSENT else False)
    chosen = value if isinstance(value, list) else [value]
    options = field.get("options") or []
    if field["kind"] == FieldKind.COUNTRY:
        options = [{"value": code, "label": name} for code, name in country_choices()]
    return {
        **field,
        "name": f"mauticform[{alias}]",
        "dom_id": f"mauticform_input_{alias}",
        "value": "" if value is None or isinstance(value, list | bool) else value,
        "checked": value is True,
        "options": [{**option, "selected": option["value"] in chosen} for option in options],
        "error": errors.get(alias, ""),
        "input_type": {"email": "email", "number": "number", "tel": "tel", "url": "url", "date": "date"}.get(
            field["kind"], "text"
        ),
    }


def render_form(
    form: Form,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    return_url: str = "",
    success_url: str = "",
    known: Iterable[str] = (),
    visitor_token: str = "",
) -> SafeString:
    """Return the form's HTML (<form>...</form>): fields, honeypot, render token, posting to submit_url().

    values and errors re-render a refused submission with the answers kept; known are the contact
    fields the submitter's own contact has (progressive fields among them are left out); return_url
    the page a submission returns to with ?mauticMessage= (mauticform[return], Mautic's), success_url
    where a successful one goes with ?tds=<token> (mauticform[tds_success], for landing pages and
    gated assets). Every value is escaped by the template.
    """
    values = values or {}
    errors = errors or {}
    known_set = set(known)
    fields = [_field_context(field, values, errors) for field in form.fields if not skipped(field, known_set)]
    html = render_to_string(
        "forms/embed.html",
        {
            "form": form,
            "fields": fields,
            "action": submit_url(form.pk),
            "return_url": return_url,
            "success_url": success_url,
            "render_token": tokens.render_token(form.pk),
            "visitor_token": visitor_token,
            "has_errors": bool(errors),
        },
    )
    return mark_safe(html)  # noqa: S308 - rendered by a template with autoescaping on


def form_embed_html(form_id: int, *, success_url: str | None = None) -> SafeString | None:
    """The published form's HTML (<form> ... </form>, with its own inline-free markup, posting to
    /m/<ws>/form/submit?formId=N), safe to insert in a page (already escaped, returned as a
    django.utils.safestring.SafeString); None when no such published form in this workspace.
    success_url, when given, overrides where a successful submission redirects; the forms app then
    appends ?tds=<token> (or &tds=) where token = submission_token(form_id, submission_id)."""
    form = Form.objects.filter(pk=form_id, published=True).first() if _is_id(form_id) else None
    if form is None:
        return None
    return render_form(form, success_url=success_url or "")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def submission_token(form_id: int, submission_id: int) -> str:
    """Return the token a successful submission of form_id appends to its success redirect (?tds=)."""
    return tokens.submission_token(form_id, submission_id)


def submission_token_valid(token: str, form_id: int, *, max_age: int = 3600) -> bool:
    """True when token was issued by a successful submission of form_id in this workspace within max_age s."""
    if not _is_id(form_id):
        return False
    submission_id = tokens.submission_of_token(token, form_id, max_age)
    return submission_id is not None and Submission.objects.filter(pk=submission_id, form_id=form_id).exists()


# ==============================================================================================
# Results


@dataclass(frozen=True)
class SubmissionView:
    """A submission with its answers opened (empty when the contact's key is gone)."""

    id: int
    form_id: int
    contact_id: int
    submitted_at: datetime.datetime
    status: str
    page_url: str
    ip_network: str
    answers: dict[str, Any]
    flagged: tuple[str, ...]


def _views(rows: list[Submission]) -> list[SubmissionView]:
    keys = keyring().data_keys({row.contact_id for row in rows})
    return [
        SubmissionView(id=row.pk, form_id=row.form_id, contact_id=row.contact_id, submitted_at=row.submitted_at,
                       status=row.status, page_url=row.page_url, ip_network=row.ip_network,
                       answers=open_answers(row, keys).get("values", {}), flagged=tuple(row.flagged or ()))
        for row in rows
    ]  # fmt: skip


def submissions_page(form_id: int, *, before_id: int | None = None, limit: int = SUBMISSIONS_PAGE,
                     contact_id: int | None = None) -> list[SubmissionView]:  # fmt: skip
    """Return a page of a form's submissions, newest first, answers opened (keys fetched in one query)."""
    rows = Submission.objects.filter(form_id=form_id)
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    if contact_id is not None:
        rows = rows.filter(contact_id=contact_id)
    return _views(list(rows.order_by("-id")[:limit]))


def submissions_count(form_id: int) -> int:
    return Submission.objects.filter(form_id=form_id).count()


def submission_get(form_id: int, submission_id: int) -> SubmissionView:
    """Return one submission of a form; raise Submission.DoesNotExist for one not in this workspace or form."""
    return _views([Submission.objects.get(pk=submission_id, form_id=form_id)])[0]


def submissions_for_export(form_id: int, *, batch: int = 1000) -> Iterable[SubmissionView]:
    """Yield every submission of a form (up to EXPORT_LIMIT), oldest first, in batches that open keys at once."""
    last = 0
    sent = 0
    while sent < EXPORT_LIMIT:
        rows = list(Submission.objects.filter(form_id=form_id, pk__gt=last).order_by("id")[:batch])
        if not rows:
            return
        yield from _views(rows)
        sent += len(rows)
        last = rows[-1].pk


def answer_columns(form: Form) -> list[tuple[str, str]]:
    """Return (alias, label) of the fields that take an answer, in the form's order."""
    return [(field["alias"], field["label"]) for field in form.fields if field["kind"] != FieldKind.FREEHTML]


def confirmation_form(token: str) -> Form | None:
    """Return the form a double opt-in link's token names in this workspace; None when forged, expired or unknown."""
    found = tokens.confirm_payload(token, int(settings.TIDINGS_FORMS_CONFIRM_MAX_AGE))
    if found is None:
        return None
    form_id, submission_id = found
    if not Submission.objects.filter(pk=submission_id, form_id=form_id).exists():
        return None
    return Form.objects.filter(pk=form_id).first()


def known_for_visitor(visitor_token: str, page_host: str = "") -> set[str]:
    """Return the contact fields the device's own identified contact has values for (progressive profiling).

    Empty for no token, a forged one, or a device that may not be profiled or is not identified.
    """
    from django.core.exceptions import ObjectDoesNotExist

    from tidings.contacts import selectors as contacts_selectors
    from tidings.tracking import selectors as tracking_selectors

    _visitor, contact_id = tracking_selectors.profiled_visitor(visitor_token, page_host)
    if contact_id is None:
        return set()
    try:
        contact = contacts_selectors.contact_get(contact_id)
    except ObjectDoesNotExist:
        return set()
    return {alias for alias, value in contact.fields.items() if value not in (None, "", [])}
