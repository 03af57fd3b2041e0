"""Benchmark the cookieless counts: count() throughput, beside a plain INSERT of the same hits in the same run.

    python bench/bench_traffic.py                          # 100,000 hits in batches of 1,000, throw-away SQLite
    python bench/bench_traffic.py --database postgresql    # the TIDINGS_DATABASE_URL* databases (or fresh ones)
    python bench/bench_traffic.py --hits 20000 --batch 500

1. digest(): HMAC-SHA256 under the day's salt (cached in process), digests per second.
2. count() in batches: sightings inserted with ON CONFLICT DO NOTHING ... RETURNING, then the day and
   hour aggregates upserted, one transaction per batch. A made-up day of traffic: --visitors distinct
   (IP, user agent) pairs, each with a few page views over 500 pages, referrers, UTM tags, devices, OS,
   browsers and countries.
3. The same hits counted again (every visitor already seen: the steady state of a busy day).
4. Baseline: the same hits stored raw, one row per hit, through a batched INSERT (executemany, one
   transaction per batch) into a table without indexes: what keeping hits instead of counts costs.

The ingest bench (bench/bench_tracking.py) can call measure_count(hits, batch) for its own figure.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time

from harness import add_database_arguments, bench_workspace, databases, django_setup, engine, load, region_connection

PAGES = [f"/{section}/{n}" for section in ("products", "blog", "docs", "pricing", "careers") for n in range(100)]
REFERRERS = ["", "", "", "search.example", "news.example", "social.example", "partner.example"]
UTMS = [("", "", ""), ("", "", ""), ("newsletter", "email", "winter-2026"), ("social", "cpc", "launch")]
DEVICES = [("desktop", "Windows", "Chrome"), ("desktop", "macOS", "Safari"), ("mobile", "Android", "Chrome"),
           ("mobile", "iOS", "Safari"), ("tablet", "iPadOS", "Safari"), ("desktop", "Linux", "Firefox")]  # fmt: skip
COUNTRIES = ["DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE", ""]


def make_hits(workspace, site, *, hits: int, visitors: int, seed: int = 10):
    """Return (hits, digest seconds): TrafficHit rows of one day's made-up traffic, digests computed by digest()."""
    from django.utils import timezone

    from tidings.tenancy.context import use_workspace
    from tidings.tracking.traffic import TrafficHit, digest

    rng = random.Random(seed)  # noqa: S311 (made-up traffic)
    now = timezone.now()
    people = [(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", f"Bench/{n % 97} ({DEVICES[n % 6][1]})",
               DEVICES[n % len(DEVICES)], rng.choice(COUNTRIES)) for n in range(visitors)]  # fmt: skip
    plan = [
        (people[rng.randrange(visitors)], now - datetime.timedelta(seconds=rng.randrange(3600))) for _ in range(hits)
    ]
    started = time.perf_counter()
    with use_workspace(workspace):
        digests = [digest(site.pk, ip, ua, at) for (ip, ua, _, _), at in plan]
    digest_seconds = time.perf_counter() - started
    rows = []
    for ((_, _, (device, os_name, browser), country), at), key in zip(plan, digests, strict=True):
        source, medium, campaign = rng.choice(UTMS)
        rows.append(
            TrafficHit(
                workspace.pk,
                site.pk,
                at,
                key,
                url=rng.choice(PAGES),
                referrer_host=rng.choice(REFERRERS),
                utm_source=source,
                utm_medium=medium,
                utm_campaign=campaign,
                device=device,
                os=os_name,
                browser=browser,
                country=country,
                is_pageview=rng.random() < 0.95,
            )  # fmt: skip
        )
    return rows, digest_seconds


def measure_count(hits, batch: int) -> float:
    """Count hits in batches of batch; return the seconds it took."""
    from tidings.tracking.traffic import count

    started = time.perf_counter()
    for start in range(0, len(hits), batch):
        count(hits[start : start + batch])
    return time.perf_counter() - started


def raw_baseline(connection, hits, batch: int) -> float:
    """Store hits one row each through executemany batches into an unindexed table; return the seconds."""
    from django.db import transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_traffic_raw")
        cursor.execute(
            "CREATE TABLE bench_traffic_raw (workspace_id bigint, site_id bigint, at timestamp, digest bytea, url text,"
            " referrer text, utm_source text, utm_medium text, utm_campaign text, device text, os text,"
            " browser text, country text, is_pageview boolean)".replace(
                "bytea", "bytea" if connection.vendor == "postgresql" else "blob"
            )
        )
    sql = "INSERT INTO bench_traffic_raw VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    rows = [(h.workspace_id, h.site_id, h.at.replace(tzinfo=None), h.digest, h.url, h.referrer_host, h.utm_source,
             h.utm_medium, h.utm_campaign, h.device, h.os, h.browser, h.country, h.is_pageview)
            for h in hits]  # fmt: skip
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, rows[start : start + batch])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_traffic_raw")
    return seconds


def run(args) -> None:
    django_setup()
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.models import Site, new_public_key
    from tidings.tracking.models_traffic import TrafficDay, TrafficSighting

    connection = region_connection()
    _, workspace = bench_workspace("traffic", "Traffic bench")
    with use_workspace(workspace):
        site = Site.objects.create(name="Bench site", public_key=new_public_key("eu"), domains=["bench.example"])
    print(f"# bench_traffic: {engine(connection)}; {args.hits:,} hits, {args.visitors:,} visitors, "
          f"batches of {args.batch:,}; load {load()}")  # fmt: skip
    hits, digest_seconds = make_hits(workspace, site, hits=args.hits, visitors=args.visitors)
    print(f"digest():             {args.hits / digest_seconds:>12,.0f} digests/s")
    first = measure_count(hits, args.batch)
    print(f"count(), first pass:  {args.hits / first:>12,.0f} hits/s  ({first:.2f} s)")
    again = measure_count(hits, args.batch)
    print(f"count(), seen again:  {args.hits / again:>12,.0f} hits/s  ({again:.2f} s)")
    raw = raw_baseline(connection, hits, args.batch)
    print(f"baseline raw INSERT:  {args.hits / raw:>12,.0f} hits/s  ({raw:.2f} s)")
    print(f"ratio count()/raw:    {raw / first:>12.2f} (first pass), {raw / again:.2f} (seen again)")
    with use_workspace(workspace):
        days, sightings = TrafficDay.objects.count(), TrafficSighting.objects.count()
    print(f"rows: {days:,} aggregate rows, {sightings:,} sightings (deleted after 48 h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--visitors", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_traffic"):
        run(args)


if __name__ == "__main__":
    main()
