"""Benchmark the segments engine (issue 9): 20 segments of mixed filters over generated contacts and events.

    python bench/bench_segments.py --contacts 100000                      # generate on throw-away SQLite, then measure
    python bench/bench_segments.py --database postgresql --reopen SLUG    # measure a workspace generated before
    TIDINGS_VAR_DIR=/keep/var python bench/segments_data.py --contacts 1000000 --mutate 0   # generate once, keep

The data comes from bench/segments_data.py (contacts, custom fields, tags, companies, DNC,
events; see its docstring for what it looks like); --reopen measures a workspace it filled in an
earlier run (same TIDINGS_VAR_DIR and databases). Segments of an earlier bench run in that
workspace are deleted first (untimed).

1. The 20 segments are created with no filters (segment_create builds at once, and an empty
   definition builds nothing), then their definitions are checked and stored as segment_update
   would store them, without its rebuild: so no segment has members before (a).
2. (a) Cold rebuild: segments_rebuild_all with empty memberships: seconds per segment (the
   engine's own RebuildResult.seconds: additions and removals computed in SQL, membership events
   and rows written with INSERT ... SELECT) and the whole job, wall clock, rows added.
   (b) The same job again, nothing changed: the diff is empty (relative dates excepted), seconds.
   (c) mutate() changes 1% of the contacts through the normal actions, then
   segment_refresh_contacts(those ids): seconds in all and per segment (time spent in its batches),
   then a full rebuild that should find nothing left to change (incremental = full).
   (d) The engine's overhead: each segment's compiled condition (str of the queryset's SQL) run
   raw as SELECT COUNT(*) and as INSERT INTO a scratch table (what the rebuild writes, minus the
   membership anti-join and the events), against the cold rebuild; and hand-written SQL for a
   few segments, which must count the same contacts.
3. The plans (EXPLAIN, no ANALYZE; EXPLAIN QUERY PLAN on SQLite) of the 3 slowest cold rebuilds
   go to --plans.

The load average is printed with every part: other work shares the cores.

Measured 2026-12-01 at commit 70d7702 (2 cores shared with other work, load 3-8; full output and
plans in bench/results/segments-*.txt), data made by segments_data.py --events-per-contact 5 --mutate 0:
- PostgreSQL 15, 1,000,000 contacts (4.9 M activity events + 1 M contact.imported):
  TIDINGS_DATABASE_URL*=... TIDINGS_VAR_DIR=/tmp/bench2-var-pg python bench/bench_segments.py
  --database postgresql --reopen bench-segments-9632-1796122923-842963 --mutate-seed 11
  (a) cold: 182.6 s for 20 segments and 2,078,102 members (1.2 to 37.4 s a segment; the slowest
  write 357,000 and 420,000 members, rows and events); an earlier run with less load, before the
  EXCEPT commit: 110.6 s, 0.9 to 19.0 s. (b) no change: 211 s (removals by EXCEPT run the filters
  twice more). (c) 1% (10,000 contacts): refresh 91.8 s, 0.9 to 30.3 s a segment (behaviour filters
  slowest). (d) cold/raw COUNT 1.9 to 39 (the rebuild writes rows and events; raw reads).
- SQLite 3.40, 500,000 contacts (1 M would not have been generated in time): --database sqlite
  --reopen bench-segments-10614-1796123103-242794 --mutate-seed 12, run beside the PostgreSQL one:
  (a) cold 163.8 s (89.7 s in an earlier, less loaded run at 52122f5), (b) 112.6 s, (c) 1% refresh
  96.0 s (behaviour filters 8 to 29 s a segment: SQLite reads the event type's whole window).

Again on PostgreSQL 2026-12-01 after the refresh and rebuild work (bench/results/segments-postgresql-1m.txt;
the machine was far busier, load 11-22, so compare within a run, not across): --mutate-seed 13 --skip-raw
at bb1f5c8: (a) cold 323.0 s, (b) no change 283.7 s, 0.88 of the cold rebuild where it was 1.16 (the filters
now run twice, not three times), (c) 1% refresh 80.3 s, 1.0 to 9.2 s a segment, under load 18-22.
Refresh of 10,000 random contacts, nothing changed, segment by segment, same load, code before and after
(a probe calling segment_refresh_contacts, as (c) does): at load 1.3-2.2, before (ca30bf3) 37.2 s, field and
tag segments 0.26-1.13 s, behaviour segments 2.5-13.6 s; after the event-index and JIT commit 15.3 s,
field and tag 0.23-0.58 s, behaviour 1.0-2.5 s (the first behaviour segment reads the contacts' event
pages from disk; the next find them cached). Behaviour segments are still about a second per 10,000
contacts warm: each contact's events are read from the heap (5-7 pages) to test their type; see
decision 0017's consequences for the index that would remove that. At the final code (617a240), under
load 18-21, alternating with ca30bf3 on fresh samples: 131.8 and 63.2 s against 181.7 and 255.2 s;
behaviour segments 3.9-10.0 s against 13.8-64.4 s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from collections import defaultdict
from pathlib import Path

from harness import add_database_arguments, databases, django_setup, engine, load, region_connection

ALIAS_PREFIX = "bench-"
SCRATCH = "bench_segments_scratch"


def definitions(data) -> list[tuple[str, dict]]:
    """Return the 20 (alias, definition) of the bench: fields, custom fields, dates, tags, DNC, events, nesting."""
    tag = data.tag_ids
    owners = data.owner_ids
    recent_email = data.email_ids[-3]  # an email sent a couple of months ago
    field = lambda alias, operator, value=None, object="contact": {  # noqa: E731
        "kind": "field", "object": object, "field": alias, "operator": operator, "value": value}  # fmt: skip
    event = lambda name, **more: {"kind": "event", "event": name, "operator": more.pop("operator", "has"),  # noqa: E731
                                  "min_count": 1, "max_count": None, "within_days": None, **more}  # fmt: skip
    return [
        # Columns
        ("us-customers", {"match": "all", "filters": [
            field("country", "equals", "US"), {"kind": "tag", "operator": "in", "value": [tag["customer"]]}]}),
        ("europe-paid-plans", {"match": "all", "filters": [
            field("country", "in", ["DE", "FR", "NL", "ES", "IT", "BE", "AT"]),
            field("plan", "in", ["pro", "business", "enterprise"])]}),
        ("points-20-to-60", {"match": "all", "filters": [field("points", "between", [20, 60])]}),
        ("owned-early-stage", {"match": "all", "filters": [
            field("owner", "in", owners[:3]), field("stage", "lte", 2)]}),
        ("city-starts-man", {"match": "all", "filters": [field("city", "starts_with", "Man")]}),
        # Custom fields
        ("high-score", {"match": "all", "filters": [field("score", "gte", 150)]}),
        ("renewal-next-30-days", {"match": "all", "filters": [field("renewal_date", "in_next_days", 30)]}),
        ("webinar-campaigns", {"match": "all", "filters": [field("source_campaign", "contains", "webinar")]}),
        # Relative dates on columns
        ("active-last-30-days", {"match": "all", "filters": [field("last_active", "in_last_days", 30)]}),
        ("dormant-1-year", {"match": "all", "filters": [
            field("last_active", "more_than_days_ago", 365), field("date_added", "more_than_days_ago", 400)]}),
        # Tags and Do-Not-Contact
        ("newsletter-and-customer", {"match": "all", "filters": [
            {"kind": "tag", "operator": "all", "value": [tag["newsletter"], tag["customer"]]}]}),
        ("leads-not-newsletter", {"match": "all", "filters": [
            {"kind": "tag", "operator": "in", "value": [tag["lead"], tag["prospect"], tag["trial"]]},
            {"kind": "tag", "operator": "not_in", "value": [tag["newsletter"]]}]}),
        ("email-dnc", {"match": "all", "filters": [
            {"kind": "dnc", "operator": "is", "channel": "email", "reason": ""}]}),
        # Behaviour
        ("pricing-visitors-30-days", {"match": "all", "filters": [
            event("page.hit", within_days=30, data={"url__contains": "/pricing"})]}),
        ("heavy-readers-5-hits-180-days", {"match": "all", "filters": [
            event("page.hit", within_days=180, min_count=5)]}),
        ("opened-recent-email", {"match": "all", "filters": [
            event("email.opened", data={"email_id": recent_email}),
            {"kind": "dnc", "operator": "is_not", "channel": "email", "reason": ""}]}),
        ("received-never-opened-year", {"match": "all", "filters": [
            event("email.sent", within_days=365),
            event("email.opened", within_days=365, operator="has_not")]}),
        # Companies
        ("software-companies-500-plus", {"match": "all", "filters": [
            field("companyindustry", "equals", "Software", object="company"),
            field("companynumber_of_employees", "gte", 500, object="company")]}),
        # Nested groups
        ("nested-sales-ready", {"match": "any", "filters": [
            {"kind": "group", "match": "all", "filters": [
                field("stage", "in", [1, 2]), field("points", "gte", 10),
                {"kind": "group", "match": "any", "filters": [
                    field("country", "in", ["US", "GB", "DE"]),
                    {"kind": "tag", "operator": "in", "value": [tag["vip"]]}]}]},
            {"kind": "group", "match": "all", "filters": [
                event("form.submitted", within_days=90), field("plan", "not_equals", "free")]}]}),
        # A segment in a segment (the definition names its id; filled in when created)
        ("engaged-pricing-not-dnc", {"match": "all", "filters": [
            {"kind": "segment", "operator": "in", "value": ["pricing-visitors-30-days"]},
            {"kind": "segment", "operator": "not_in", "value": ["email-dnc"]}]}),
    ]  # fmt: skip


def with_segment_ids(group: dict, ids: dict[str, int]) -> dict:
    """Return group with the aliases named by segment filters replaced by the segments' ids."""
    nodes = []
    for node in group["filters"]:
        if node.get("kind") == "group":
            node = {**node, **with_segment_ids(node, ids)}
        elif node.get("kind") == "segment":
            node = {**node, "value": [ids[alias] for alias in node["value"]]}
        nodes.append(node)
    return {**group, "filters": nodes}


