"""Migration 0013's data step: turn the bare stage numbers contacts held into the workspace's Stage rows."""

from __future__ import annotations

from django.db.models import Case, Value, When

INT32_MAX = 2**31 - 1


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
        names = {number: f"Stage {number}" for number in found}
        made_ids = dict(stages.filter(workspace_id=workspace_id, name__in=names.values()).values_list("name", "id"))
        for number in found:
            if names[number] not in made_ids:
                weight = max(-INT32_MAX, min(INT32_MAX, number))
                made_ids[names[number]] = stages.create(workspace_id=workspace_id, name=names[number], weight=weight).id
                made += 1
        remap = [When(stage_id=number, then=Value(made_ids[names[number]])) for number in found]
        contacts.filter(workspace_id=workspace_id, stage_id__in=found).update(stage_id=Case(*remap))
    return made
