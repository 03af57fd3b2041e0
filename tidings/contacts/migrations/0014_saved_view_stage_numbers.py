# Written by hand: the data step rewrites the bare stage numbers saved list views held (decision 0041).


from django.db import migrations

STAGE_KEY = "stage"  # a saved view's ?stage= filter (actions.saved_views.VIEW_QUERY_KEYS)


def remap_saved_view_stages(saved_view_model, stage_model, alias: str) -> int:
    """Point the stage filter of saved list views at the Stage rows of migration 0013; return views changed.

    The rule (which value is a bare number, which a stage id) is stage_numbers.NumberedStages.
    """
    from tidings.contacts.stage_numbers import numbered_stages, rows_by_id

    stages_of = numbered_stages(stage_model, alias)
    views = saved_view_model._base_manager.using(alias)
    changed = 0
    for view in rows_by_id(views, "workspace_id", "query", "updated_at"):
        if not isinstance(view.query, dict) or view.query.get(STAGE_KEY) in (None, ""):
            continue
        stages = stages_of(view.workspace_id)
        before = stages.written_before_stages(view.updated_at)
        value = stages.target(view.query[STAGE_KEY], before_stages=before)
        if value != view.query[STAGE_KEY]:
            views.filter(pk=view.pk).update(query={**view.query, STAGE_KEY: value}, updated_at=stages.stamp())
            changed += 1
    return changed


def stage_numbers_to_stages(apps, schema_editor):
    """Rewrite the bare stage numbers of saved list views to the workspace's Stage ids, on each region database.

    Crosses workspaces on purpose: row-level security is lifted for the step.
    """
    from tidings.tenancy.context import region_aliases
    from tidings.tenancy.rls import dangerously_bypass_rls

    alias = schema_editor.connection.alias
    if alias not in region_aliases():
        return
    with dangerously_bypass_rls():
        remap_saved_view_stages(apps.get_model("contacts", "SavedView"), apps.get_model("contacts", "Stage"), alias)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_stages"),
    ]

    operations = [
        migrations.RunPython(
            stage_numbers_to_stages, migrations.RunPython.noop, hints={"model_name": "savedview"}, elidable=False
        ),
    ]