def create_segments(data) -> dict[str, int]:
    """Delete the segments of an earlier bench run, create the 20 with no members; return {alias: id}."""
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
        name = alias.replace("-", " ").capitalize()
        empty = {"match": "all", "filters": []}
        segment = actions.segment_create(principal=principal, name=name, alias=ALIAS_PREFIX + alias, definition=empty)
        ids[alias] = segment.pk
        # What segment_update(definition=...) stores (checked, cycle-free, sealed), without its rebuild.
        stored = actions._stored_definition(with_segment_ids(definition, ids), lookups(), segment_id=segment.pk)
        Segment.objects.filter(pk=segment.pk).update(definition=stored)
    return ids


def compiled_sql(segment_id: int) -> tuple[str, list]:
    """Return the SQL and parameters of a segment's matching contacts' ids, as the rebuild compiles them."""
    from tidings.contacts.conditions import contacts_where
    from tidings.segments.models import Segment
    from tidings.segments.selectors import condition_of

    segment = Segment.objects.get(pk=segment_id)
    matching = contacts_where(condition_of(segment.definition)).order_by().values_list("id")
    sql, params = matching.query.get_compiler(using=matching.db).as_sql()
    return sql, list(params)


def hand_written(data, connection) -> dict[str, tuple[str, list]]:
    """Return SQL written by hand (no ORM) counting the contacts of a few segments, by alias."""
    from tidings.events.registry import code_for

    w = data.workspace.id
    now = datetime.datetime.now(datetime.UTC)
    hit = code_for("page.hit")
    who = ("SELECT COALESCE(e.contact_id, v.contact_id) AS who FROM events_event e"
           " LEFT JOIN events_visitor v ON v.workspace_id = e.workspace_id AND v.id = e.visitor_id"
           " WHERE e.workspace_id = %s AND e.type = %s AND e.at >= %s")  # fmt: skip
    url_id = "json_extract(e.data, '$.url')"
    if connection.vendor == "postgresql":
        url_id = "CAST(e.data ->> 'url' AS bigint)"
    return {
        "us-customers": (
            "SELECT COUNT(*) FROM contacts_contact c WHERE c.workspace_id = %s AND c.country = 'US'"
            " AND EXISTS (SELECT 1 FROM contacts_contacttag t"
            "             WHERE t.workspace_id = %s AND t.contact_id = c.id AND t.tag_id = %s)",
            [w, w, data.tag_ids["customer"]],
        ),
        "email-dnc": (
            "SELECT COUNT(DISTINCT d.contact_id) FROM contacts_donotcontact d"
            " JOIN contacts_contact c ON c.workspace_id = d.workspace_id AND c.id = d.contact_id"
            " WHERE d.workspace_id = %s AND d.channel = 'email'",
            [w],
        ),
        "software-companies-500-plus": (
            "SELECT COUNT(*) FROM contacts_contact c WHERE c.workspace_id = %s AND c.id IN ("
            " SELECT cc.contact_id FROM contacts_contactcompany cc"
            " JOIN contacts_company co ON co.workspace_id = cc.workspace_id AND co.id = cc.company_id"
            " WHERE cc.workspace_id = %s AND co.industry = 'Software' AND co.number_of_employees >= 500)",
            [w, w],
        ),
        "pricing-visitors-30-days": (
            f"SELECT COUNT(*) FROM contacts_contact c WHERE c.workspace_id = %s AND c.id IN ({who}"  # noqa: S608
            f" AND {url_id} IN (SELECT s.id FROM events_eventstring s"
            "                   WHERE s.workspace_id = %s AND s.kind = 1 AND s.value LIKE %s))",
            [w, w, hit, now - datetime.timedelta(days=30), w, "%/pricing%"],
        ),
        "heavy-readers-5-hits-180-days": (
            f"SELECT COUNT(*) FROM contacts_contact c WHERE c.workspace_id = %s AND c.id IN ("  # noqa: S608
            f" SELECT who FROM ({who}) hits WHERE who IS NOT NULL GROUP BY who HAVING COUNT(*) >= 5)",
            [w, w, hit, now - datetime.timedelta(days=180)],
        ),
    }


