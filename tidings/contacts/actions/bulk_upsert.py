"""Creating and updating many contacts at once (imports, batch APIs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError

# _match_owners is looked up on the module so that tests can make it blind (a racing transaction).
from tidings.contacts.actions import state as state_module
from tidings.contacts.actions.common import BATCH_SIZE, _atomic, _audit, _require
from tidings.contacts.actions.events import _events
from tidings.contacts.actions.schema import load_fields
from tidings.contacts.actions.state import (
    _apply,
    _check_lawful_basis,
    _email_taken,
    _identifiers,
    _is_email_conflict,
    _load_states,
    _missing_required,
    _new_states,
    _Plan,
    _prepare,
    _save_states,
    _State,
)
from tidings.contacts.actions.tags import _apply_tags, _row_tags, _split_tags, _tag_errors
from tidings.contacts.models import (
    EventType,
)
from tidings.privacy.vault import (
    keyring,
)


@dataclass
class RowError:
    index: int
    errors: dict[str, list[str]]


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    contact_ids: list[int | None] = field(default_factory=list)  # per row, when asked for

    @property
    def processed(self) -> int:
        return self.created + self.updated + len(self.errors)


def contacts_bulk_upsert(
    rows: Iterable[Mapping[str, Any]],
    *,
    lawful_basis: str,
    tags: Sequence[str] = (),
    overwrite_with_blank: bool = False,
    batch_size: int = BATCH_SIZE,
    return_ids: bool = False,
    source: dict | None = None,
    principal,
    request=None,
) -> BulkResult:
    """Upsert many contacts (imports, API batches), batch by batch; return counts and per-row errors.

    Each row is {alias: value}, plus an optional "tags" entry (a list, or names separated by
    "|" or ","). Rows match existing contacts by unique identifiers as contact_upsert does;
    two rows with the same identifier in one call update the same contact. A row with an
    invalid value is skipped and reported in errors (index counts from 0 over all rows); the
    others are written. lawful_basis (LawfulBasis) is required and recorded on every contact
    written. Each batch is one transaction with one audit entry, so an interrupted import keeps
    the batches already written; the caller checkpoints by row index. source (ids only, e.g.
    {"import": 12}) is stored on each contact's contact.imported event.
    Raise ValidationError on an unknown lawful basis.
    """
    _require(principal, "contacts:edit")
    _check_lawful_basis(lawful_basis, required=True)
    _split_tags(tags)  # tags for every row: refused here, before any batch is written
    fields = load_fields()
    plan = _Plan(fields)
    ring = keyring()
    result = BulkResult()
    batch: list[tuple[int, Mapping[str, Any]]] = []

    def write(batch):
        arguments = (batch, fields, ring, lawful_basis, tags, overwrite_with_blank, return_ids, source, result,
                     principal, request, plan)  # fmt: skip
        try:
            _bulk_batch(*arguments)
        except IntegrityError as error:
            # A concurrent writer inserted one of the batch's emails after our match: match again.
            if not _is_email_conflict(error):
                raise
            _bulk_batch(*arguments)

    for index, row in enumerate(rows):
        batch.append((index, row))
        if len(batch) >= batch_size:
            write(batch)
            batch = []
    if batch:
        write(batch)
    return result


def _bulk_batch(batch, fields, ring, lawful_basis, tags, overwrite_with_blank, return_ids, source, result,
                principal, request, plan: _Plan | None = None) -> None:  # fmt: skip
    """Upsert one batch of (index, row) in one transaction; add its counts and row errors to result."""
    plan = plan or _Plan(fields)
    prepared = []  # (index, changes, row tags)
    early_errors: list[RowError] = []
    for index, row in batch:
        row_tags: list[str] = []
        if "tags" in row:
            row = dict(row)
            row_tags = _row_tags(row.pop("tags"))
        changes, errors = _prepare(row, fields, overwrite_with_blank=overwrite_with_blank, plan=plan)
        errors.update(_tag_errors(row_tags))
        if errors:
            early_errors.append(RowError(index, errors))
            continue
        prepared.append((index, changes, row_tags))
    with _atomic():
        identifiers = [_identifiers(ring, fields, changes.get, plan=plan) for _, changes, _ in prepared]
        matches, owners = state_module._match_owners(identifiers)
        existing = _load_states({m for m, _ in matches if m is not None}, ring)
        new_count = sum(1 for m, _ in matches if m is None)
        fresh, key_rows = _new_states(new_count, ring, light=True)
        fresh_iter = iter(fresh)
        by_identifier: dict[tuple[str, bytes], _State] = {}  # rows of this batch sharing an identifier
        touched: dict[int, _State] = {}
        ids_by_index: dict[int, int] = {}
        late_errors: list[RowError] = []  # added to result only once the batch has committed
        for (index, changes, row_tags), (match_id, _), row_identifiers in zip(
            prepared, matches, identifiers, strict=True
        ):
            state = existing.get(match_id) if match_id is not None else None
            if state is None and row_identifiers:
                state = next((by_identifier[(w, i)] for _, w, i in row_identifiers if (w, i) in by_identifier), None)
            conflict = _email_taken(row_identifiers, owners, state.contact.id if state else None, by_identifier)
            if conflict:
                late_errors.append(RowError(index, conflict))
                continue
            if state is None:
                missing = _missing_required(None, changes, plan, defaults=True)
                if missing:  # checked before a fresh state is taken, so a refused row leaves no trace
                    late_errors.append(RowError(index, missing))
                    continue
                state = next(fresh_iter)
                for alias, default in plan.defaults:  # a new contact starts from the fields' defaults
                    if changes.get(alias) is None:
                        changes[alias] = list(default) if isinstance(default, list) else default
            else:
                missing = _missing_required(state, changes, plan)
                if missing:  # e.g. overwrite_with_blank clearing a required field: the contact keeps its values
                    late_errors.append(RowError(index, missing))
                    continue
            for _, where, value in row_identifiers:
                by_identifier.setdefault((where, value), state)
            _apply(state, changes, fields)
            state.contact.lawful_basis = lawful_basis
            state.tags.extend(row_tags)
            touched[state.contact.id] = state
            ids_by_index[index] = state.contact.id
        states = list(touched.values())
        # Fresh states left unused (rows merged into an earlier row of the batch) are dropped.
        _save_states(states, key_rows, ring, fields, plan=plan)
        _apply_tags(states, tags)
        _events(states, EventType.CONTACT_IMPORTED, source)
        created = sum(1 for s in states if s.new)
        _audit(
            "contacts.bulk_upserted",
            principal=principal,
            request=request,
            target_type="contact",
            created=created,
            updated=len(states) - created,
            errors=len(early_errors) + len(late_errors),
            first_row=batch[0][0],
            last_row=batch[-1][0],
            lawful_basis=lawful_basis,
            **({"source": source} if source else {}),
        )
    result.errors.extend(sorted(early_errors + late_errors, key=lambda error: error.index))
    result.created += created
    result.updated += len(ids_by_index) - created
    if return_ids:
        result.contact_ids.extend(ids_by_index.get(index) for index, _ in batch)
