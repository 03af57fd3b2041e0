"""Benchmark the incremental refresh of behaviour segments (decision 0017): 1% of the contacts, segment by segment.

    TIDINGS_DATABASE_URL*=... TIDINGS_VAR_DIR=/keep python bench/bench_segments_refresh.py \
        --database postgresql --reopen SLUG [--fraction 0.01] [--rounds 3] [--plans refresh_plans.txt]

Reopens a workspace bench/segments_data.py generated (see bench_segments.py), creates the bench's
segments that have behaviour filters (events: page hits with a URL, counted hits, email opens,
sent-but-not-opened, form submissions in a nested group) and rebuilds them (untimed), ANALYZEs,
then, for each round, draws a fresh sample of `fraction` of the contacts (seeded) and times
segment_refresh_contacts(sample) segment by segment, as bench_segments' (c) does: nothing changed,
so the time is that of the queries the refresh runs for a changed contact (its events read by
contact), not of writes. Round 1 reads the sample's pages from disk more than later rounds.
The plans (EXPLAIN ANALYZE, BUFFERS) of one batch of each segment's refresh query go to --plans.

Run it before and after a change to the events' indexes on the same data: the figures are in
decision 0017.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from bench_segments import ALIAS_PREFIX, definitions, with_segment_ids
from harness import add_database_arguments, databases, django_setup, engine, load, region_connection


def _behaviour(definition: dict) -> bool:
    nodes = list(definition["filters"])
    while nodes:
        node = nodes.pop()
        if node.get("kind") == "group":
            nodes.extend(node["filters"])
        elif node.get("kind") in ("event", "traffic"):
            return True
    return False


def create_behaviour_segments(data) -> dict[str, int]:
    """Delete the bench's earlier segments; create those with behaviour filters (no segment filters); return ids."""
    from django.db import transaction

    from tidings.segments import actions
    from tidings.segments.models import Segment, SegmentCountDay, SegmentMembership
    from tidings.segments.selectors import lookups

    principal = data.principal()
    old = list(Segment.objects.filter(alias__startswith=ALIAS_PREFIX).values_list("id", flat=True))
    with transaction.atomic(using=data.workspace.db_alias):
        SegmentMembership.objects.filter(segment_id__in=old).delete()
        SegmentCountDay.objects.filter(segment_id__in=old).delete()
        Segment.objects.filter(id__in=old).delete()
    ids: dict[str, int] = {}
    for alias, definition in definitions(data):
        if not _behaviour(definition) or "segment" in str(definition):
            continue
        empty = {"match": "all", "filters": []}
        segment = actions.segment_create(principal=principal, name=alias, alias=ALIAS_PREFIX + alias, definition=empty)
        stored = actions._stored_definition(with_segment_ids(definition, ids), lookups(), segment_id=segment.pk)
        Segment.objects.filter(pk=segment.pk).update(definition=stored)
        ids[alias] = segment.pk
    return ids


def explain_refresh(connection, segment, batch: list[int]) -> str:
    """Return EXPLAIN (ANALYZE, BUFFERS) of the query _refresh_batch runs for batch (PostgreSQL; JIT off as there)."""
    from django.db import transaction

    from tidings.contacts.conditions import contacts_where
    from tidings.segments.selectors import condition_of
    from tidings.tenancy import bulk

    condition = condition_of(segment.definition, contact_ids=batch)
    query = contacts_where(condition).filter(bulk.id_in("id", batch)).values_list("id", flat=True)
    sql, params = query.query.get_compiler(connection.alias).as_sql()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row) for row in cursor.fetchall())
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The batch's ids, written out in full twice or more per plan, say nothing: their count does.
    return re.sub(r"'\{[0-9,]{60,}\}'", lambda m: f"'{{{m[0].count(',') + 1} ids}}'", plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reopen", metavar="SLUG", required=True, help="the workspace segments_data generated")
    parser.add_argument("--fraction", type=float, default=0.01, help="share of the contacts refreshed per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample-seed", type=int, default=5)
    parser.add_argument("--plans", default="segments_refresh_plans.txt")
    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_segments"):
        django_setup()
        from segments_data import reopen

        from tidings.segments import actions
        from tidings.segments.models import Segment
        from tidings.tenancy.context import use_workspace

        connection = region_connection()
        data = reopen(args.reopen)
        print(f"# refresh bench on {engine(connection)}: {len(data.contact_ids):,} contacts; {load()}", flush=True)
        principal = data.principal()
        with use_workspace(data.workspace):
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM events_event WHERE workspace_id = %s", [data.workspace.id])
                print(f"events {cursor.fetchone()[0]:,}")
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT indexname, pg_size_pretty(pg_relation_size(indexname::regclass)) FROM pg_indexes "
                        "WHERE tablename = 'events_event' ORDER BY indexname"
                    )
                    print("event indexes: " + ", ".join(f"{name} {size}" for name, size in cursor.fetchall()))
            ids = create_behaviour_segments(data)
            names = {pk: alias for alias, pk in ids.items()}
            started = time.perf_counter()
            built = actions.segments_rebuild_all(principal=principal)
            print(f"built {len(ids)} behaviour segments in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{names[r.segment_id]} {r.members:,}" for r in built))  # fmt: skip
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")

            original = actions._refresh_batch
            size = max(1, int(len(data.contact_ids) * args.fraction))
            for round_number in range(1, args.rounds + 1):
                sample = random.Random(args.sample_seed * 1000 + round_number).sample(data.contact_ids, size)  # noqa: S311
                per_segment: dict[int, float] = defaultdict(float)

                def timed_batch(segment_id, condition, batch, per_segment=per_segment):
                    started = time.perf_counter()
                    try:
                        return original(segment_id, condition, batch)
                    finally:
                        per_segment[segment_id] += time.perf_counter() - started

                actions._refresh_batch = timed_batch
                try:
                    started = time.perf_counter()
                    changes = actions.segment_refresh_contacts(sample, principal=principal)
                    total = time.perf_counter() - started
                finally:
                    actions._refresh_batch = original
                print(f"\nround {round_number}: {size:,} contacts, total {total:.2f} s, changes {changes or 'none'}; "
                      f"{load()}")  # fmt: skip
                for pk, seconds in per_segment.items():
                    print(f"  {names[pk]:32s} {seconds:8.3f} s")

            batch = sorted(random.Random(args.sample_seed).sample(data.contact_ids, min(size, 2000)))  # noqa: S311
            with Path(args.plans).open("w") as out:
                out.write(f"# refresh plans, {engine(connection)}, {len(data.contact_ids):,} contacts, "
                          f"one batch of {len(batch):,}\n")  # fmt: skip
                for segment in Segment.objects.filter(pk__in=list(ids.values())).order_by("pk"):
                    out.write(f"\n## {names[segment.pk]}\n{explain_refresh(connection, segment, batch)}\n")
            print(f"\nplans written to {args.plans}; {load()}")


if __name__ == "__main__":
    main()
