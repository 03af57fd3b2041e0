"""Creating, updating, deleting and merging one contact, and changing its points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

# _match_owners is looked up on the module so that tests can make it blind (a racing transaction).
from tidings.contacts import admission
from tidings.contacts.actions import state as state_module
from tidings.contacts.actions.common import _atomic, _audit, _member_id, _require
from tidings.contacts.actions.events import _events
from tidings.contacts.actions.schema import load_fields
from tidings.contacts.actions.stages import _stage_of_workspace
from tidings.contacts.actions.state import (
    _apply,
    _check_lawful_basis,
    _duplicate_error,
    _email_taken,
    _identifiers,
    _is_email_conflict,
    _load_states,
    _match,
    _new_states,
    _prepare,
    _required_errors,
    _save_states,
    _State,
    _with_defaults,
    _write_tokens,
)
from tidings.contacts.actions.tags import _apply_tags
from tidings.contacts.events import fields_token
from tidings.contacts.fields import (
    CONTACT_COLUMNS,
    MERGE_RULES,
    NAME_FIELDS,
    is_empty,
)
from tidings.contacts.models import (
    Contact,
    EventType,
    FieldObject,
)
from tidings.events import store
from tidings.events.store import EventRow
from tidings.inputs import INT32_MAX, INT32_MIN, InvalidInput, parse_int
from tidings.privacy import registry
from tidings.privacy.vault import (
    keyring,
)


def contact_create(
    values: Mapping[str, Any],
    *,
    tags: Sequence[str] = (),
    lawful_basis: str = "",
    given_by_subject: bool = False,
    principal,
    request=None,
) -> Contact:
    """Create a contact from {alias: value} and return it; field defaults fill missing values.

    tags are names to apply. Raise ValidationError on unknown, archived or invalid fields, a
    missing required field, an unknown lawful basis, a unique identifier (email by default)
    another contact already has (use contact_upsert to update that contact instead), or an email
    whose person asked to be erased (tidings.contacts.admission). given_by_subject: the person
    typed the address themselves (a form submission), a new consent that lifts that refusal.
    """
    _require(principal, "contacts:edit")
    contact, created = _upsert_one(
        values,
        tags=tags,
        lawful_basis=lawful_basis,
        allow_match=False,
        given_by_subject=given_by_subject,
        principal=principal,
        request=request,
    )
    return contact


def contact_upsert(
    values: Mapping[str, Any],
    *,
    tags: Sequence[str] = (),
    lawful_basis: str = "",
    overwrite_with_blank: bool = False,
    principal,
    request=None,
) -> tuple[Contact, bool]:
    """Update the contact matching values' unique identifiers, or create one; return (contact, created).

    Unique identifiers are the fields flagged is_unique_identifier (email by default), combined
    with OR. Blank values leave a matched contact's fields alone unless overwrite_with_blank.
    tags use Mautic's convention: a leading "-" removes the tag. Raise ValidationError as
    contact_create does, the erased address included when a contact would be created.
    """
    _require(principal, "contacts:edit")
    return _upsert_one(
        values,
        tags=tags,
        lawful_basis=lawful_basis,
        allow_match=True,
        overwrite_with_blank=overwrite_with_blank,
        principal=principal,
        request=request,
    )


def _upsert_one(
    values, *, tags, lawful_basis, allow_match, overwrite_with_blank=True, given_by_subject=False, principal, request
):
    _check_lawful_basis(lawful_basis, required=False)
    fields = load_fields()
    changes, errors = _prepare(values, fields, overwrite_with_blank=overwrite_with_blank or not allow_match)
    if errors:
        raise ValidationError(errors)
    ring = keyring()
    arguments = (changes, fields, ring, tags, lawful_basis, allow_match, given_by_subject, principal, request)
    try:
        return _upsert_attempt(*arguments)
    except IntegrityError as error:
        # Another transaction inserted this email between our match and our insert (PostgreSQL
        # runs concurrent writers; SQLite serialises them). Its row is committed now: a create
        # reports the duplicate, an upsert matches it on the second attempt.
        if not _is_email_conflict(error):
            raise
        if not allow_match:
            raise _duplicate_error("email") from error
        return _upsert_attempt(*arguments)


def _creation_source(principal, request) -> str:
    """Return where a contact created one by one comes from, for the dashboard: ui, api or system.

    Read from how the request entered (tidings.web.entry sets request.credential): a signed-in
    session is the UI, a token, OAuth2 or password Basic is an API client; no request is a task
    or command. Imports are counted from their own rows (ContactImport.created_count).
    """
    credential = getattr(request, "credential", "") if request is not None else ""
    if credential == "session":
        return "ui"
    if credential:
        return "api"
    return "system" if principal.is_system else "ui"


def _admit(email, *, given_by_subject: bool, principal) -> None:
    """Refuse a new contact whose email's person asked to be erased, unless they give it again themselves."""
    if not email or not admission.refused_emails([str(email)]):
        return
    if not given_by_subject:
        raise ValidationError({"email": [admission.REFUSED_MESSAGE]})
    admission.readmit([str(email)], principal=principal)


