"""Send every query to the right database: global models to 'default', tenant models to their region."""

from __future__ import annotations

from tidings.tenancy.context import current_workspace, region_aliases, region_db_alias, require_workspace

# Apps whose tables exist in every database: the audit log keeps each workspace's chain
# beside the data it describes, and the system chain in the global database.
EVERYWHERE_APPS = {"audit"}


class RegionRouter:
    def _db_for(self, model, instance=None) -> str:
        from tidings.tenancy.models import is_tenant_model, workspace_region

        if getattr(model, "global_only", False):
            return "default"
        if is_tenant_model(model) or model._meta.app_label in EVERYWHERE_APPS:
            workspace_id = getattr(instance, "workspace_id", None) if instance is not None else None
            if workspace_id is not None:
                return region_db_alias(workspace_region(workspace_id))
            if model._meta.app_label in EVERYWHERE_APPS and current_workspace() is None:
                return "default"
            return require_workspace().db_alias
        return "default"

    def db_for_read(self, model, **hints):
        return self._db_for(model, hints.get("instance"))

    def db_for_write(self, model, **hints):
        return self._db_for(model, hints.get("instance"))

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in EVERYWHERE_APPS:
            return db == "default" or not self._is_global_only(app_label, model_name)
        tenant = self._is_tenant(app_label, model_name)
        if db in region_aliases():
            return tenant
        return not tenant

    @staticmethod
    def _is_global_only(app_label, model_name) -> bool:
        from django.apps import apps

        if model_name is None:
            return False
        try:
            return getattr(apps.get_model(app_label, model_name), "global_only", False)
        except LookupError:
            return False

    @staticmethod
    def _is_tenant(app_label, model_name) -> bool:
        # Historical models in migrations lose class attributes, so ask the live registry.
        from django.apps import apps

        from tidings.tenancy.models import is_tenant_model

        if model_name is None:
            return app_label in TENANT_APPS
        app_label, model_name = MOVED_MODELS.get((app_label, model_name.lower()), (app_label, model_name))
        try:
            return is_tenant_model(apps.get_model(app_label, model_name))
        except LookupError:
            return app_label in TENANT_APPS


# Models that moved to another app: their old migrations still name them by the old label.
MOVED_MODELS: dict[tuple[str, str], tuple[str, str]] = {("contacts", "contactevent"): ("events", "event")}

# Apps holding only tenant models; decides data migrations (RunPython) that name no model.
TENANT_APPS: set[str] = set()
