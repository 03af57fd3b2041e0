"""The platform's own periodic jobs: audit verification, pruning, expired sessions."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tidings.audit.actions import audit_outbox_forward
from tidings.audit.models import SYSTEM_CHAIN, AuditEntry
from tidings.audit.tasks import verify_audit_chains
from tidings.jobs.models import ScheduledTask, ScheduledTaskStatus
from tidings.jobs.tasks import clear_expired_sessions, prune_finished_work


def system_entries(action):
    return AuditEntry.objects.using("default").filter(workspace_id=SYSTEM_CHAIN, action=action)


def test_verification_of_intact_chains_is_recorded_in_the_system_chain(acme, globex):
    assert verify_audit_chains.call() == 0

    entry = system_entries("audit.verified").get()
    assert entry.data == {"problems": 0}
    assert entry.actor_type == "system"


def test_a_tampered_chain_is_recorded_as_a_failed_verification(acme):
    audit_outbox_forward()  # Acme's first entries wait in the outbox until a commit the test never makes
    AuditEntry.objects.using("region_eu").filter(workspace_id=acme.pk, seq=1).update(action="workspace.renamed")

    assert verify_audit_chains.call() == 1

    assert system_entries("audit.verification_failed").get().data == {"problems": 1}
    assert not system_entries("audit.verified").exists()


def test_pruning_removes_old_finished_work_and_keeps_recent_and_pending():
    now = timezone.now()
    old = now - timedelta(days=30)
    base = {"args_kwargs": {"args": [], "kwargs": {}}, "task_path": "x.y", "backend_name": "default", "run_after": now}
    DBTaskResult.objects.create(status=TaskResultStatus.SUCCESSFUL, finished_at=old, **base)
    recent = DBTaskResult.objects.create(status=TaskResultStatus.SUCCESSFUL, finished_at=now, **base)
    waiting = DBTaskResult.objects.create(status=TaskResultStatus.READY, **base)
    spent = ScheduledTask.objects.create(task_path="x.y", due_at=old, status=ScheduledTaskStatus.ENQUEUED)
    ScheduledTask.objects.filter(pk=spent.pk).update(created_at=old)
    pending = ScheduledTask.objects.create(task_path="x.y", due_at=old)
    ScheduledTask.objects.filter(pk=pending.pk).update(created_at=old)

    assert prune_finished_work.call() == 2

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert list(ScheduledTask.objects.values_list("pk", flat=True)) == [pending.pk]


def test_expired_sessions_are_cleared(alice_client):
    Session.objects.create(session_key="expired-demo-session", session_data="", expire_date=timezone.now())
    live = Session.objects.exclude(session_key="expired-demo-session").count()

    clear_expired_sessions.call()

    assert not Session.objects.filter(session_key="expired-demo-session").exists()
    assert Session.objects.count() == live


def test_planner_statistics_let_sqlite_look_up_keys_instead_of_walking_the_workspace(in_acme):
    from django.db import connections

    from tidings.contacts.models import Tag
    from tidings.jobs.tasks import refresh_planner_statistics

    connection = connections[in_acme.db_alias]
    if connection.vendor != "sqlite":
        assert in_acme.db_alias not in refresh_planner_statistics.call()  # PostgreSQL analyzes on its own
        return
    sql, params = Tag.objects.filter(pk__in=[1, 2, 3]).values("pk").query.sql_with_params()

    def plan() -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())

    def forget_statistics() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'")
            if cursor.fetchone()[0]:  # an earlier test's refresh
                cursor.execute("DELETE FROM sqlite_stat1")
                cursor.execute("ANALYZE sqlite_schema")

    forget_statistics()
    assert "(workspace_id=?)" in plan()  # the guess without figures: walk the workspace's index

    assert in_acme.db_alias in refresh_planner_statistics.call()
    assert "PRIMARY KEY" in plan()  # the table is empty: the figures of one big workspace are assumed

    Tag.objects.bulk_create(Tag(name=f"tag {i}") for i in range(300))
    forget_statistics()
    refresh_planner_statistics.call()
    assert "PRIMARY KEY" in plan()  # measured


def test_a_sampled_workspace_is_not_taken_for_a_few_rows(in_acme, monkeypatch):
    """ANALYZE's ~1,000-row sample of one workspace reads as "1,000 rows a workspace": the change-log read
    (`workspace_id = ? AND id > ? ORDER BY id LIMIT n`) then walked and sorted the whole workspace.

    A 50-row sample of 3,000 rows stands for a 1,000-row sample of 60,000: the same misreading, cheaper."""
    from django.db import connections

    from tidings.contacts.models import Tag
    from tidings.jobs import tasks

    connection = connections[in_acme.db_alias]
    if connection.vendor != "sqlite":
        return  # PostgreSQL analyzes on its own
    monkeypatch.setattr(tasks, "PLANNER_SAMPLE_ROWS", 50)
    Tag.objects.bulk_create(Tag(name=f"tag {i}") for i in range(3000))
    sql, params = Tag.objects.filter(pk__gt=10).order_by("pk").values("pk")[:1].query.sql_with_params()
    tasks.refresh_planner_statistics.call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [Tag._meta.db_table])
        assert cursor.fetchall()  # measured, not assumed
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "TEMP B-TREE" not in plan  # read in key order, not sorted after a walk of the workspace


def _sqlite_connection(in_acme):
    from django.db import connections

    connection = connections[in_acme.db_alias]
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite's planner statistics are refreshed (PostgreSQL analyzes on its own)")
    return connection


def test_planner_statistics_read_the_index_layout_again_after_a_schema_change(in_acme):
    from tidings.jobs.tasks import ASSUMED_WORKSPACE_ROWS, refresh_planner_statistics

    connection = _sqlite_connection(in_acme)

    def figures() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'planner_probe'")
            return list(cursor.fetchall())

    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("CREATE TABLE planner_probe (id integer PRIMARY KEY, workspace_id integer, name text)")
    refresh_planner_statistics.call()
    assert figures() == []  # empty, and no index led by workspace_id: nothing to assume

    with connection.cursor() as cursor:  # a migration adds the index to the table already read
        cursor.execute("CREATE INDEX planner_probe_workspace ON planner_probe (workspace_id, name)")
    refresh_planner_statistics.call()

    rows = ASSUMED_WORKSPACE_ROWS
    assert figures() == [("planner_probe_workspace", f"{rows} {rows} 10")]
