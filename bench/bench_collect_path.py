"""Profile the collect request path in one process, without a server: CPU time a hit and where it goes.

    python bench/bench_collect_path.py                 # 20,000 POST /t/collect through the lean front
    python bench/bench_collect_path.py --profile       # and cProfile's top functions

Calls the WSGI front (tidings.tracking.collect.front.make_application) directly with bench_tracking's
body (a fresh client id, one of 1,000 signed visitor ids, a legitimate-interest site), in process
mode (the hits are only appended to the spool, as under `tidings serve`). What is measured is the
Python a Granian worker runs per hit, without the server's own HTTP cost.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time

from harness import add_database_arguments, bench_workspace, databases, django_setup, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--hits", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime or cumulative")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after the warm-up (as the front does)")
    args = parser.parse_args()
    os.environ["TIDINGS_TRACKING_FLUSHER"] = "process"
    os.environ["TIDINGS_TRACKING_RATE_PER_SITE"] = os.environ["TIDINGS_TRACKING_RATE_PER_NETWORK"] = "1e9"
    with databases(args, prefix="bench_collect"):
        django_setup()
        from tidings.tenancy.context import use_workspace
        from tidings.tracking.collect.decide import visitor_token
        from tidings.tracking.collect.front import make_application
        from tidings.tracking.models import Site, new_public_key

        _owner, workspace = bench_workspace("collect")
        with use_workspace(workspace):
            site = Site.objects.create(
                workspace_id=workspace.pk, name="Bench", public_key=new_public_key("eu"), domains=["bench.example"],
                consent_mode="legitimate_interest",
            )  # fmt: skip
        tokens = [visitor_token(workspace.pk, 10_000_000 + n) for n in range(1000)]
        application = make_application(lambda environ, start_response: [])
        bodies = [
            (
                f'{{"k":"{site.public_key}","id":"bench{n:016d}","t":"pageview",'
                f'"u":"https://bench.example/page/{n % 50}?utm_source=bench","r":"https://search.example/",'
                f'"v":"{tokens[n % 1000]}"}}'
            ).encode()
            for n in range(args.hits + 1000)
        ]
        statuses = []

        def start_response(status, headers):
            statuses.append(status)

        def call(body: bytes) -> None:
            environ = {
                "REQUEST_METHOD": "POST", "PATH_INFO": "/t/collect", "QUERY_STRING": "",
                "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "text/plain;charset=UTF-8",
                "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "198.51.100.7",
                "HTTP_ORIGIN": "https://bench.example",
                "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/120.0.0.0 Safari/537.36",
            }  # fmt: skip
            b"".join(application(environ, start_response))

        for body in bodies[args.hits :]:  # warm-up: caches (site, consent, user agent, salt)
            call(body)
        statuses.clear()
        if args.gc_freeze:
            import gc

            gc.freeze()
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        cpu = time.process_time()
        for body in bodies[: args.hits]:
            call(body)
        cpu = time.process_time() - cpu
        if profile:
            profile.disable()
        accepted = statuses.count("202 Accepted")
        print(f"{args.hits:,} hits ({accepted:,} accepted): CPU {cpu / args.hits * 1000:.3f} ms a hit; {load()}")
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(40)


if __name__ == "__main__":
    main()
