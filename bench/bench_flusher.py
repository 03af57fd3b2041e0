"""Benchmark the flusher process alone: spooled hits persisted per second and CPU a hit, without the server.

    python bench/bench_flusher.py                          # 50,000 hits, throw-away SQLite
    python bench/bench_flusher.py --database postgresql    # the TIDINGS_DATABASE_URL* databases (or fresh ones)
    python bench/bench_flusher.py --hits 20000 --profile   # and cProfile's top functions (--sort cumulative)

Spools hits like bench_tracking's (1,000 consented visitors, 50 pages, a UTM source, a referrer, fresh
client ids) into two shared spool files (two server processes), then times FlusherProcess.flush_once
until both are drained: wall time, CPU time (the flusher's own; the rest is the database), and the
rows (receipts == events == hits: nothing lost, nothing twice).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from harness import add_database_arguments, bench_workspace, databases, django_setup, engine, load, region_connection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--hits", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=None, help="hits a transaction (default: the flusher's)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime or cumulative")
    args = parser.parse_args()
    with databases(args, prefix="bench_flusher"):
        django_setup()
        from tidings.events.models import Event
        from tidings.tenancy.context import use_workspace
        from tidings.tracking import traffic
        from tidings.tracking.collect.flusher import PROCESS_BATCH, FlusherProcess
        from tidings.tracking.collect.models import HitReceipt
        from tidings.tracking.collect.spool import Spool, spool_dir
        from tidings.tracking.models import Site, new_public_key

        _owner, workspace = bench_workspace("flusher")
        with use_workspace(workspace):
            site = Site.objects.create(
                workspace_id=workspace.pk, name="Bench", public_key=new_public_key("eu"), domains=["bench.example"],
                consent_mode="legitimate_interest",
            )  # fmt: skip
        now = time.time()
        with use_workspace(workspace):
            import datetime

            at = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
            digests = [traffic.digest(site.pk, f"198.51.100.{n % 250}", f"Agent {n}", at).hex() for n in range(2000)]
        spools = [Spool(spool_dir(), shared=True), Spool(spool_dir(), shared=True)]
        for start in range(0, args.hits, 1000):
            records = [{
                "w": workspace.pk, "s": site.pk, "r": "eu", "id": f"bench{now:.0f}{n:012d}", "at": now + n / 10_000,
                "t": "pageview", "n": "", "u": f"https://bench.example/page/{n % 50}", "rh": "search.example",
                "utm": ["bench", "", ""], "d": "desktop", "o": "Windows", "b": "Chrome", "cc": "",
                "ip": "198.51.100.0/24", "v": 10_000_000 + n % 1000, "g": digests[n % 2000], "l": "", "tz": "",
                "sc": "",
            } for n in range(start, min(args.hits, start + 1000))]  # fmt: skip
            spools[start // 1000 % 2].append(records)
        flusher = FlusherProcess(batch=args.batch or PROCESS_BATCH)
        print(f"{engine(region_connection())}; {args.hits:,} hits in 2 spools, batches of {flusher.batch:,}; {load()}")
        profile = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        written = flusher.flush_once()
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with use_workspace(workspace):
            receipts, events = HitReceipt.objects.count(), Event.objects.count()
        print(f"persisted    {written:,} hits in {wall:.2f} s: {written / wall:,.0f} hits/s; "
              f"CPU {cpu / written * 1000:.3f} ms a hit ({cpu / wall:.0%} of the wall time)")  # fmt: skip
        print(f"rows         receipts {receipts:,}, page.hit events {events:,}",
              "(nothing lost, nothing twice)" if receipts == events == args.hits else "MISMATCH")  # fmt: skip
        for spool in spools:
            spool.close()
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(25)


if __name__ == "__main__":
    main()
