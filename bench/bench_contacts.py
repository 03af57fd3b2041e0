"""Benchmark the contacts data layer; every figure is printed beside a baseline measured in the same run.

    python bench/bench_contacts.py                  # 100,000 contacts
    python bench/bench_contacts.py --rows 1000000   # the full run

1. Import: contacts_bulk_upsert (validation, per-contact AES-GCM data key, encrypted profile,
   blind indexes, name tokens, audit, imported events) against a plain batched INSERT of the
   same rows into a table of the same shape and indexes (no encryption, no checks).
2. Search latency p50/p99 at that size: exact email (blind index), name word (token table),
   domain filter, list pages ordered by last activity and by points.
3. Bytes on disk per contact (contact row, data key, search tokens, with their indexes) and per
   event, from SQLite's dbstat.

Runs on throw-away SQLite files in a temporary TIDINGS_VAR_DIR unless one is set.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Mary",
    "Charles",
    "Emmy",
    "Hedy",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
]
LAST = ["Lovelace", "Hopper", "Turing", "Somerville", "Babbage", "Noether", "Lamarr", "Johnson", "Dijkstra", "Liskov"]
CITIES = ["London", "Paris", "Berlin", "Lisbon", "Dublin", "Vienna", "Madrid", "Rome"]


def generate(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)  # noqa: S311 (made-up people, not secrets)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            {
                "email": f"{first.lower()}.{last.lower()}.{i}@company{i % 997}.example",
                "firstname": first,
                "lastname": f"{last}{i % 50}",
                "phone": f"+44 20 7946 {i % 10000:04d}",
                "city": rng.choice(CITIES),
                "country": "United Kingdom",
                "points": rng.randint(0, 500),
            }
        )
    return rows


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def table_bytes(connection, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = %s", [table])
        names = [row[0] for row in cursor.fetchall()]
        placeholders = ",".join(["%s"] * len(names))
        cursor.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({placeholders})", names)  # noqa: S608
        return cursor.fetchone()[0]


def clone_table(connection, source: str, target: str) -> None:
    """Create target with source's columns and indexes (SQLite), empty."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [source])
        statements = cursor.fetchall()
        cursor.execute(f'DROP TABLE IF EXISTS "{target}"')
        for kind, name, sql in sorted(statements, key=lambda s: s[0] != "table"):
            sql = sql.replace(f'"{source}"', f'"{target}"')
            if kind == "index":
                sql = sql.replace(f'"{name}"', f'"{target}_{name}"')
            cursor.execute(sql)


def plain_insert(connection, rows: list[dict], workspace_id: int, batch: int = 1000) -> float:
    """Insert the rows, values in clear, into a same-shaped table; return seconds."""
    import json

    from django.db import transaction

    clone_table(connection, "contacts_contact", "bench_plain_contact")
    columns = ["workspace_id", "profile_enc", "email_domain", "company_name", "position", "city", "state", "zipcode",
               "country", "timezone", "preferred_locale", "website", "points", "lawful_basis", "custom", "created_at",
               "updated_at"]  # fmt: skip
    sql = (
        f'INSERT INTO "bench_plain_contact" ({", ".join(columns)}) '  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    now = "2026-01-01 00:00:00"
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        params = []
        for row in rows[start : start + batch]:
            profile = json.dumps({k: row[k] for k in ("email", "firstname", "lastname", "phone")}).encode()
            params.append(
                [
                    workspace_id,
                    profile,
                    row["email"].rpartition("@")[2],
                    "",
                    "",
                    row["city"],
                    "",
                    "",
                    row["country"],
                    "",
                    "",
                    "",
                    row["points"],
                    "consent",
                    "{}",
                    now,
                    now,
                ]  # fmt: skip
            )
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return time.perf_counter() - started


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("TIDINGS_VAR_DIR", tempfile.mkdtemp(prefix="tidings-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    for alias in ("default", "region_us", "region_eu"):
        call_command("migrate", database=alias, verbosity=0)

    from tidings.contacts import actions, selectors
    from tidings.contacts.models import EventType
    from tidings.tenancy.actions import workspace_create
    from tidings.tenancy.context import use_workspace

    workspace = workspace_create(name="Bench", slug=f"bench-{int(time.time())}", region="eu")
    connection = connections["region_eu"]
    print(f"# bench_contacts: {args.rows:,} contacts, SQLite {connection.vendor}, var {os.environ['TIDINGS_VAR_DIR']}")
    rows = generate(args.rows)

    with use_workspace(workspace):
        plain = plain_insert(connection, rows, workspace.id)
        started = time.perf_counter()
        result = actions.contacts_bulk_upsert(rows, lawful_basis="consent", tags=["bench"])
        ours = time.perf_counter() - started
        assert result.created == args.rows, result
        print("\n## import")
        print(f"plain batched INSERT (clear, same table shape): {args.rows / plain:10,.0f} rows/s ({plain:.1f} s)")
        print(f"contacts_bulk_upsert (encrypted, indexed):      {args.rows / ours:10,.0f} contacts/s ({ours:.1f} s)")
        print(f"ratio ours / plain: {plain / ours:.2f}  (target: >= 5,000 contacts/s end to end)")

        rng = random.Random(11)  # noqa: S311
        sample = [rows[rng.randrange(len(rows))] for _ in range(args.queries)]
        checks = {
            "exact email (blind index)": lambda i: selectors.contact_search(sample[i]["email"], limit=50),
            "name word (token table)": lambda i: selectors.contact_search(sample[i]["lastname"], limit=50),
            "domain filter, 50/page": lambda i: selectors.contacts_page(
                filters={"domain": sample[i]["email"].rpartition("@")[2]}, limit=50
            ),
            "list by -points, 50/page": lambda i: selectors.contacts_page(order="-points", limit=50),
            "list by -id, page 2 (cursor)": lambda i: selectors.contacts_page(
                after=selectors.contacts_page(limit=50).next_cursor, limit=50
            ),
        }
        print(f"\n## search latency at {args.rows:,} contacts ({args.queries} queries each; target p99 < 300 ms)")
        for name, fn in checks.items():
            samples = timed(fn, args.queries)
            print(f"{name:32s} p50 {percentile(samples, 0.5):7.2f} ms   p99 {percentile(samples, 0.99):7.2f} ms")

        events = [
            {"contact_id": 1 + (i % args.rows), "type": EventType.EMAIL_OPENED, "data": {"email_id": i % 50}}
            for i in range(args.events)
        ]
        started = time.perf_counter()
        actions.events_append(events)
        event_seconds = time.perf_counter() - started

    contact_bytes = sum(
        table_bytes(connection, t) for t in ("contacts_contact", "privacy_contactkey", "contacts_contactsearchtoken")
    )
    plain_bytes = table_bytes(connection, "bench_plain_contact")
    event_bytes = table_bytes(connection, "contacts_contactevent") - 0
    events_total = args.events + 2 * args.rows  # the appended ones, plus created/imported events
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_contactevent")
        events_total = cursor.fetchone()[0]
    print("\n## storage (SQLite dbstat, tables with their indexes)")
    print(f"per contact (row + data key + search tokens): {contact_bytes / args.rows:7.0f} bytes")
    for table in ("contacts_contact", "privacy_contactkey", "contacts_contactsearchtoken"):
        print(f"  {table:30s} {table_bytes(connection, table) / args.rows:7.0f} bytes/contact")
    print(f"per contact, plain clear table of the same shape: {plain_bytes / args.rows:7.0f} bytes")
    print(f"per event (row + timeline and age indexes):    {event_bytes / events_total:7.0f} bytes (budget 250)")
    print(f"events_append: {args.events / event_seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
