"""`tidings migrate`: migrate the global database and every region database, then create the cache table.

It first creates the var folder and any missing key (as `tidings init` does): data migrations may
encrypt with the master key, and a fresh install needs no separate step.

With --database it migrates that one database only, exactly like Django's migrate (the test
runner relies on this).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrate

from tidings.tenancy.management.commands.init import create_keys


class Command(DjangoMigrate):
    help = "Migrate every database (global first, then each region) unless --database names one."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Django defaults to 'default'; None here means "not given", so every database is migrated.
        parser.set_defaults(database=None)

    def get_check_kwargs(self, options):
        kwargs = super().get_check_kwargs(options)
        return {**kwargs, "databases": [options["database"]] if options["database"] else list(settings.DATABASES)}

    def execute(self, *args, **options):
        create_keys()  # before the system checks, which open the databases (SQLite files live in var/)
        return super().execute(*args, **options)

    def handle(self, *args, **options):
        if options["database"] is not None:
            return super().handle(*args, **options)
        for alias in settings.DATABASES:
            if options["verbosity"]:
                self.stdout.write(self.style.MIGRATE_HEADING(f"Database {alias}:"))
            super().handle(*args, **{**options, "database": alias})
        call_command("createcachetable", verbosity=options["verbosity"])
        return None
