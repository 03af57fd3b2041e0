"""The (workspace, contact, type, time) index of identified contacts' events: a refresh reads only the type's rows.

Built CONCURRENTLY on PostgreSQL, so the event store keeps taking writes while it builds (the
table is the largest of a region); plain CREATE INDEX elsewhere (SQLite). A concurrent build that
failed leaves an invalid index behind: it is dropped and built again.
"""

from django.db import migrations, models

INDEX = models.Index(
    fields=["workspace_id", "contact_id", "type", "at"],
    name="events_contact_type_idx",
    condition=models.Q(contact_id__isnull=False),
)


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """AddIndex, CREATE INDEX CONCURRENTLY on PostgreSQL (the migration is not atomic), a plain one elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, model):
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
                [self.index.name],
            )
            row = cursor.fetchone()
        if row is not None:
            if not row[0]:
                return None  # built already (a run stopped after it)
            schema_editor.remove_index(model, self.index, concurrently=True)
        schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
        return None


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("events", "0002_visitors_strings_and_the_events_table")]

    operations = [AddIndexConcurrentlyOnPostgreSQL(model_name="event", index=INDEX)]
