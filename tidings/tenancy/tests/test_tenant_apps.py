"""TENANT_APPS routes what names no model: data migrations of tenant apps run on every region database."""

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connections, migrations
from django.db.migrations.state import ProjectState

from tidings.tenancy.context import region_aliases
from tidings.tenancy.models import is_tenant_model
from tidings.tenancy.router import EVERYWHERE_APPS, TENANT_APPS, mixed_apps

pytestmark = pytest.mark.django_db(databases=[])


def run_everywhere(operation, app_label: str) -> list[str]:
    """Apply a migration operation on every database alias; return the aliases where it ran its code, sorted."""
    ran: list[str] = []
    operation.code = lambda apps, schema_editor: ran.append(schema_editor.connection.alias)
    for alias in connections:
        # RunPython only reads the connection's alias from the schema editor to ask the router.
        operation.database_forwards(app_label, SimpleNamespace(connection=connections[alias]), ProjectState(), None)
    return sorted(ran)


def test_every_app_with_tenant_models_is_a_tenant_app():
    with_tenant_models = {model._meta.app_label for model in apps.get_models() if is_tenant_model(model)}

    assert with_tenant_models - TENANT_APPS == set()


def test_no_app_mixes_tenant_and_global_models():
    # A data migration naming no model could not be routed in such an app: split it, or make every model a tenant one.
    assert mixed_apps() == set()


def test_tenant_apps_hold_only_tenant_models():
    others = {model._meta.label for model in apps.get_models(include_auto_created=True) if not is_tenant_model(model)}

    assert {label for label in others if label.split(".")[0] in TENANT_APPS} == set()


@pytest.mark.parametrize("app_label", sorted({m._meta.app_label for m in apps.get_models() if is_tenant_model(m)}))
def test_a_data_migration_of_a_tenant_app_without_hints_runs_on_every_region_database(app_label):
    assert run_everywhere(migrations.RunPython(migrations.RunPython.noop), app_label) == sorted(region_aliases())


def test_a_data_migration_of_a_global_app_without_hints_runs_on_the_global_database_only():
    assert run_everywhere(migrations.RunPython(migrations.RunPython.noop), "jobs") == ["default"]


def test_a_data_migration_of_an_everywhere_app_runs_on_every_database():
    (label,) = EVERYWHERE_APPS

    assert run_everywhere(migrations.RunPython(migrations.RunPython.noop), label) == sorted(connections)


def test_a_data_migration_naming_a_tenant_model_still_runs_on_the_regions_only():
    operation = migrations.RunPython(migrations.RunPython.noop, hints={"model_name": "donotcontact"})

    assert run_everywhere(operation, "contacts") == sorted(region_aliases())
