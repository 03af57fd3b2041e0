"""Bare stage numbers into Stage rows: migration 0013's step for contacts, and the rule the later steps share.

Before stages were entities a stage was a bare number. Migration 0013 gave each workspace one
Stage "Stage N" (weight N) per number N its contacts held; the later data steps (segments 0003,
campaigns 0005, contacts 0014) rewrite the numbers that segment filters, campaign steps and saved
list views hold with the same rule, through NumberedStages. Migrations import these functions:
they take historical models and a database alias, and read nothing else of the app.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db.models import Case, Value, When
from django.utils import timezone

INT32_MAX = 2**31 - 1
_NUMBER = re.compile(r"-?[0-9]{1,18}")  # a number stored as text (a saved view's ?stage=3)


def stage_name(number: int) -> str:
    """Return the name migration 0013 gives the stage that stands for a bare number ("Stage 3")."""
    return f"Stage {number}"


def stage_weight(number: int) -> int:
    """Return the weight of the stage for a bare number: the number, capped to the column's 32 bits."""
    return max(-INT32_MAX, min(INT32_MAX, number))


def stages_from_numbers(stage_model, contact_model, alias: str) -> int:
    """Give each workspace one Stage "Stage N" per distinct stage number N its contacts hold; return stages made.

    Contacts' stage_id then points at the new stage. A workspace's contacts are remapped in one
    UPDATE whose CASE reads each row's old number, so a new stage id that equals another old
    number cannot move a contact twice. The stage's weight is N (capped to the column's range),
    so the stages keep the order their numbers had. A stage already named "Stage N" is reused.
    Takes the (historical) models and the region
    alias; the caller lifts row-level security, as the step crosses workspaces.
    A number that already is one of the workspace's stage ids is left as it is (a second run).
    """
    contacts = contact_model._base_manager.using(alias)
    stages = stage_model._base_manager.using(alias)
    numbers: dict[int, list[int]] = {}
    pairs = contacts.filter(stage_id__isnull=False).values_list("workspace_id", "stage_id").distinct()
    for workspace_id, number in pairs:
        numbers.setdefault(workspace_id, []).append(number)
    made = 0
    for workspace_id, held in sorted(numbers.items()):
        # A number that is already one of the workspace's stages is no bare number (a second run).
        known = set(stages.filter(workspace_id=workspace_id, id__in=held).values_list("id", flat=True))
        found = sorted(set(held) - known)
        if not found:
            continue
        names = {number: stage_name(number) for number in found}
        made_ids = dict(stages.filter(workspace_id=workspace_id, name__in=names.values()).values_list("name", "id"))
        for number in found:
            if names[number] not in made_ids:
                made_ids[names[number]] = stages.create(
                    workspace_id=workspace_id, name=names[number], weight=stage_weight(number)
                ).id
                made += 1
        remap = [When(stage_id=number, then=Value(made_ids[names[number]])) for number in found]
        contacts.filter(workspace_id=workspace_id, stage_id__in=found).update(stage_id=Case(*remap))
    return made


def as_number(value: Any) -> int | None:
    """Return value as a whole number when it is one (an int, 3.0, or digits as text), else None (true/false too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None


class NumberedStages:
    """One workspace's stages as the data steps after migration 0013 see them; tells a bare number from a stage id.

    Values and ids are both whole numbers, so the value alone cannot tell: 0013 may have given
    "Stage 3" the id 2 and "Stage 5" the id 3. What tells is when the row holding the value was
    last written (its updated_at): a row written before the workspace had any stage can only hold
    bare numbers, and each of them becomes its "Stage N" (made, as 0013 would, when no contact
    held N). A row written since was written when stages existed: a value that is one of the
    workspace's stage ids stays; one that is not (a number the row kept) becomes its "Stage N"
    when that stage exists. Each rewritten row is saved with updated_at = stamp(), so a second run
    reads it as written since and changes nothing.
    """

    def __init__(self, stage_model, alias: str, workspace_id: int) -> None:
        self._stages = stage_model._base_manager.using(alias)
        self.workspace_id = workspace_id
        rows = list(self._stages.filter(workspace_id=workspace_id).values_list("id", "name", "created_at"))
        self._ids = {pk for pk, _, _ in rows}
        self._by_name = {name: pk for pk, name, _ in rows}
        self.first_made: datetime.datetime | None = min((made for _, _, made in rows), default=None)
        self.made = 0

    def written_before_stages(self, written_at: datetime.datetime | None) -> bool:
        """Whether a row last written at written_at predates the workspace's first stage (so holds bare numbers)."""
        return self.first_made is None or written_at is None or written_at < self.first_made

    def target(self, value: Any, *, before_stages: bool) -> Any:
        """Return the value to store in place of value: its "Stage N" id (same type: int or text), or value itself."""
        number = as_number(value)
        if number is None:
            return value
        if before_stages:
            found = self._by_name.get(stage_name(number))
            if found is None:
                found = self._stages.create(
                    workspace_id=self.workspace_id, name=stage_name(number), weight=stage_weight(number)
                ).id
                self._by_name[stage_name(number)] = found
                self._ids.add(found)
                self.made += 1
        else:
            if number in self._ids:
                return value
            found = self._by_name.get(stage_name(number))
            if found is None:
                return value  # a deleted stage's id, or a number nobody named: it matches nothing, as before
        return str(found) if isinstance(value, str) else found

    @staticmethod
    def stamp() -> datetime.datetime:
        """Return the updated_at of a rewritten row: now, so never before a stage this run made."""
        return timezone.now()


def rows_by_id(manager, *fields: str, batch: int = 500):
    """Yield manager's rows in id order with only fields, read in batches of lists.

    Not a cursor left open while the caller updates the same table: SQLite gives a connection's
    queries no isolation from each other.
    """
    last = None
    while True:
        rows = manager.only("id", *fields).order_by("id")
        if last is not None:
            rows = rows.filter(id__gt=last)
        found = list(rows[:batch])
        if not found:
            return
        yield from found
        last = found[-1].pk


def numbered_stages(stage_model, alias: str):
    """Return a function workspace id -> that workspace's NumberedStages, made once per workspace."""
    made: dict[int, NumberedStages] = {}

    def of(workspace_id: int) -> NumberedStages:
        if workspace_id not in made:
            made[workspace_id] = NumberedStages(stage_model, alias, workspace_id)
        return made[workspace_id]

    return of
