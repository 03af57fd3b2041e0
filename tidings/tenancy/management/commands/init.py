"""`tidings init`: create the var folder and the keys Tidings generates, never replacing one.

Importing settings writes nothing; this command (and `tidings migrate`, which calls create_keys
first) is what creates `var/` (mode 0700), `var/master.key` and `var/secret.key` (mode 0600).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from tidings import conf


def _global_database_holds_workspaces() -> bool:
    """Return whether the global database already has workspaces (False when it cannot be reached yet)."""
    connection = connections["default"]
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and "mode=memory" not in name and name != ":memory:" and not Path(name).exists():
        return False  # connecting would create the file
    try:
        if "tenancy_workspace" not in connection.introspection.table_names():
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM tenancy_workspace LIMIT 1")
            return cursor.fetchone() is not None
    except DatabaseError:
        return False  # a database not created yet holds nothing a new key could orphan


def create_keys() -> list[Path]:
    """Create the var folder and every missing key file; return the paths created.

    Raise CommandError instead of generating a master key beside a database that already holds
    workspaces: their keys are wrapped by the master key that went missing, so a new one would
    leave every encrypted field unreadable. That key has to be restored, not replaced.
    """
    if conf.master_key() is None and _global_database_holds_workspaces():
        raise CommandError(
            f"{conf.var_dir() / 'master.key'} is missing but the global database already holds workspaces:"
            " restore the master key from backup (or set TIDINGS_MASTER_KEY); a new one would not open their data"
        )
    return conf.init_var_dir()


class Command(BaseCommand):
    help = "Create the var folder and its key files (master.key, secret.key) if missing; never overwrite one."
    # Runs before anything exists: no system checks, which would need the keys and the databases.
    requires_system_checks: list[str] = []

    def handle(self, *args, verbosity, **options):
        created = create_keys()
        if verbosity:
            for path in created:
                self.stdout.write(f"created {path}")
            if not created:
                self.stdout.write(f"{conf.var_dir()}: nothing to create, every key is in place")
