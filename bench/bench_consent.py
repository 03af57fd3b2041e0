"""Benchmark the set form of the consent question; each figure is printed beside a baseline of the same run.

    python bench/bench_consent.py                          # 200,000 contacts on throw-away SQLite files
    python bench/bench_consent.py --contacts 1000000 --database postgresql

The ledger gets 1 to 3 records per contact for marketing_email (given, sometimes withdrawn later), a
tenth of them through a device identified as the contact. Measured (p50 over --queries runs):

1. subjects_deciding(given=True).count(): the contacts whose latest record is "given", visitors
   included (the subquery email sends and segments filter with), beside a plain SQL baseline on the
   same table that ignores visitors (a window function: the latest record per contact_id).
2. contacts_allowed() over 10,000 ids (chunks of 5,000), the list form.
3. purpose_allowed() for one contact, in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time

from harness import (
    add_database_arguments,
    bench_workspace,
    databases,
    django_setup,
    engine,
    load,
    percentile,
    region_connection,
    timed,
)


def run(args) -> None:
    django_setup()
    from django.db import transaction

    from tidings.consent import selectors
    from tidings.consent.models import ConsentRecord, Purpose
    from tidings.events.models import Visitor
    from tidings.tenancy import bulk
    from tidings.tenancy.context import use_workspace

    connection = region_connection()
    _, workspace = bench_workspace("consent")
    rng = random.Random(7)  # noqa: S311 (made-up decisions)
    with use_workspace(workspace):
        purpose_id = Purpose.objects.get(key="marketing_email").pk
        start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=365)
        began = time.perf_counter()
        columns = ["workspace_id", "purpose_id", "given", "contact_id", "visitor_id", "recorded_at", "method",
                   "source", "ip_network", "wording"]  # fmt: skip
        rows, visitors = [], []
        for contact in range(1, args.contacts + 1):
            through_device = contact % 10 == 0
            if through_device:
                visitors.append((workspace.id, contact, contact, start))
            at = start + datetime.timedelta(seconds=rng.randrange(300 * 86400))
            for n in range(rng.choice((1, 1, 2, 3))):
                given = n % 2 == 0
                subject = (None, contact) if through_device and n == 0 else (contact, None)
                rows.append((workspace.id, purpose_id, given, *subject, at + datetime.timedelta(days=n), "form",
                             "form:1", "", ""))  # fmt: skip
        with transaction.atomic(using=workspace.db_alias):
            bulk.insert(Visitor, ["workspace_id", "id", "contact_id", "created_at"], visitors)
            bulk.insert(ConsentRecord, columns, rows)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE consent_consentrecord")
                cursor.execute("ANALYZE events_visitor")
        print(f"{engine(connection)}; {load()}")
        print(f"{args.contacts:,} contacts, {len(rows):,} records written in {time.perf_counter() - began:.1f} s")

        def ours(_):
            return selectors.subjects_deciding("marketing_email", given=True).count()

        baseline_sql = (
            "SELECT COUNT(*) FROM (SELECT given, ROW_NUMBER() OVER (PARTITION BY contact_id ORDER BY recorded_at DESC,"
            " id DESC) AS rn FROM consent_consentrecord WHERE workspace_id = %s AND purpose_id = %s"
            " AND contact_id IS NOT NULL) latest WHERE rn = 1 AND given"
        )

        def baseline(_):
            with connection.cursor() as cursor:
                cursor.execute(baseline_sql, [workspace.id, purpose_id])
                return cursor.fetchone()[0]

        counted = ours(0)
        samples = timed(ours, args.queries)
        base = timed(baseline, args.queries)
        print(f"subjects_deciding(given) count={counted:,}: p50 {percentile(samples, 0.5):.0f} ms; "
              f"baseline (window function, contact_id only) {percentile(base, 0.5):.0f} ms; "
              f"ratio {percentile(samples, 0.5) / percentile(base, 0.5):.2f}")  # fmt: skip
        ids = rng.sample(range(1, args.contacts + 1), min(10_000, args.contacts))
        listed = timed(lambda _: selectors.contacts_allowed(ids, "marketing_email", use="bench"), args.queries)
        print(f"contacts_allowed over {len(ids):,} ids: p50 {percentile(listed, 0.5):.0f} ms")
        one = timed(lambda n: selectors.purpose_allowed(ids[n % len(ids)], "marketing_email", use="bench"), 200)
        print(f"purpose_allowed, one contact: p50 {percentile(one, 0.5):.2f} ms, "
              f"p99 {percentile(one, 0.99):.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=5)
    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_consent"):
        run(args)


if __name__ == "__main__":
    main()
