"""Take over the requests the preference centre recorded in the pages app (issue 11) before this app existed."""

from django.db import migrations


def copy_requests(apps, schema_editor):
    old = apps.get_model("pages", "PrivacyRequest")
    new = apps.get_model("subject_requests", "SubjectRequest")
    alias = schema_editor.connection.alias
    rows = [
        new(workspace_id=row.workspace_id, kind=row.kind, status="verified", source="preference_centre",
            contact_id=row.contact_id, received_at=row.received_at, due_at=row.due_at, verified_at=row.received_at)
        for row in old._base_manager.using(alias).all().iterator()
    ]  # fmt: skip
    new._base_manager.using(alias).bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("subject_requests", "0001_initial"),
        ("pages", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_requests, migrations.RunPython.noop)]
