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
# analysis_limit bounds ANALYZE to about this many rows an index (milliseconds); the estimates it
# gives are rough, which is all the planner needs to tell a workspace from a key.
PLANNER_SAMPLE_ROWS = 1000
# ANALYZE leaves an empty table without figures, and the guess above would hold while it fills (a new
# install, a new campaign's runs). Such a table's indexes led by workspace_id are given the figures of
# one big workspace until the next refresh measures them.
ASSUMED_WORKSPACE_ROWS = 1_000_000
# The indexes led by workspace_id of each table, and their widths, read with PRAGMA index_list/index_info
# once per database and table: {database: (its schema version, {table: [(index, columns)]})}. Read again
# after a schema change (a migration's CREATE, ALTER or DROP moves PRAGMA schema_version on).
_WORKSPACE_INDEXES: dict[tuple[str, str], tuple[int, dict[str, list[tuple[str, int]]]]] = {}


@periodic(every=timedelta(minutes=1))
@task()  # (not first in the queue: RQ refuses priorities; one queued campaign turn a workspace keeps it short)
def refresh_planner_statistics() -> list[str]:
    """Run a bounded ANALYZE on each SQLite database; return their aliases.

    PostgreSQL's autovacuum keeps its own statistics. Connections opened afterwards plan with the new
    figures (the worker and the web open one per task and per request).
    """
    refreshed = []
    for alias in settings.DATABASES:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA analysis_limit={PLANNER_SAMPLE_ROWS}")
            cursor.execute("ANALYZE")
            assumed = _assumed_workspace_figures(cursor, (alias, str(connection.settings_dict["NAME"])))
            if assumed:
                cursor.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)", assumed)
                cursor.execute("ANALYZE sqlite_schema")  # this connection reloads the figures too
        refreshed.append(alias)
    return refreshed


def _assumed_workspace_figures(cursor, database: tuple[str, str]) -> list[tuple[str, str, str]]:
    """(table, index, stat) rows for the indexes led by workspace_id of tables ANALYZE left without figures."""
    cursor.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
        "AND name NOT IN (SELECT tbl FROM sqlite_stat1)"
    )
    tables = [table for (table,) in cursor.fetchall()]
    indexes = _workspace_indexes(cursor, database, tables)
    # Rows in the table, then rows per value of each leading column: one workspace holds them all.
    return [(table, index, " ".join([str(ASSUMED_WORKSPACE_ROWS)] * 2 + ["10"] * (columns - 1)))
            for table in tables for index, columns in indexes[table]]  # fmt: skip


def _workspace_indexes(cursor, database: tuple[str, str], tables: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Return {table: [(index, columns)]} of the indexes led by workspace_id of tables (and of the tables
    read before, while the schema stays as it was)."""
    cursor.execute("PRAGMA schema_version")
    version = cursor.fetchone()[0]
    read, known = _WORKSPACE_INDEXES.get(database, (None, {}))
    if read != version:
        known = {}
        _WORKSPACE_INDEXES[database] = (version, known)
    for table in tables:
        if table not in known:
            known[table] = []
            cursor.execute(f'PRAGMA index_list("{table}")')
            for index in [row[1] for row in cursor.fetchall()]:
                cursor.execute(f'PRAGMA index_info("{index}")')
                columns = [row[2] for row in cursor.fetchall()]
                if columns and columns[0] == "workspace_id":
                    known[table].append((index, len(columns)))
    return known
