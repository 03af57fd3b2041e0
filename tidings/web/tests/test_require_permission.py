"""require_permission: the one route declaration, which also fails closed when a view is reached past the pipeline."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from tidings.accounts.decorators import require_permission
from tidings.accounts.permissions import Access, Principal, declared_access

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent


@require_permission("contacts:delete")
def _delete_everything(request):
    return "deleted"


def _request(permissions=None):
    request = RequestFactory().post("/")
    if permissions is not None:
        request.principal = Principal(workspace=None, user=None, permissions=frozenset(permissions))
    return request


def test_the_declaration_is_what_the_pipeline_reads():
    assert declared_access(_delete_everything) == Access(permission="contacts:delete")


def test_a_principal_without_the_permission_is_refused():
    with pytest.raises(PermissionDenied, match="You need the contacts:delete permission."):
        _delete_everything(_request({"contacts:view"}))


def test_a_request_without_a_principal_is_refused():
    with pytest.raises(PermissionDenied):
        _delete_everything(_request())


def test_a_principal_with_the_permission_passes():
    assert _delete_everything(_request({"contacts:delete"})) == "deleted"


def test_a_permission_missing_from_the_catalogue_is_a_programming_error():
    with pytest.raises(KeyError):
        require_permission("contacts:obliterate")
