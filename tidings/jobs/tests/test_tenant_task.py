"""tenant_task: ids in, re-fetch the workspace, run the body inside it."""

import pytest

from tidings.audit.models import AuditEntry
from tidings.jobs.tests.sample_tasks import note_in_workspace
from tidings.tenancy.context import current_workspace
from tidings.tenancy.models import Workspace


def test_a_tenant_task_runs_inside_its_workspace(acme, calls):
    assert note_in_workspace.call(workspace_id=acme.pk, note="n1") == "acme"

    assert calls == [("note", acme.pk, "acme", "n1")]
    assert current_workspace() is None


def test_a_tenant_task_writes_into_its_workspaces_region(acme, globex):
    note_in_workspace.call(workspace_id=globex.pk, note="n2")

    assert AuditEntry.objects.using("region_us").filter(workspace_id=globex.pk, action="test.noted").exists()
    assert not AuditEntry.objects.using("region_eu").filter(action="test.noted").exists()


def test_a_tenant_task_for_a_deleted_workspace_does_nothing(acme, calls):
    gone_id = acme.pk
    Workspace.objects.filter(pk=gone_id).delete()

    assert note_in_workspace.call(workspace_id=gone_id, note="n3") is None
    assert calls == []


def test_a_tenant_task_needs_a_workspace_id():
    with pytest.raises(TypeError):
        note_in_workspace.call(note="n4")
