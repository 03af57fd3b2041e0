# Written by hand: the event store moves from contacts to events with its rows.
#
# Step one adopts the existing table contacts_contactevent as events.Event without touching the
# database (state only); contacts 0005 then drops ContactEvent from contacts' state. Step two
# (0002) renames the table and adds what the store gains (visitors, the string dictionary).

import django.db.models.manager
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contacts", "0004_privacy_uploads_dnc_comments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("workspace_id", models.BigIntegerField(editable=False)),
                        ("contact_id", models.BigIntegerField()),
                        ("type", models.PositiveSmallIntegerField()),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("data", models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        "db_table": "contacts_contactevent",
                        "indexes": [
                            models.Index(fields=["workspace_id", "contact_id", "at"], name="contacts_ev_timeline_idx"),
                            models.Index(fields=["workspace_id", "at"], name="contacts_ev_age_idx"),
                        ],
                    },
                    managers=[
                        ("objects", django.db.models.manager.Manager()),
                        ("unscoped_objects", django.db.models.manager.Manager()),
                    ],
                ),
            ],
            database_operations=[],
        ),
    ]
