"""Benchmark the event store; every figure is printed beside a baseline measured in the same run.

    python bench/bench_events.py                          # 1,000,000 page hits on throw-away SQLite files
    python bench/bench_events.py --events 200000          # a shorter run
    python bench/bench_events.py --database postgresql    # the TIDINGS_DATABASE_URL* databases (or fresh ones)

1. Write path: events_record (schema check, IP truncation, URL stripped and dictionary-encoded,
   batched insert through tenancy.bulk) against a plain batched INSERT (executemany, one
   transaction per 1,000 rows) of the same rows, already encoded, into a copy of the event
   table with the same indexes.
2. Bytes on disk per page-hit event: table and indexes (SQLite dbstat, pg_total_relation_size),
   the heap alone and the average row (pg_column_size) on PostgreSQL; the dictionary beside.
3. Selectors at that size (p50 over --queries runs): contact_ids_with_event by type and time
   range, with a count, with a URL (equals, contains) and through identified visitors, each
   beside the bare SQL that finds the same set on the plain copy.

The load average is printed: other work shares the cores, so the ratios are the figures that count.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import time

from harness import (
    add_database_arguments,
    bench_workspace,
    clone_table,
    databases,
    django_setup,
    engine,
    executemany_batches,
    load,
    percentile,
    region_connection,
    table_bytes,
    timed,
)

HOSTS = ["https://www.acme.example", "https://shop.acme.example", "https://docs.acme.example"]
SECTIONS = ["products", "blog", "pricing", "docs/guides", "support/articles", "careers", "events/2026"]
BATCH = 1000


def urls(rng: random.Random, count: int) -> list[str]:
    """Return count made-up page URLs of realistic length (hosts, sections, slugs, tracking query strings)."""
    pages = []
    for n in range(count):
        slug = "-".join(rng.choice(["fast", "secure", "cloud", "email", "growth", "guide", "team", "new", "2026"])
                        for _ in range(rng.randint(2, 6)))  # fmt: skip
        url = f"{rng.choice(HOSTS)}/{rng.choice(SECTIONS)}/{slug}-{n}"
        pages.append(url)
    return pages


def generate(args, page_hit: int, visitors: list[int]):
    """Yield (contact_id, visitor_id, at, url, ip) page hits; the same seed gives the same rows."""
    rng = random.Random(11)  # noqa: S311 (made-up traffic)
    pages = urls(rng, args.pages)
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90)
    step = 90 * 86400 / args.events
    for n in range(args.events):
        # In time order over 90 days, as tracking writes them (a few seconds of jitter).
        at = start + datetime.timedelta(seconds=n * step + rng.random() * 5)
        # Traffic follows a long tail: a few pages get most hits.
        url = pages[min(int(rng.paretovariate(1.2)) - 1, len(pages) - 1)] if n % 3 else rng.choice(pages)
        url += rng.choice(["", "", "?utm_source=newsletter&utm_medium=email", "#pricing"])
        ip = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
        if n % 10 == 0:
            yield None, rng.choice(visitors), at, url, ip
        else:
            yield rng.randrange(1, args.contacts + 1), None, at, url, ip


def run(args) -> None:
    django_setup()
    from django.db import transaction

    from tidings.accounts.permissions import system_principal
    from tidings.events import actions, selectors
    from tidings.events.models import EventString, Visitor
    from tidings.events.registry import code_for
    from tidings.tenancy import bulk
    from tidings.tenancy.context import use_workspace

    _, workspace = bench_workspace()
    connection = region_connection()
    print(f"# bench_events: {args.events:,} page hits, {args.contacts:,} contacts, {args.pages:,} pages "
          f"on {engine(connection)}, {os.cpu_count()} cores")  # fmt: skip
    print(f"# {load()}   var {os.environ['TIDINGS_VAR_DIR']}")
    page_hit = code_for("page.hit")
    principal = system_principal(workspace, reason="bench")

    with use_workspace(workspace):
        rng = random.Random(3)  # noqa: S311
        visitor_ids = [rng.getrandbits(62) + 1 for _ in range(max(1, args.contacts // 10))]
        with transaction.atomic(using=connection.alias):
            bulk.insert(Visitor, ["workspace_id", "id", "contact_id", "created_at"],
                        [(workspace.id, v, (i + 1 if i % 2 else None), datetime.datetime.now(datetime.UTC))
                         for i, v in enumerate(visitor_ids)])  # fmt: skip

        print("\n## write path (same rows, same run)")
        started = time.perf_counter()
        written = actions.events_record(
            ({"type": page_hit, "contact_id": c, "visitor_id": v, "at": at, "data": {"url": url, "ip": ip}}
             for c, v, at, url, ip in generate(args, page_hit, visitor_ids)),
            principal=principal,
        )  # fmt: skip
        ours = time.perf_counter() - started
        print(f"events_record (checked, URL in the dictionary):   {written / ours:10,.0f} events/s  ({ours:7.1f} s)")

        clone_table(connection, "events_event", "bench_plain_event")
        columns = ["workspace_id", "contact_id", "visitor_id", "type", "at", "data"]
        sql = (f'INSERT INTO "bench_plain_event" ({", ".join(columns)}) '  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(columns))})")  # fmt: skip
        ids = dict(EventString.objects.values_list("value", "id"))
        from tidings.events.registry import strip_url

        adapt = connection.ops.adapt_datetimefield_value

        def params():
            for c, v, at, url, ip in generate(args, page_hit, visitor_ids):
                ip = ip.rsplit(".", 1)[0] + ".0/24"
                yield [workspace.id, c, v, page_hit, adapt(at), f'{{"url": {ids[strip_url(url)]}, "ip": "{ip}"}}']

        started = time.perf_counter()
        executemany_batches(connection, sql, params(), BATCH)
        plain = time.perf_counter() - started
        print(
            f"plain batched INSERT, pre-encoded, same indexes: {args.events / plain:10,.0f} events/s  ({plain:7.1f} s)"
        )
        print(f"ours takes {ours / plain:.2f}x the time of the plain INSERT")

        print("\n## bytes on disk per page-hit event (indexes included unless said)")
        total = table_bytes(connection, "events_event")
        print(f"events_event: {total / written:6.1f} B/event (table + its 4 indexes)   "
              f"plain copy: {table_bytes(connection, 'bench_plain_event') / args.events:6.1f} B/event")  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_relation_size('events_event'), avg(pg_column_size(e.*)), "
                               "avg(pg_column_size(e.data)) FROM events_event e")  # fmt: skip
                heap, row, data = cursor.fetchone()
            print(f"heap alone: {heap / written:6.1f} B/event; average row {row:5.1f} B (data {data:4.1f} B) "
                  f"+ 4 B line pointer + page overhead")  # fmt: skip
        strings = EventString.objects.count()
        print(f"dictionary: {strings:,} strings, {table_bytes(connection, 'events_eventstring') / strings:6.1f} B "
              f"each ({table_bytes(connection, 'events_eventstring') / written:5.2f} B per event)")  # fmt: skip

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have by now: fresh tables have no statistics
        print("\n## selectors (p50 ms over the runs; bare = the same set from the plain copy in bare SQL)")
        now = datetime.datetime.now(datetime.UTC)
        since = now - datetime.timedelta(days=30)
        common = EventString.objects.order_by("id").values_list("value", flat=True).first()
        probes = [
            ("type in the last 30 days", dict(since=since),
             "SELECT DISTINCT contact_id FROM bench_plain_event WHERE workspace_id = %s AND type = %s AND at >= %s "
             "AND contact_id IS NOT NULL"),
            ("at least 3 in the last 30 days", dict(since=since, min_count=3),
             "SELECT contact_id FROM bench_plain_event WHERE workspace_id = %s AND type = %s AND at >= %s "
             "AND contact_id IS NOT NULL GROUP BY contact_id HAVING COUNT(*) >= 3"),
            ("url equals (dictionary), 30 days", dict(since=since, data={"url": common}), None),
            ("url contains 'pricing', 30 days", dict(since=since, data={"url__contains": "pricing"}), None),
        ]  # fmt: skip
        for name, kwargs, bare_sql in probes:
            selector = selectors.contact_ids_with_event(page_hit, **kwargs)
            found = len(list(selector))
            ours_ms = percentile(timed(lambda i, s=selector: list(s.all()), args.queries), 0.5)
            line = f"{name:34s} {found:8,} contacts  ours {ours_ms:8.1f} ms"
            if bare_sql:

                def run_bare(i, sql=bare_sql):
                    with connection.cursor() as cursor:
                        cursor.execute(sql, [workspace.id, page_hit, connection.ops.adapt_datetimefield_value(since)])
                        return cursor.fetchall()

                bare_ms = percentile(timed(run_bare, args.queries), 0.5)
                line += f"  bare (no visitors) {bare_ms:8.1f} ms  ratio {ours_ms / bare_ms:4.2f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=5_000, help="distinct page URLs")
    parser.add_argument("--queries", type=int, default=5, help="runs per selector probe")
    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_events"):
        run(args)


if __name__ == "__main__":
    main()
