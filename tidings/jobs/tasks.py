"""Housekeeping jobs the platform runs on its own: prune finished work, clear expired sessions, and keep
SQLite's planner statistics fresh."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_tasks import task, task_backends

from tidings.jobs.models import ScheduledTask, ScheduledTaskStatus
from tidings.jobs.periodic import periodic

# Finished task results and scheduled rows are kept this long for operators to inspect.
FINISHED_WORK_RETENTION = timedelta(days=14)


@periodic(every=timedelta(hours=6))
@task()
def prune_finished_work() -> int:
    """Delete finished task results and spent scheduled rows older than the retention; return rows removed.

    Only the database backend keeps results in a table; RQ expires its own.
    """
    from django_tasks_db.backend import DatabaseBackend

    removed = 0
    if isinstance(task_backends["default"], DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        cutoff = timezone.now() - FINISHED_WORK_RETENTION
        removed += DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).count()
        call_command("prune_db_task_results", queue_name="*", min_age_days=FINISHED_WORK_RETENTION.days, verbosity=0)
    cutoff = timezone.now() - FINISHED_WORK_RETENTION
    spent, _ = ScheduledTask.objects.filter(
        status__in=[ScheduledTaskStatus.ENQUEUED, ScheduledTaskStatus.CANCELLED], created_at__lte=cutoff
    ).delete()
    return removed + spent


@periodic(every=timedelta(hours=1))
@task()
def clear_expired_sessions() -> None:
    """Delete expired sessions, as Django's clearsessions command does."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()


# SQLite's planner has no statistics until ANALYZE runs. Without them it guesses that an equality on an
# index's first column finds about ten rows, so a query by primary keys in a workspace (every tenant
# table has an index led by workspace_id) walks the whole workspace through that index instead of
# looking the keys up: a campaign step at 100,000 contacts cost 10x more per row than at 20,000.
# analysis_limit bounds ANALYZE to about this many rows an index (milliseconds). Its estimates are rough,
# and one is wrong in a way that matters: a sample of ~1,000 rows of one workspace reads as "1,000 rows
# a workspace", so `workspace_id = ? AND id > ? ORDER BY id LIMIT 1` (segments' change log) walked and
# sorted a 1.1M-event workspace (175 ms) instead of reading the keys in order (under 1 ms).
# After ANALYZE, indexes led by workspace_id are given at least the table's rows shared evenly among
# the installation's workspaces.
PLANNER_SAMPLE_ROWS = 1000
# ANALYZE leaves an empty table without figures, and the guess above would hold while it fills (a new
# install, a new campaign's runs). Such a table's indexes led by workspace_id are given the figures of
# one big workspace until the next refresh measures them.
ASSUMED_WORKSPACE_ROWS = 1_000_000


@periodic(every=timedelta(minutes=1))
@task()  # (not first in the queue: RQ refuses priorities; one queued campaign turn a workspace keeps it short)
def refresh_planner_statistics() -> list[str]:
    """Run a bounded ANALYZE on each SQLite database; return their aliases.

    PostgreSQL's autovacuum keeps its own statistics. Connections opened afterwards plan with the new
    figures (the worker and the web open one per task and per request).
    """
    from tidings.tenancy.selectors import workspace_count

    refreshed = []
    workspaces = max(1, workspace_count())
    for alias in settings.DATABASES:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA analysis_limit={PLANNER_SAMPLE_ROWS}")
            cursor.execute("ANALYZE")
            workspace_indexes = _indexes_led_by_workspace(cursor)
            _widen_sampled_workspace_figures(cursor, workspace_indexes, workspaces)
            assumed = _assumed_workspace_figures(cursor, workspace_indexes)
            if assumed:
                cursor.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)", assumed)
            cursor.execute("ANALYZE sqlite_schema")  # this connection reloads the figures too
        refreshed.append(alias)
    return refreshed


def _indexes_led_by_workspace(cursor) -> dict[str, tuple[str, int]]:
    """{index: (table, number of columns)} of the indexes whose first column is workspace_id."""
    cursor.execute(
        "SELECT m.name, i.name, count(*) FROM sqlite_schema AS m, pragma_index_list(m.name) AS i, "
        "pragma_index_info(i.name) AS c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' "
        "GROUP BY m.name, i.name HAVING min(CASE WHEN c.seqno = 0 THEN c.name END) = 'workspace_id'"
    )
    return {index: (table, columns) for table, index, columns in cursor.fetchall()}


def _widen_sampled_workspace_figures(cursor, workspace_indexes: dict[str, tuple[str, int]], workspaces: int) -> None:
    """Raise rows-per-workspace to the table's rows over the workspaces: a sample cannot see how many there are."""
    cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE idx IS NOT NULL")
    widened = []
    for index, stat in cursor.fetchall():
        figures = str(stat).split(" ")
        if index not in workspace_indexes or len(figures) < 2 or not (figures[0] + figures[1]).isdigit():
            continue
        even_share = max(1, int(figures[0]) // workspaces)
        if int(figures[1]) < even_share:
            widened.append((" ".join([figures[0], str(even_share), *figures[2:]]), index))
    if widened:
        cursor.executemany("UPDATE sqlite_stat1 SET stat = %s WHERE idx = %s", widened)


def _assumed_workspace_figures(cursor, workspace_indexes: dict[str, tuple[str, int]]) -> list[tuple[str, str, str]]:
    """(table, index, stat) rows for the indexes led by workspace_id of tables ANALYZE left without figures."""
    cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
    measured = {row[0] for row in cursor.fetchall()}
    # Rows in the table, then rows per value of each leading column: one workspace holds them all.
    return [
        (table, index, " ".join([str(ASSUMED_WORKSPACE_ROWS)] * 2 + ["10"] * (columns - 1)))
        for index, (table, columns) in workspace_indexes.items()
        if table not in measured
    ]
