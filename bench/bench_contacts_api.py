"""Benchmark contact search through the APIs against the bare selector call, in one run.

    python bench/bench_contacts_api.py                  # 100,000 contacts
    python bench/bench_contacts_api.py --rows 1000000   # the full run

Each request goes through the whole Django stack in-process (test Client: URL routing,
authentication with a personal API token, rate limiting, workspace scoping, serialisation),
and each figure is printed beside the same search made by calling the selector directly,
so the ratio is the cost of the API layer on this machine. Target: p99 < 300 ms at 1M contacts.

Runs on throw-away SQLite files in a temporary TIDINGS_VAR_DIR unless one is set.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench_contacts import generate
from harness import bench_workspace, databases, django_setup, percentile, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    with databases(args, var_prefix="tidings-bench-api-"):
        run(args)


def run(args) -> None:
    django_setup()  # every database, then the cache table (the rate limiter's counters live in the database cache)
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test Client's "testserver" host in
    settings.TIDINGS_API_RATE_LIMIT = 10**9  # measure the API, not the rate limiter's refusals

    from tidings.accounts.permissions import system_principal
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create
    from tidings.contacts import actions, selectors
    from tidings.tenancy.context import use_workspace

    owner, workspace = bench_workspace("bench-api")
    _, secret = api_token_create(
        workspace=workspace, user=owner, name="bench", principal=principal_for_user(owner, workspace)
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()

    rows = list(generate(args.rows))
    print(f"# bench_contacts_api: {args.rows:,} contacts, var {os.environ['TIDINGS_VAR_DIR']}")
    started = time.perf_counter()
    with use_workspace(workspace):
        actions.contacts_bulk_upsert(
            rows, lawful_basis="consent", tags=["bench"], principal=system_principal(workspace, reason="command:bench")
        )
    print(f"loaded in {time.perf_counter() - started:.1f} s")

    rng = random.Random(11)  # noqa: S311 (made-up people)
    sample = [rows[rng.randrange(len(rows))] for _ in range(args.queries)]

    def api(path, params):
        def call(i):
            response = client.get(path, params(i), **headers)
            assert response.status_code == 200, response.content[:300]

        return call

    def selector(fn):
        def call(i):
            with use_workspace(workspace):
                fn(i)

        return call

    cases = [
        (
            "exact email",
            selector(lambda i: selectors.contact_search(sample[i]["email"], limit=50)),
            api("/api/v1/contacts", lambda i: {"search": sample[i]["email"]}),
            api("/api/contacts", lambda i: {"search": f"email:{sample[i]['email']}"}),
        ),
        (
            "name word",
            selector(lambda i: selectors.contact_search(sample[i]["lastname"], limit=50)),
            api("/api/v1/contacts", lambda i: {"search": sample[i]["lastname"], "limit": 50}),
            api("/api/contacts", lambda i: {"search": sample[i]["lastname"], "limit": 50}),
        ),
        (
            "list page, 50 by -points",
            selector(lambda i: selectors.contacts_page(order="-points", limit=50)),
            api("/api/v1/contacts", lambda i: {"order": "-points", "limit": 50}),
            api("/api/contacts", lambda i: {"orderBy": "points", "orderByDir": "DESC", "limit": 50}),
        ),
    ]
    print(f"\n## API search latency at {args.rows:,} contacts ({args.queries} requests each; target p99 < 300 ms)")
    print("Mautic-compatible lists also count the matches (their total), which the native API does not.")
    for name, baseline, native, mautic in cases:
        figures = {
            label: timed(fn, args.queries)
            for label, fn in (("selector", baseline), ("native", native), ("mautic", mautic))
        }
        base50 = percentile(figures["selector"], 0.5)
        for label, samples in figures.items():
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            ratio = "" if label == "selector" else f"   p50 x{p50 / base50:5.2f} of the selector"
            print(f"{name:26s} {label:9s} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms{ratio}")


if __name__ == "__main__":
    main()
