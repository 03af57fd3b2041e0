"""Send every query to the right database: global models to 'default', tenant models to their region."""

from __future__ import annotations

from tidings.tenancy.context import current_workspace, region_aliases, region_db_alias, require_workspace
from tidings.tenancy.models import is_tenant_model, workspace_region

# Apps whose tables exist in every database: the audit log keeps each workspace's chain
# beside the data it describes, and the system chain in the global database.
EVERYWHERE_APPS = {"audit"}


class RegionRouter:
    def _db_for(self, model, instance=None) -> str:
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

        if model_name is None:
            return app_label in TENANT_APPS
        app_label, model_name = MOVED_MODELS.get((app_label, model_name.lower()), (app_label, model_name))
        try:
            return is_tenant_model(apps.get_model(app_label, model_name))
        except LookupError:
            return app_label in TENANT_APPS


# Models that moved to another app: their old migrations still name them by the old label.
MOVED_MODELS: dict[tuple[str, str], tuple[str, str]] = {("contacts", "contactevent"): ("events", "event")}


def tenant_apps() -> set[str]:
    """Return the labels of the apps whose every model is a tenant model, read from the live app registry.

    Derived, not listed, so a new domain app is counted the day it lands. An app that mixes tenant
    and global models is in neither group (see mixed_apps): its migrations that name no model
    could not be routed.
    """
    kinds = _model_kinds_by_app()
    return {label for label, found in kinds.items() if found == {True}}


def mixed_apps() -> set[str]:
    """Return the labels of the apps holding both tenant and global models (there should be none)."""
    return {label for label, found in _model_kinds_by_app().items() if found == {True, False}}


def _model_kinds_by_app() -> dict[str, set[bool]]:
    from django.apps import apps

    from tidings.tenancy.models import is_tenant_model

    kinds: dict[str, set[bool]] = {}
    # Auto-created many-to-many tables count: one in a tenant app would land in the global database.
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in EVERYWHERE_APPS:
            kinds.setdefault(model._meta.app_label, set()).add(is_tenant_model(model))
    return kinds


# Apps holding only tenant models, filled from tenant_apps() once every model is loaded
# (TenancyConfig.ready). It routes what names no model: a data migration (RunPython, RunSQL)
# without a model_name hint runs on every region database for these apps, on the global one otherwise.
TENANT_APPS: set[str] = set()
