"""Benchmark the dashboard's contacts widgets on a seeded workspace; each beside a bare count of the same run.

    TIDINGS_VAR_DIR=/tmp/bench python bench/bench_dashboard.py                 # 100,000 contacts, SQLite
    TIDINGS_DATABASE_URL=... TIDINGS_DATABASE_URL_US=... TIDINGS_DATABASE_URL_EU=... \
        python bench/bench_dashboard.py --rows 1000000                        # on PostgreSQL

Seeds a fresh EU workspace through contacts_bulk_upsert (encrypted, indexed): 20 countries, 30
tags (one to three per contact), creation dates spread over 180 days, 2% on the email
Do-Not-Contact list, --events page hits and one contact.created event (with a source) per
contact of the last 30 days. Then times each widget's data (its one query and the chart
drawn in Python), the whole dashboard page over HTTP (Django test client, the pipeline and
templates included) with its query count, and, as the baseline, `SELECT count(*)` of the
workspace's contacts: the ratio says what a widget costs in bare counts.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import time

from harness import bench_workspace, databases, django_setup, percentile, region_connection, timed


def rows(count: int):
    rng = random.Random(5)  # noqa: S311 (made-up people, not secrets)
    countries = ["DE", "FR", "GB", "US", "ES", "IT", "NL", "SE", "PL", "PT", "IE", "AT", "BE", "DK", "FI", "NO", "CZ",
                 "CH", "CA", "AU"]  # fmt: skip
    for i in range(count):
        yield {
            "email": f"person{i}@company{i % 997}.example",
            "firstname": "Bench",
            "country": countries[min(int(rng.expovariate(0.25)), len(countries) - 1)],
            "tags": [f"tag-{min(int(rng.expovariate(0.2)), 29)}" for _ in range(rng.randint(1, 3))],
        }


def seed(workspace, count: int, events: int) -> None:
    from django.db import connections
    from django.utils import timezone

    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions
    from tidings.contacts.models import Contact, ContactEvent, EventType

    principal = system_principal(workspace, reason="command:bench_dashboard")
    started = time.perf_counter()
    result = actions.contacts_bulk_upsert(rows(count), lawful_basis="consent", principal=principal)
    assert result.created == count and not result.errors, result
    print(f"seeded {count:,} contacts in {time.perf_counter() - started:.1f} s")
    connection = connections["region_eu"]
    now = timezone.now()
    with connection.cursor() as cursor:
        # Creation dates over 180 days, and 2% on the email Do-Not-Contact list (bare SQL: set-up only).
        ids = list(Contact.objects.order_by("id").values_list("id", flat=True))
        per_day = max(1, len(ids) // 180)
        for day in range(0, 180):
            chunk = ids[day * per_day : (day + 1) * per_day]
            Contact.objects.filter(id__in=chunk).update(created_at=now - datetime.timedelta(days=179 - day))
        cursor.executemany(
            "INSERT INTO contacts_donotcontact (workspace_id, contact_id, channel, reason, created_at)"
            " VALUES (%s, %s, 'email', %s, %s)",
            [
                (workspace.id, contact_id, ["unsubscribed", "bounced", "manual"][n % 3], now)
                for n, contact_id in enumerate(ids[::50])
            ],
        )
    recent = Contact.objects.filter(created_at__gte=now - datetime.timedelta(days=30)).values_list("id", "created_at")
    sources = ["ui", "api", "api", "form", "system"]
    created = [
        {"contact_id": cid, "type": EventType.CONTACT_CREATED, "at": at, "data": {"source": sources[cid % 5]}}
        for cid, at in recent
    ]
    hits = (
        {
            "contact_id": ids[i % len(ids)],
            "type": EventType.PAGE_HIT,
            "at": now - datetime.timedelta(minutes=i % 40_000),
            "data": {"page": i % 100},
        }
        for i in range(events)
    )
    actions.events_append(created, principal=principal)
    actions.events_append(hits, principal=principal)
    print(f"events: {ContactEvent.objects.count():,} ({len(created):,} contact.created)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000, help="page hits of the last 30 days")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with databases(args):
        run(args)


def run(args) -> None:
    django_setup()
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tidings.accounts.selectors import principal_for_user
    from tidings.contacts.models import Contact
    from tidings.tenancy.context import use_workspace
    from tidings.ui.dashboard import visible_widgets

    owner, workspace = bench_workspace()
    connection = region_connection()
    print(f"# bench_dashboard: {args.rows:,} contacts on {connection.vendor}; load {os.getloadavg()[0]:.2f}")
    with use_workspace(workspace):
        seed(workspace, args.rows, args.events)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # the steady state autovacuum reaches: index-only scans
        principal = principal_for_user(owner, workspace)

        class Request:  # what a widget reads of a request
            pass

        request = Request()
        request.workspace, request.principal = workspace, principal
        baseline = timed(lambda i: Contact.objects.count(), args.repeat)
        base = statistics.median(baseline)
        print(f"\n{'widget':28s} {'p50':>9s} {'p99':>9s} {'queries':>8s}   p50 / bare count(*)")
        print(f"{'bare count(*) of contacts':28s} {base:7.2f}ms {percentile(baseline, 0.99):7.2f}ms {1:8d}   1.0")
        for widget in visible_widgets(principal):
            with CaptureQueriesContext(connection) as queries:
                widget.load(request)
            samples = timed(lambda i, widget=widget: widget.load(request), args.repeat)
            p50 = statistics.median(samples)
            p99 = percentile(samples, 0.99)
            print(f"{widget.name:28s} {p50:7.2f}ms {p99:7.2f}ms {len(queries):8d}   {p50 / base:.1f}")
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, reset_queries

    # Otherwise each request forgets the queries of the last before they are counted.
    request_started.disconnect(reset_queries)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client()
    client.force_login(owner)
    url = f"/w/{workspace.slug}/"
    with CaptureQueriesContext(connection) as region, CaptureQueriesContext(connections["default"]) as global_:
        assert client.get(url).status_code == 200
    counted = f"{len(region)} region + {len(global_)} global"
    page = timed(lambda i: client.get(url), max(5, args.repeat // 2))
    print(
        f"\ndashboard page over HTTP: p50 {statistics.median(page):.1f} ms, p99 {percentile(page, 0.99):.1f} ms;"
        f" queries: {counted}"
    )


if __name__ == "__main__":
    main()
