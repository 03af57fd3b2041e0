# Written by hand: the data step rewrites the bare stage numbers campaign steps held (decision 0041).

import functools

from django.db import migrations

STAGE_FIELD = "stage"
EQUALITY = ("equals", "not_equals")


def _rewrite_step(step, target):
    """Return step with the stage it names passed through target; step itself when it names none."""
    if not isinstance(step, dict):
        return step
    kind = step.get("kind")
    if kind == "change_stage" and step.get("stage_id") is not None:
        new = target(step["stage_id"])
        return {**step, "stage_id": new} if new != step["stage_id"] else step
    if kind == "condition" and step.get("test") == "field" and step.get("field") == STAGE_FIELD:
        if step.get("operator", "equals") in EQUALITY and step.get("value") not in (None, ""):
            new = target(step["value"])
            return {**step, "value": new} if new != step["value"] else step
        return step  # gt, lt, contains on stage numbers: no stage id stands for them; left as it was
    values = step.get("values")
    if kind == "update_fields" and isinstance(values, dict) and values.get(STAGE_FIELD) not in (None, ""):
        new = target(values[STAGE_FIELD])
        return {**step, "values": {**values, STAGE_FIELD: new}} if new != values[STAGE_FIELD] else step
    return step


def _rewrite(graph, target):
    """Return graph with its steps' stages passed through target; graph itself when no step changed."""
    if not isinstance(graph, dict) or not isinstance(graph.get("steps"), list):
        return graph
    steps = [_rewrite_step(step, target) for step in graph["steps"]]
    return {**graph, "steps": steps} if any(a is not b for a, b in zip(steps, graph["steps"], strict=True)) else graph


def remap_campaign_stages(campaign_model, version_model, stage_model, alias: str) -> int:
    """Point the stages of campaign steps (draft and published versions) at migration 0013's Stage rows.

    Return how many campaigns changed. change_stage's stage_id, a field condition on the stage
    (equals, not_equals) and an update_fields step's stage are rewritten; the rule (which value is
    a bare number, which a stage id) is contacts' NumberedStages, read from when the campaign was
    last saved (publishing saves it): a version keeps its created_at, the campaign's updated_at
    moves, so a second run reads them all as written since.
    """
    from tidings.contacts.stage_numbers import numbered_stages, rows_by_id

    stages_of = numbered_stages(stage_model, alias)
    campaigns = campaign_model._base_manager.using(alias)
    versions = version_model._base_manager.using(alias)
    changed = 0
    for campaign in rows_by_id(campaigns, "workspace_id", "graph", "updated_at", batch=200):
        stages = stages_of(campaign.workspace_id)
        target = functools.partial(stages.target, before_stages=stages.written_before_stages(campaign.updated_at))
        touched = False
        for version in versions.filter(workspace_id=campaign.workspace_id, campaign_id=campaign.pk).only("id", "graph"):
            graph = _rewrite(version.graph, target)
            if graph is not version.graph:
                versions.filter(pk=version.pk).update(graph=graph)
                touched = True
        graph = _rewrite(campaign.graph, target)
        if graph is not campaign.graph or touched:
            campaigns.filter(pk=campaign.pk).update(graph=graph, updated_at=stages.stamp())
            changed += 1
    return changed


def stage_numbers_to_stages(apps, schema_editor):
    """Rewrite the bare stage numbers of campaign steps to the workspace's Stage ids, on each region database.

    Crosses workspaces on purpose: row-level security is lifted for the step.
    """
    from tidings.tenancy.context import region_aliases
    from tidings.tenancy.rls import dangerously_bypass_rls

    alias = schema_editor.connection.alias
    if alias not in region_aliases():
        return
    with dangerously_bypass_rls():
        remap_campaign_stages(
            apps.get_model("campaigns", "Campaign"),
            apps.get_model("campaigns", "CampaignVersion"),
            apps.get_model("contacts", "Stage"),
            alias,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_steprun_sending_at"),
        ("contacts", "0013_stages"),
    ]

    operations = [
        migrations.RunPython(
            stage_numbers_to_stages, migrations.RunPython.noop, hints={"model_name": "campaign"}, elidable=False
        ),
    ]
