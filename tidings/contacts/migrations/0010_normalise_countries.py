# Written by hand: the data step stores existing countries as ISO codes, as fields.coerce now does.

from django.db import migrations

BATCH = 1000


def normalise_countries(apps, schema_editor):
    """Store every contact's and company's country as its ISO 3166-1 alpha-2 code ("Germany", "de": DE).

    Runs on each region database with historical models, in batches by id. A value that names
    no country is kept as it is (a write now refuses one; data written before must not be lost).
    Crosses workspaces on purpose: row-level security is lifted for the step.
    """
    from tidings.countries import country_code
    from tidings.tenancy.context import region_aliases
    from tidings.tenancy.rls import dangerously_bypass_rls

    alias = schema_editor.connection.alias
    if alias not in region_aliases():
        return
    with dangerously_bypass_rls():
        for model_name in ("Contact", "Company"):
            rows = apps.get_model("contacts", model_name)._base_manager.using(alias).exclude(country="")
            last = 0
            while batch := list(rows.filter(id__gt=last).order_by("id").only("id", "country")[:BATCH]):
                last = batch[-1].id
                changed = []
                for row in batch:
                    code = country_code(row.country)
                    if code and code != row.country:
                        row.country = code
                        changed.append(row)
                rows.model._base_manager.using(alias).bulk_update(changed, ["country"])


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0009_import_outcomes'),
    ]

    operations = [
        migrations.RunPython(
            normalise_countries, migrations.RunPython.noop, hints={"model_name": "contact"}, elidable=False
        ),
    ]