def run_timed(connection, sql: str, params: list) -> tuple[float, object]:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, params)
        row = cursor.fetchone() if cursor.description else cursor.rowcount
        return time.perf_counter() - started, row[0] if isinstance(row, tuple) else row


def scratch_table(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cursor.execute(f"CREATE TABLE {SCRATCH} (contact_id bigint NOT NULL)")


def explain(connection, sql: str, params: list) -> str:
    prefix = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(row[0] for row in rows)
    return "\n".join(f"{row[0]:>4} {row[1]:>4} {row[-1]}" for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts to generate (unless --reopen)")
    parser.add_argument("--events-per-contact", type=float, default=None, help="generator's default unless given")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reopen", metavar="SLUG", help="measure the workspace segments_data generated earlier")
    parser.add_argument("--mutate", type=float, default=0.01, help="fraction of the contacts changed before (c)")
    parser.add_argument("--mutate-seed", type=int, default=None, help="which contacts change (default: from the time)")
    parser.add_argument("--plans", default="segments_plans.txt", help="file for the plans of the 3 slowest segments")
    parser.add_argument("--skip-raw", action="store_true", help="skip (d), the compiled SQL run raw, and the plans")
    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_segments"):
        django_setup()
        from segments_data import EVENTS_PER_CONTACT, generate, mutate, reopen

        from tidings.segments import actions
        from tidings.segments.models import SegmentMembership
        from tidings.tenancy.context import use_workspace

        connection = region_connection()
        print(f"# segments bench on {engine(connection)}; {load()}", flush=True)
        if args.reopen:
            data = reopen(args.reopen)
            print(f"reopened {args.reopen}: {len(data.contact_ids):,} contacts (seed {data.seed})")
        else:
            started = time.perf_counter()
            per_contact = args.events_per_contact or EVENTS_PER_CONTACT
            data = generate(args.contacts, events_per_contact=per_contact, seed=args.seed)
            print(f"generated in {time.perf_counter() - started:.0f} s ({per_contact} events per contact on average): "
                  + ", ".join(f"{name} {count:,}" for name, count in data.counts.items()))  # fmt: skip
            print(f"workspace {data.workspace.slug}, var {os.environ['TIDINGS_VAR_DIR']}")
        principal = data.principal()
        with use_workspace(data.workspace):
            with connection.cursor() as cursor:
                table_counts = {}
                for table in ("contacts_contact", "events_event", "contacts_contacttag", "contacts_donotcontact",
                              "contacts_contactcompany"):  # fmt: skip
                    cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE workspace_id = %s", [data.workspace.id])  # noqa: S608
                    table_counts[table] = cursor.fetchone()[0]
            print("rows: " + ", ".join(f"{table} {count:,}" for table, count in table_counts.items()))
            ids = create_segments(data)
            names = {pk: alias for alias, pk in ids.items()}
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have after the load

            # (a) cold
            print(f"\n(a) cold rebuild of {len(ids)} segments, memberships empty; {load()}", flush=True)
            started = time.perf_counter()
            cold = {r.segment_id: r for r in actions.segments_rebuild_all(principal=principal)}
            cold_total = time.perf_counter() - started
            for pk, r in cold.items():
                print(f"  {names[pk]:32s} {r.seconds:8.2f} s  added {r.added:>9,}  members {r.members:>9,}")
            print(f"  total (wall, segments_rebuild_all) {cold_total:.1f} s; sum of segments "
                  f"{sum(r.seconds for r in cold.values()):.1f} s; added {sum(r.added for r in cold.values()):,}; "
                  f"{load()}", flush=True)  # fmt: skip

            # (b) nothing changed
            print(f"\n(b) rebuild again, nothing changed; {load()}", flush=True)
            started = time.perf_counter()
            again = actions.segments_rebuild_all(principal=principal)
            again_total = time.perf_counter() - started
            for r in again:
                print(f"  {names[r.segment_id]:32s} {r.seconds:8.2f} s  added {r.added:>6,}  removed {r.removed:>6,}")
            print(f"  total {again_total:.1f} s; added {sum(r.added for r in again):,}, "
                  f"removed {sum(r.removed for r in again):,}; {load()}", flush=True)  # fmt: skip

            # (c) 1% changes, incremental refresh
            mutate_seed = args.mutate_seed if args.mutate_seed is not None else int(time.time()) % 100_000
            changes = mutate(data, fraction=args.mutate, seed=mutate_seed)
            print(f"\n(c) mutate({args.mutate}, seed={mutate_seed}): {len(changes.contact_ids):,} contacts changed in "
                  f"{changes.seconds:.1f} s (" + ", ".join(f"{k} {n:,}" for k, n in changes.kinds.items())
                  + f"); {load()}", flush=True)  # fmt: skip
            per_segment: dict[int, float] = defaultdict(float)
            original = actions._refresh_batch

            def timed_batch(segment_id, condition, batch):
                started = time.perf_counter()
                try:
                    return original(segment_id, condition, batch)
                finally:
                    per_segment[segment_id] += time.perf_counter() - started

            actions._refresh_batch = timed_batch  # time each segment's batches (the queries and writes)
            try:
                started = time.perf_counter()
                refreshed = actions.segment_refresh_contacts(changes.contact_ids, principal=principal)
                refresh_total = time.perf_counter() - started
            finally:
                actions._refresh_batch = original
            for pk in cold:
                added, removed = refreshed.get(pk, (0, 0))
                print(f"  {names[pk]:32s} {per_segment[pk]:8.3f} s  added {added:>5,}  removed {removed:>5,}")
            print(f"  total segment_refresh_contacts {refresh_total:.2f} s for {len(changes.contact_ids):,} contacts "
                  f"x {len(ids)} segments; slowest segment {max(per_segment.values()):.3f} s; {load()}")  # fmt: skip
            after = actions.segments_rebuild_all(principal=principal)
            left = [(names[r.segment_id], r.added, r.removed) for r in after if r.added or r.removed]
            print(f"  full rebuild after the refresh: {sum(r.seconds for r in after):.1f} s, left to change "
                  f"{left or 'nothing'} (relative dates move with the clock)", flush=True)  # fmt: skip

            if args.skip_raw:
                members = SegmentMembership.objects.filter(segment_id__in=list(cold)).count()
                print(f"\n(d) and the plans skipped (--skip-raw)\n# memberships now {members:,}; {load()}")
                return

            # (d) the engine against the same SQL run by hand
            print(f"\n(d) engine (cold rebuild) against its compiled SQL run raw; {load()}", flush=True)
            scratch_table(connection)
            compiled = {pk: compiled_sql(pk) for pk in cold}
            hand_counts: dict[int, int] = {}
            header = ("segment", "cold", "COUNT", "INSERT", "cold/COUNT", "cold/INSERT")
            print("  {:32s} {:>8s} {:>8s} {:>8s} {:>10s} {:>11s}".format(*header))
            for pk, r in cold.items():
                sql, params = compiled[pk]
                count_seconds, count = run_timed(connection, f"SELECT COUNT(*) FROM ({sql}) AS matching", params)  # noqa: S608
                insert_seconds, _ = run_timed(connection, f"INSERT INTO {SCRATCH} (contact_id) {sql}", params)  # noqa: S608
                run_timed(connection, f"DELETE FROM {SCRATCH}", [])  # noqa: S608
                hand_counts[pk] = count
                print(f"  {names[pk]:32s} {r.seconds:8.2f} {count_seconds:8.2f} {insert_seconds:8.2f} "
                      f"{r.seconds / max(count_seconds, 1e-6):10.1f} {r.seconds / max(insert_seconds, 1e-6):11.1f}"
                      f"  count {count:,}", flush=True)  # fmt: skip
            print(f"  ({load()})")
            print("\n  hand-written SQL (no ORM) for a few segments:")
            for alias, (sql, params) in hand_written(data, connection).items():
                seconds, count = run_timed(connection, sql, params)
                pk = ids[alias]
                compiled_count = hand_counts[pk]
                cold_seconds = cold[pk].seconds
                print(f"  {alias:32s} hand {seconds:7.2f} s  count {count:>9,} "
                      f"({'same as' if count == compiled_count else 'DIFFERS from'} the compiled {compiled_count:,}); "
                      f"cold/hand {cold_seconds / max(seconds, 1e-6):.1f}")  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {SCRATCH}")
            print(f"  ({load()})")

            # Plans of the 3 slowest
            slowest = sorted(cold.values(), key=lambda r: -r.seconds)[:3]
            with Path(args.plans).open("w") as out:
                out.write(f"# segments bench plans, {engine(connection)}, {len(data.contact_ids):,} contacts\n")
                for r in slowest:
                    sql, params = compiled[r.segment_id]
                    out.write(f"\n## {names[r.segment_id]}: cold rebuild {r.seconds:.2f} s, {r.added:,} added\n")
                    out.write(f"-- compiled SELECT ({len(params)} parameters)\n{sql}\n\n")
                    out.write(explain(connection, sql, params) + "\n")
            print(f"\nplans of {', '.join(names[r.segment_id] for r in slowest)} written to {args.plans}")
            members = SegmentMembership.objects.filter(segment_id__in=list(cold)).count()
            print(f"# memberships now {members:,}; {load()}")


if __name__ == "__main__":
    main()
