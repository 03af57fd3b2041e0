from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tidings.tenancy"
    label = "tenancy"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from tidings.tenancy import rls, router  # imports the tenancy models: only once apps are ready

        router.TENANT_APPS.update(router.tenant_apps())  # every model is loaded by now
        connection_created.connect(rls.install_session_wrapper, dispatch_uid="tidings_rls_wrapper")
        post_migrate.connect(rls.apply_policies_after_migrate, dispatch_uid="tidings_rls_policies")
        connection_created.connect(_linear_sqlite_regexp, dispatch_uid="tidings_sqlite_regexp")


def _linear_sqlite_regexp(sender, connection, **kwargs) -> None:
    """Replace Django's REGEXP on SQLite (Python's backtracking re) by RE2's, linear in the text matched."""
    if connection.vendor == "sqlite":
        from tidings.patterns import sqlite_regexp

        connection.connection.create_function("REGEXP", 2, sqlite_regexp, deterministic=True)
