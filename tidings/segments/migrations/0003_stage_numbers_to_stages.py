# Written by hand: the data step rewrites the bare stage numbers segment filters held (decision 0041).

import functools

from django.db import migrations

STAGE_FIELD = "stage"
SCALAR_OPERATORS = ("equals", "not_equals")
LIST_OPERATORS = ("in", "not_in")


def _rewrite(node, target):
    """Return node with its contact-stage filters' values passed through target (groups walked); node itself if none."""
    if not isinstance(node, dict):
        return node
    filters = node.get("filters")
    if isinstance(filters, list):
        walked = [_rewrite(child, target) for child in filters]
        return {**node, "filters": walked} if walked != filters else node
    is_stage = node.get("kind") == "field" and node.get("field") == STAGE_FIELD
    if not is_stage or node.get("object", "contact") != "contact":
        return node
    value, operator = node.get("value"), node.get("operator")
    if operator in SCALAR_OPERATORS:
        new = target(value)
    elif operator in LIST_OPERATORS and isinstance(value, list):
        new = [target(item) for item in value]
    else:  # a range or presence on stage numbers: no stage id stands for it; left as it was
        return node
    return {**node, "value": new} if new != value else node


def remap_segment_stages(segment_model, stage_model, alias: str) -> int:
    """Point the stage filters of segment definitions at the Stage rows of migration 0013; return segments changed.

    The rule (which value is a bare number, which a stage id) is contacts' NumberedStages: a
    definition last saved before its workspace had any stage names numbers. Equality and "in"
    filters are rewritten; a range on stage numbers (gt, between...) is left as it was.
    """
    from tidings.contacts.stage_numbers import numbered_stages, rows_by_id

    stages_of = numbered_stages(stage_model, alias)
    segments = segment_model._base_manager.using(alias)
    changed = 0
    for segment in rows_by_id(segments, "workspace_id", "definition", "updated_at"):
        stages = stages_of(segment.workspace_id)
        before = stages.written_before_stages(segment.updated_at)
        definition = _rewrite(segment.definition, functools.partial(stages.target, before_stages=before))
        if definition is not segment.definition:
            segments.filter(pk=segment.pk).update(definition=definition, updated_at=stages.stamp())
            changed += 1
    return changed


def stage_numbers_to_stages(apps, schema_editor):
    """Rewrite the bare stage numbers of segment filters to the workspace's Stage ids, on each region database.

    Crosses workspaces on purpose: row-level security is lifted for the step.
    """
    from tidings.tenancy.context import region_aliases
    from tidings.tenancy.rls import dangerously_bypass_rls

    alias = schema_editor.connection.alias
    if alias not in region_aliases():
        return
    with dangerously_bypass_rls():
        remap_segment_stages(apps.get_model("segments", "Segment"), apps.get_model("contacts", "Stage"), alias)


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0002_preference_centre"),
        ("contacts", "0013_stages"),
    ]

    operations = [
        migrations.RunPython(
            stage_numbers_to_stages, migrations.RunPython.noop, hints={"model_name": "segment"}, elidable=False
        ),
    ]
