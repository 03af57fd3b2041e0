# Written by hand: ContactEvent leaves contacts' state; its table now belongs to events.Event
# (events 0001 adopted it, events 0002 renames it). Nothing happens in the database here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_contactfield_is_indexed"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ContactEvent")],
            database_operations=[],
        ),
    ]