def _upsert_attempt(changes, fields, ring, tags, lawful_basis, allow_match, given_by_subject, principal, request):
    changes = dict(changes)  # defaults are added for a new contact; a retry starts from the row as given
    with _atomic():
        identifiers = _identifiers(ring, fields, changes.get)
        ((match_id, alias),), owners = state_module._match_owners([identifiers])
        if match_id is not None and not allow_match:
            raise _duplicate_error(alias)
        if match_id is not None and _email_taken(identifiers, owners, match_id):
            raise _duplicate_error("email")
        if match_id is None:
            _admit(changes.get("email"), given_by_subject=given_by_subject, principal=principal)
            states, key_rows = _new_states(1, ring)
            changes = _with_defaults(changes, fields)
        else:
            states, key_rows = [_load_states([match_id], ring)[match_id]], []
        state = states[0]
        _apply(state, changes, fields)
        if lawful_basis:
            state.contact.lawful_basis = lawful_basis
        required = _required_errors(state, fields)
        if required:
            raise ValidationError(required)
        state.tags = list(tags)
        _save_states(states, key_rows, ring, fields)
        _apply_tags(states, record=True, by=_member_id(principal))
        if state.new:
            _events(states, EventType.CONTACT_CREATED, {"source": _creation_source(principal, request)})
        else:
            _fields_changed_event(state, principal)
        _audit(
            "contact.created" if state.new else "contact.updated",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=state.contact.id,
            fields=sorted(state.changed),
        )
    return state.contact, state.new


def _fields_changed_event(state: _State, principal) -> None:
    """Write a fields-changed event naming the changed aliases (never their values), if any changed."""
    if state.changed:
        aliases, count = fields_token(state.changed)
        _events([state], EventType.FIELDS_CHANGED, {"fields": aliases, "count": count, "by": _member_id(principal)})


def contact_update(
    contact_id: int,
    values: Mapping[str, Any],
    *,
    tags: Sequence[str] = (),
    given_by_subject: bool = False,
    principal,
    request=None,
) -> Contact:
    """Change a contact's fields ({alias: value}; empty values clear) and tags; return the contact.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on invalid
    values, a required field left empty, a unique identifier another contact has (merge
    the two with contact_merge instead), or a new email whose person asked to be erased
    (given_by_subject lifts that refusal, as for contact_create).
    """
    _require(principal, "contacts:edit")
    fields = load_fields()
    changes, errors = _prepare(values, fields)
    if errors:
        raise ValidationError(errors)
    ring = keyring()
    with _atomic():
        states = _load_states([contact_id], ring)
        if contact_id not in states:
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        state = states[contact_id]
        changed_ids = _identifiers(ring, fields, changes.get)
        for match_id, alias in _match([changed_ids]):
            if match_id is not None and match_id != contact_id:
                raise _duplicate_error(alias or "")
        was_identified = state.contact.date_identified is not None
        _apply(state, changes, fields)
        if "email" in state.changed:
            _admit(changes.get("email"), given_by_subject=given_by_subject, principal=principal)
        required = _required_errors(state, fields)
        if required:
            raise ValidationError(required)
        state.tags = list(tags)
        _save_states([state], [], ring, fields)
        _apply_tags([state], record=True, by=_member_id(principal))
        _fields_changed_event(state, principal)
        if not was_identified and state.contact.date_identified is not None:
            _events([state], EventType.CONTACT_IDENTIFIED)
        _audit(
            "contact.updated",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=contact_id,
            fields=sorted(state.changed),
        )
    assert isinstance(state.contact, Contact)  # only imports write light rows
    return state.contact


