"""What every benchmark shares: Django set up on throw-away or given databases, a bench workspace, timing.

A bench script parses its own arguments (add_database_arguments adds --database, --pg-server and
--keep), then runs its body inside `with databases(args):`, which sets the environment (a temporary
TIDINGS_VAR_DIR unless one is set, the settings module) and, on PostgreSQL without
TIDINGS_DATABASE_URL* in the environment, creates three fresh databases and drops them afterwards.
Inside, django_setup() migrates every database and bench_workspace() makes a fresh EU workspace.

The figures themselves stay in each script: this module only removes the set-up they all repeated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_SERVER = "postgresql://tidings:tidings@127.0.0.1:54400/"

# ----------------------------------------------------------------------------------------------
# Timing and the machine


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn: Callable[[int], object], repeat: int, *, warm: bool = True) -> list[float]:
    """Return repeat timings of fn(i) in milliseconds, after one untimed warm-up call fn(0) unless not warm."""
    if warm:
        fn(0)
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Stopwatch:
    """Seconds spent per named step, in the order first seen: `with watch("events"): ...`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


# ----------------------------------------------------------------------------------------------
# Environment and databases


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --database, --pg-server and --keep, which databases() reads."""
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER,
                        help="server for fresh bench databases when TIDINGS_DATABASE_URL* are not set")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the fresh PostgreSQL bench databases")


def environment(var_prefix: str = "tidings-bench-") -> None:
    """Make the repository importable; default TIDINGS_VAR_DIR to a fresh temporary folder and the settings module."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TIDINGS_VAR_DIR", tempfile.mkdtemp(prefix=var_prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")


def pg_admin_url(server: str, database: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def pg_create_databases(server: str, prefix: str = "bench") -> list[str]:
    """Create fresh bench databases on server; point TIDINGS_DATABASE_URL* at them; return their names."""
    import psycopg

    names = [f"{prefix}_{os.getpid()}_{suffix}" for suffix in ("global", "us", "eu")]
    with psycopg.connect(pg_admin_url(server, "postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    for suffix, name in zip(("", "_US", "_EU"), names, strict=True):
        os.environ[f"TIDINGS_DATABASE_URL{suffix}"] = pg_admin_url(server, name)
    return names


def pg_drop_databases(server: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(pg_admin_url(server, "postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def databases(args: argparse.Namespace, *, prefix: str = "bench", var_prefix: str = "tidings-bench-") -> Iterator[None]:
    """Set the environment up and, on PostgreSQL without TIDINGS_DATABASE_URL_EU, fresh databases for the block.

    The fresh databases are dropped when the block ends, unless args.keep.
    """
    environment(var_prefix)
    created: list[str] = []
    if getattr(args, "database", "sqlite") == "postgresql" and not os.environ.get("TIDINGS_DATABASE_URL_EU"):
        created = pg_create_databases(args.pg_server, prefix)
    try:
        yield
    finally:
        if created and not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop_databases(args.pg_server, created)


def django_setup() -> None:
    """Set Django up and migrate every database (tidings' migrate), then the cache table."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def region_connection():
    """Return the EU region connection (where bench workspaces live), connected."""
    from django.db import connections

    connection = connections["region_eu"]
    connection.ensure_connection()
    return connection


def engine(connection) -> str:
    """Return "sqlite 3.x" or "postgresql 1x0000": the engine and its version, for a bench's first line."""
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.pg_version
    return f"{connection.vendor} {version}"


def bench_workspace(slug_prefix: str = "bench", name: str = "Bench"):
    """Create a fresh owner and EU workspace; return (owner, workspace)."""
    from tidings.accounts.actions import user_create, workspace_create

    stamp = f"{os.getpid()}-{int(time.time())}-{random.randrange(10**6)}"  # noqa: S311 (a unique slug)
    owner = user_create(email=f"bench-{stamp}@bench.example", password="correct horse battery staple")
    workspace = workspace_create(name=name, slug=f"{slug_prefix}-{stamp}", region="eu", owner=owner)
    return owner, workspace


# ----------------------------------------------------------------------------------------------
# Tables and plain SQL baselines


def table_bytes(connection, table: str) -> int:
    """Return the bytes table and its indexes take on disk."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = %s", [table])
        names = [row[0] for row in cursor.fetchall()]
        placeholders = ",".join(["%s"] * len(names))
        cursor.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({placeholders})", names)  # noqa: S608
        return cursor.fetchone()[0]


def clone_table(connection, source: str, target: str) -> None:
    """Create target, empty, with source's columns and indexes."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{target}"')
        if connection.vendor == "postgresql":
            cursor.execute(f'CREATE TABLE "{target}" (LIKE "{source}" INCLUDING ALL)')
            return
        cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [source])
        for kind, name, sql in sorted(cursor.fetchall(), key=lambda s: s[0] != "table"):
            sql = sql.replace(f'"{source}"', f'"{target}"')
            if kind == "index":
                sql = sql.replace(f'"{name}"', f'"{target}_{name}"')
            cursor.execute(sql)


def executemany_batches(connection, sql: str, params: Iterable[Sequence], batch: int = 1000) -> int:
    """Run sql for each parameter row, batch rows per executemany and transaction; return the rows sent.

    The plain baseline of the write benches: what the database does with the rows, no checks.
    """
    from django.db import transaction

    count, pending = 0, []

    def flush():
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, pending)

    for row in params:
        pending.append(row)
        count += 1
        if len(pending) == batch:
            flush()
            pending = []
    if pending:
        flush()
    return count