def contact_delete(contact_id: int, *, principal, request=None) -> None:
    """Delete a contact: shred its data key and erase it from every registered store.

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "contacts:delete")
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        touched = registry.erase_subject_rows([contact_id])
        _audit(
            "contact.deleted",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=contact_id,
            rows={label: n for label, n in touched.items() if n},
        )


def contacts_delete(contact_ids: Iterable[int], *, principal, request=None) -> int:
    """Delete several contacts as contact_delete does; ids not in this workspace are skipped. Return the count."""
    _require(principal, "contacts:delete")
    with _atomic():
        ids = list(Contact.objects.filter(pk__in=list(contact_ids)).values_list("id", flat=True))
        if ids:
            registry.erase_subject_rows(ids)
            _audit("contacts.deleted", principal=principal, request=request, target_type="contact", ids=ids[:1000])
    return len(ids)


MERGE_SIDES = ("winner", "loser")


def contact_merge(
    winner_id: int,
    loser_id: int,
    *,
    choices: Mapping[str, str] | None = None,
    principal,
    request=None,
) -> Contact:
    """Merge loser into winner and return the winner; the loser is erased.

    The winner keeps its values; its empty fields take the loser's. choices ({alias: "winner"
    or "loser"}) overrides that per field: "loser" writes the loser's value into the winner
    (an empty one clears the field), "winner" keeps the winner's value even when it is empty.
    Points add up, last_active and date_identified take the later and the earlier (MERGE_RULES:
    no choice for them). Every registered store (events, tags, notes, re-encrypted under the
    winner's key, companies, Do-Not-Contact, and the stores of other apps) moves to the winner.
    The audit entry names the chosen aliases, never their values. Raise Contact.DoesNotExist if
    either id is not in this workspace, ValidationError when both ids are the same, for a choice
    of an unknown, archived or rule-merged field or a side other than winner/loser, or when the
    choices leave a required field empty.
    """
    # A merge erases the loser: the same permission as deleting it, on every surface.
    _require(principal, "contacts:edit")
    _require(principal, "contacts:delete")
    if winner_id == loser_id:
        raise ValidationError("a contact cannot be merged with itself")
    fields = load_fields()
    choices = _checked_choices(choices or {}, fields)
    ring = keyring()
    with _atomic():
        states = _load_states([winner_id, loser_id], ring)
        if winner_id not in states or loser_id not in states:
            raise Contact.DoesNotExist("both contacts must exist in this workspace")
        winner, loser = states[winner_id], states[loser_id]
        kept = {alias: _stored_value(winner, alias, fields) for alias, side in choices.items() if side == "winner"}
        _fold_profile(winner, loser)
        for alias, side in choices.items():
            source = loser if side == "loser" else None
            _put_stored_value(winner, alias, fields, _stored_value(source, alias, fields) if source else kept[alias])
        required = _required_errors(winner, fields)
        if required:
            raise ValidationError(required)
        moved = registry.merge_subject_rows(winner_id, loser_id)
        registry.erase_subject_rows([loser_id], other_stores=False)
        _save_states([winner], [], ring, fields)
        _write_tokens([winner], ring, fields, replace=True)
        _events([winner], EventType.CONTACT_MERGED, {"merged_id": loser_id})
        _audit(
            "contact.merged",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=winner_id,
            loser_id=loser_id,
            moved={label: n for label, n in moved.items() if n},
            from_loser=sorted(alias for alias, side in choices.items() if side == "loser"),
        )
    assert isinstance(winner.contact, Contact)  # loaded from the database
    return winner.contact


def _checked_choices(choices: Mapping[str, str], fields) -> dict[str, str]:
    """Return choices as {alias: side}; raise ValidationError keyed by alias for a choice that cannot be made."""
    errors: dict[str, list[str]] = {}
    for alias, side in choices.items():
        definition = fields.get(alias)
        if definition is None or definition.object != FieldObject.CONTACT:
            errors[str(alias)] = ["no such field"]
        elif definition.archived_at is not None:
            errors[alias] = ["this field is archived"]
        elif alias in MERGE_RULES:
            errors[alias] = [f"merged by a rule ({MERGE_RULES[alias]}), not chosen"]
        elif side not in MERGE_SIDES:
            errors[alias] = ["choose winner or loser"]
    if errors:
        raise ValidationError(errors)
    return dict(choices)


def _stored_value(state: _State, alias: str, fields):
    """Return alias's value as the contact stores it (a column value, or the JSON form in profile or custom)."""
    column = CONTACT_COLUMNS.get(alias)
    if column:
        return getattr(state.contact, column)
    store = state.profile if fields[alias].is_encrypted else state.contact.custom
    return store.get(alias)


def _put_stored_value(state: _State, alias: str, fields, value) -> None:
    """Set alias to value in the form _stored_value returns it; an empty value clears the field."""
    column = CONTACT_COLUMNS.get(alias)
    if column:
        setattr(state.contact, column, value)
    else:
        store = state.profile if fields[alias].is_encrypted else state.contact.custom
        if is_empty(value):
            store.pop(alias, None)
        else:
            store[alias] = value
    state.changed.add(alias)


def _fold_profile(winner: _State, loser: _State) -> None:
    for alias, value in loser.profile.items():
        if is_empty(winner.profile.get(alias)):
            winner.profile[alias] = value
    for alias, value in loser.contact.custom.items():
        if is_empty(winner.contact.custom.get(alias)):
            winner.contact.custom[alias] = value
    w, lo = winner.contact, loser.contact
    for column in ("company_name", "position", "city", "state", "zipcode", "country", "timezone", "preferred_locale",
                   "website", "owner_id", "stage_id", "lawful_basis"):  # fmt: skip
        if is_empty(getattr(w, column)) and not is_empty(getattr(lo, column)):
            setattr(w, column, getattr(lo, column))
    w.points = (w.points or 0) + (lo.points or 0)
    w.last_active = max(filter(None, [w.last_active, lo.last_active]), default=None)
    w.date_identified = min(filter(None, [w.date_identified, lo.date_identified]), default=None)
    w.created_at = min(w.created_at, lo.created_at)
    winner.changed.update(NAME_FIELDS)


POINTS_OPERATORS = ("plus", "minus", "times", "divide")


def _points_stay_in_range(operator: str, delta: int) -> Q:
    """Return the condition on a contact's current points under which operator and delta keep them in 32 bits."""
    low, high = INT32_MIN, INT32_MAX
    if operator == "plus":
        return Q(points__gte=low - delta, points__lte=high - delta)
    if operator == "minus":
        return Q(points__gte=low + delta, points__lte=high + delta)
    if operator == "times" and delta > 0:
        return Q(points__gte=-(-low // delta), points__lte=high // delta)
    if operator == "times" and delta < 0:
        return Q(points__gte=-(-high // delta), points__lte=low // delta)
    if operator == "divide" and delta == -1:
        return Q(points__gt=low)
    return Q()


def contact_points_change(contact_id: int, operator: str, delta: int, *, principal, request=None) -> int:
    """Change a contact's points by operator (plus, minus, times, divide) and delta; return the new points.

    The change is made in the database (no lost update between concurrent calls) and recorded
    as a points.changed event. Dividing drops the remainder (rounds toward zero). Raise
    Contact.DoesNotExist for an id not in this workspace, ValidationError on an unknown operator
    or a division by zero.
    """
    _require(principal, "contacts:edit")
    if operator not in POINTS_OPERATORS:
        raise ValidationError({"operator": f"choose one of {', '.join(POINTS_OPERATORS)}"})
    try:
        delta = parse_int(delta, minimum=INT32_MIN, maximum=INT32_MAX)
    except InvalidInput as error:
        raise ValidationError({"delta": [str(error)]}) from error
    if operator == "divide" and delta == 0:
        raise ValidationError({"delta": "cannot divide by zero"})
    from django.db.models import F

    expression = {
        "plus": F("points") + delta,
        "minus": F("points") - delta,
        "times": F("points") * delta,
        "divide": F("points") / delta,
    }[operator]
    with _atomic():
        # Only a row whose result fits the points column is updated; 0 rows is then "no such
        # contact" or "out of range", told apart by one more read.
        in_range = Contact.objects.filter(_points_stay_in_range(operator, delta), pk=contact_id)
        if not in_range.update(points=expression, updated_at=timezone.now()):
            if Contact.objects.filter(pk=contact_id).exists():
                raise ValidationError({"delta": [f"the points would leave the range {INT32_MIN} to {INT32_MAX}"]})
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        points = Contact.objects.filter(pk=contact_id).values_list("points", flat=True).get()
        data = {"op": operator, "delta": delta, "points": points}
        store.write([EventRow(type=EventType.POINTS_CHANGED, contact_id=contact_id, data=data)])
        _audit("contact.points_changed", principal=principal, request=request, target_type="contact",
               target_id=contact_id, operator=operator, delta=delta)  # fmt: skip
    return points


def contacts_stage_change(contact_ids: Iterable[int], stage_id: int | None, *, principal, request=None) -> int:
    """Move contacts to stage stage_id (None: no stage) in one UPDATE per 1,000; return how many moved.

    Contacts already at that stage and ids not in this workspace are left alone. Each contact moved
    gets a stage.changed event with its previous stage (campaigns' "change stage" step calls this).
    Raise ValidationError (stage_id) when stage_id is not one of this workspace's stages.
    """
    _require(principal, "contacts:edit")
    if stage_id is not None:
        stage_id = _stage_of_workspace(stage_id)
    ids = sorted({int(c) for c in contact_ids})
    moved = 0
    now = timezone.now()
    with _atomic():
        for start in range(0, len(ids), 1000):
            rows = list(Contact.objects.select_for_update().filter(pk__in=ids[start : start + 1000])
                        .exclude(stage_id=stage_id).values_list("id", "stage_id"))  # fmt: skip
            if not rows:
                continue
            Contact.objects.filter(pk__in=[r[0] for r in rows]).update(stage_id=stage_id, updated_at=now)
            store.write(EventRow(type=EventType.STAGE_CHANGED, contact_id=contact_id, at=now,
                                 data={"stage_id": stage_id or 0, "previous_stage_id": previous or 0})
                        for contact_id, previous in rows)  # fmt: skip
            moved += len(rows)
        _audit("contact.stage_changed", principal=principal, request=request, target_type="contact",
               target_id=ids[0] if len(ids) == 1 else "", contacts=moved, stage_id=stage_id)  # fmt: skip
    return moved
