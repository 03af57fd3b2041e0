"""Benchmark the contacts data layer; every figure is printed beside a baseline measured in the same run.

    python bench/bench_contacts.py                          # 100,000 contacts on throw-away SQLite files
    python bench/bench_contacts.py --rows 1000000           # the full run of issue 3
    python bench/bench_contacts.py --database postgresql    # fresh bench_* databases on --pg-server
    python bench/bench_contacts.py --custom indexed         # two clear custom values per row, filter-indexed

1. Import: contacts_bulk_upsert (validation, a per-contact AES-GCM data key, the encrypted
   profile, blind indexes, name tokens, a tag, an imported event, an audit entry per batch)
   against a plain batched INSERT (executemany, one transaction per 1,000 rows) of the same
   rows, values in clear, into a copy of the contact table with the same indexes.
2. Latency p50/p99 at that size: each selector (search by exact email, by name word, domain
   filter, list pages, a cursor page) beside the bare indexed SQL query that finds the same
   rows without decrypting them; then the contact list page (UI) and the API search over HTTP
   through Django's test client (middleware, templates and serialisers included).
3. Bytes on disk per contact (contact row, data key, search tokens, tag link, with their
   indexes) and per event: SQLite dbstat, or pg_total_relation_size on PostgreSQL.

The machine's load average is printed at each step: when other work shares the cores, the
ratios measured in one run are the figures that count, not the absolute rates.

PostgreSQL: with TIDINGS_DATABASE_URL, TIDINGS_DATABASE_URL_US and TIDINGS_DATABASE_URL_EU set,
those databases are used as they are (the bench creates its own workspace in them); otherwise
three fresh databases bench_contacts_<pid>_{global,us,eu} are created on --pg-server and dropped
at the end (--keep keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
LAST = [
    "Quillfeather",
    "Brightwater",
    "Thornbury",
    "Ashdown",
    "Cogsworth",
    "Fenwright",
    "Marlowe-Pike",
    "Okonkwo-Reed",
    "Vandermeer",
    "Lindqvist",
]
CITIES = ["London", "Paris", "Berlin", "Lisbon", "Dublin", "Vienna", "Madrid", "Rome"]
PLAIN_COLUMNS = ["workspace_id", "profile_enc", "email_domain", "company_name", "position", "city", "state",
                 "zipcode", "country", "timezone", "preferred_locale", "website", "points", "lawful_basis", "custom",
                 "created_at", "updated_at"]  # fmt: skip


def generate(count: int, seed: int = 7, custom: bool = False) -> Iterator[dict]:
    """Yield count made-up contacts; the same seed gives the same rows (both imports read them).

    With custom, each row also has two clear custom values: plan (text) and seats (a number).
    """
    rng = random.Random(seed)  # noqa: S311 (made-up people, not secrets)
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        row = {
            "email": f"{first.lower()}.{last.lower()}.{i}@company{i % 997}.example",
            "firstname": first,
            "lastname": f"{last}{i % 50}",
            "phone": f"+44 20 7946 {i % 10000:04d}",
            "city": rng.choice(CITIES),
            "country": "United Kingdom",
            "points": rng.randint(0, 500),
        }
        if custom:
            row["plan"], row["seats"] = f"plan{i % 1000}", rng.randint(1, 500)
        yield row


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# ----------------------------------------------------------------------------------------------
# Databases


def pg_admin_url(server: str, database: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def pg_create_databases(server: str) -> list[str]:
    """Create fresh bench databases on server; point TIDINGS_DATABASE_URL* at them; return their names."""
    import psycopg

    names = [f"bench_contacts_{os.getpid()}_{suffix}" for suffix in ("global", "us", "eu")]
    with psycopg.connect(pg_admin_url(server, "postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    for suffix, name in zip(("", "_US", "_EU"), names, strict=True):
        os.environ[f"TIDINGS_DATABASE_URL{suffix}"] = pg_admin_url(server, name)
    return names


def pg_drop_databases(server: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(pg_admin_url(server, "postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_bytes(connection, table: str) -> int:
    """Return the bytes table and its indexes take on disk."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = %s", [table])
        names = [row[0] for row in cursor.fetchall()]
        placeholders = ",".join(["%s"] * len(names))
        cursor.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({placeholders})", names)  # noqa: S608
        return cursor.fetchone()[0]


def clone_table(connection, source: str, target: str) -> None:
    """Create target, empty, with source's columns and indexes."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{target}"')
        if connection.vendor == "postgresql":
            cursor.execute(f'CREATE TABLE "{target}" (LIKE "{source}" INCLUDING ALL)')
            return
        cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [source])
        for kind, name, sql in sorted(cursor.fetchall(), key=lambda s: s[0] != "table"):
            sql = sql.replace(f'"{source}"', f'"{target}"')
            if kind == "index":
                sql = sql.replace(f'"{name}"', f'"{target}_{name}"')
            cursor.execute(sql)


# ----------------------------------------------------------------------------------------------
# 1. Import


def plain_insert(connection, rows: Iterator[dict], workspace_id: int, batch: int = 1000) -> tuple[int, float]:
    """Insert the rows, values in clear, into a copy of the contact table; return (rows, seconds)."""
    from django.db import transaction
    from django.utils import timezone

    clone_table(connection, "contacts_contact", "bench_plain_contact")
    sql = (
        f'INSERT INTO "bench_plain_contact" ({", ".join(PLAIN_COLUMNS)}) '  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(PLAIN_COLUMNS))})"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    count, params = 0, []
    started = time.perf_counter()

    def flush():
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, params)

    for row in rows:
        profile = json.dumps({k: row[k] for k in ("email", "firstname", "lastname", "phone")}).encode()
        params.append([workspace_id, profile, row["email"].rpartition("@")[2], "", "", row["city"], "", "",
                       row["country"], "", "", "", row["points"], "consent", "{}", now, now])  # fmt: skip
        count += 1
        if len(params) == batch:
            flush()
            params = []
    if params:
        flush()
    return count, time.perf_counter() - started


def plain_update(connection, rows: Iterator[dict], batch: int = 1000) -> tuple[int, float]:
    """Update city and points of the plain table's rows by id (1, 2, ... in import order); return (rows, seconds)."""
    from django.db import transaction

    sql = 'UPDATE "bench_plain_contact" SET city = %s, points = %s WHERE id = %s'
    with connection.cursor() as cursor:
        cursor.execute('SELECT MIN(id) FROM "bench_plain_contact"')
        first_id = cursor.fetchone()[0]
    count, params = 0, []
    started = time.perf_counter()
    for i, row in enumerate(rows):
        params.append([row["city"], row["points"], first_id + i])
        count += 1
        if len(params) == batch:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.executemany(sql, params)
            params = []
    if params:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return count, time.perf_counter() - started


def changed(rows: Iterator[dict]) -> Iterator[dict]:
    """Yield the rows as a second import of the same list would bring them: new city and points."""
    for row in rows:
        yield {**row, "city": f"{row['city']} North", "points": row["points"] + 1}


# ----------------------------------------------------------------------------------------------
# 2. Latency


def timed(fn, repeat: int) -> list[float]:
    """Return repeat timings of fn(i) in milliseconds, after one untimed warm-up call."""
    fn(0)
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bare(connection, sql: str, params_of):
    """Return a probe running sql (a bare indexed query on the same rows) and fetching every row."""

    def run(i):
        with connection.cursor() as cursor:
            cursor.execute(sql, params_of(i))
            cursor.fetchall()

    return run


def latency_checks(connection, workspace, sample: list[dict]):
    """Return [(name, our probe, bare probe or None)]: selectors beside the indexed SQL they come down to."""
    from tidings.contacts import selectors
    from tidings.privacy.vault import keyring, normalise_email, words

    ring = keyring()
    ws = workspace.id
    email_index = [ring.blind_index("email", normalise_email(r["email"])) for r in sample]
    last_token = [ring.blind_index("name", words(r["lastname"])[0]) for r in sample]
    first_token = [ring.blind_index("name", words(r["firstname"])[0]) for r in sample]
    columns = "id, profile_enc, email_domain, city, country, points, last_active, custom"
    table = "contacts_contact"
    by_token = (
        f"SELECT {columns} FROM {table} WHERE workspace_id = %s AND id IN "  # noqa: S608
        "(SELECT contact_id FROM contacts_contactsearchtoken WHERE workspace_id = %s AND token = %s "
        "ORDER BY contact_id DESC LIMIT 51) ORDER BY id DESC"
    )
    second_page = selectors.contacts_page(limit=50)
    last_id = second_page.items[-1].id
    return [
        (
            "exact email (blind index)",
            lambda i: selectors.contact_search(sample[i]["email"], limit=50),
            bare(
                connection,
                f"SELECT {columns} FROM {table} WHERE workspace_id = %s AND email_bidx = %s",  # noqa: S608
                lambda i: [ws, email_index[i]],
            ),
        ),
        (
            "last-name word (1 in 500)",
            lambda i: selectors.contact_search(sample[i]["lastname"], limit=50),
            bare(connection, by_token, lambda i: [ws, ws, last_token[i]]),
        ),
        (
            "first-name word (1 in 12)",
            lambda i: selectors.contact_search(sample[i]["firstname"], limit=50),
            bare(connection, by_token, lambda i: [ws, ws, first_token[i]]),
        ),
        (
            "domain filter (1 in 997)",
            lambda i: selectors.contacts_page(filters={"domain": sample[i]["email"].rpartition("@")[2]}, limit=50),
            bare(
                connection,
                f"SELECT {columns} FROM {table} WHERE workspace_id = %s AND email_domain = %s "  # noqa: S608
                "ORDER BY id DESC LIMIT 51",
                lambda i: [ws, sample[i]["email"].rpartition("@")[2]],
            ),
        ),
        (
            "list by -points, 50/page",
            lambda i: selectors.contacts_page(order="-points", limit=50),
            bare(
                connection,
                f"SELECT {columns} FROM {table} WHERE workspace_id = %s "  # noqa: S608
                "ORDER BY points DESC, id DESC LIMIT 51",
                lambda i: [ws],
            ),
        ),
        (
            "list by -last_active, 50/page",
            lambda i: selectors.contacts_page(order="-last_active", limit=50),
            None,
        ),
        (
            "list by -id, page 2 (cursor)",
            lambda i: selectors.contacts_page(after=second_page.next_cursor, limit=50),
            bare(
                connection,
                f"SELECT {columns} FROM {table} WHERE workspace_id = %s AND id < %s "  # noqa: S608
                "ORDER BY id DESC LIMIT 51",
                lambda i: [ws, last_id],
            ),
        ),
    ]


def http_checks(workspace, owner, sample: list[dict]):
    """Return [(name, probe)] requesting the contact list page and the API search over HTTP.

    Each probe asserts a 200: a failed request must not pass for a fast one.
    """
    from django.test import Client

    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    ui = Client()
    ui.force_login(owner)
    _, secret = api_token_create(
        workspace=workspace, user=owner, name="bench", principal=principal_for_user(owner, workspace)
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    base = f"/w/{workspace.slug}/contacts/"

    def get(client, url, params=None):
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)

    return [
        ("UI list page (default order)", lambda i: get(ui, base)),
        ("UI search: last-name word", lambda i: get(ui, base, {"q": sample[i]["lastname"]})),
        ("UI search: exact email", lambda i: get(ui, base, {"q": sample[i]["email"]})),
        ("UI list sorted by company", lambda i: get(ui, base, {"sort": "company_name"})),
        ("UI filter: country (GB)", lambda i: get(ui, base, {"country": "GB"})),
        ("UI search: city (plain text)", lambda i: get(ui, base, {"q": sample[i]["city"]})),
        ("UI search: no match, hints", lambda i: get(ui, base, {"q": "zz" + sample[i]["lastname"]})),
        ("API list, 50/page", lambda i: get(api, "/api/v1/contacts", {"limit": 50})),
        ("API search: last-name word", lambda i: get(api, "/api/v1/contacts", {"search": sample[i]["lastname"]})),
        ("API search: exact email", lambda i: get(api, "/api/v1/contacts", {"search": sample[i]["email"]})),
    ]


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="contacts to import (default 100,000)")
    parser.add_argument("--events", type=int, default=200_000, help="events to append for the per-event figures")
    parser.add_argument("--queries", type=int, default=200, help="samples per latency probe")
    parser.add_argument("--reimport", type=int, default=20_000, help="rows imported again (all matched, updated)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-server", default="postgresql://tidings:tidings@127.0.0.1:54400/",
                        help="server for fresh bench databases when TIDINGS_DATABASE_URL* are not set")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the fresh PostgreSQL bench databases")
    parser.add_argument("--no-http", action="store_true", help="skip the UI page and API probes")
    parser.add_argument("--custom", choices=["none", "clear", "indexed"], default="none",
                        help="two clear custom fields per row (plan, seats), optionally filter-indexed")  # fmt: skip
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("TIDINGS_VAR_DIR", tempfile.mkdtemp(prefix="tidings-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    os.environ["TIDINGS_API_RATE_LIMIT"] = str(10**9)  # the bench is one client asking thousands of times
    created_databases: list[str] = []
    if args.database == "postgresql" and not os.environ.get("TIDINGS_DATABASE_URL_EU"):
        created_databases = pg_create_databases(args.pg_server)
    try:
        run(args)
    finally:
        if created_databases and not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop_databases(args.pg_server, created_databases)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)  # every database, then the cache table

    from tidings.accounts.actions import user_create, workspace_create
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions
    from tidings.contacts.models import ContactEvent, EventType
    from tidings.tenancy.context import use_workspace

    stamp = f"{os.getpid()}-{int(time.time())}"
    owner = user_create(email=f"bench-{stamp}@bench.example", password=f"not-a-secret-{stamp}")
    workspace = workspace_create(name="Bench", slug=f"bench-{stamp}", region="eu", owner=owner)
    connection = connections["region_eu"]
    connection.ensure_connection()
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.pg_version
    print(f"# bench_contacts: {args.rows:,} contacts on {connection.vendor} {version}, {os.cpu_count()} cores")
    print(f"# {load()}   var {os.environ['TIDINGS_VAR_DIR']}")

    with use_workspace(workspace):
        print("\n## import (ratio = plain seconds / our seconds, same rows, same run)")
        count, plain = plain_insert(connection, generate(args.rows), workspace.id)
        print(
            f"plain batched INSERT, clear, same table and indexes: {count / plain:10,.0f} rows/s     ({plain:7.1f} s)"
        )
        print(f"# {load()}")
        custom = args.custom != "none"
        if custom:
            bench_principal = system_principal(workspace, reason="command:bench")
            for alias, kind in (("plan", "text"), ("seats", "number")):
                field = actions.field_create(alias=alias, label=alias.title(), type=kind, principal=bench_principal)
                if args.custom == "indexed":
                    actions.field_index_set(field.id, principal=bench_principal)
            print(f"custom fields plan and seats in every row, {args.custom}")
        started = time.perf_counter()
        result = actions.contacts_bulk_upsert(
            generate(args.rows, custom=custom),
            lawful_basis="consent",
            tags=["bench"],
            principal=system_principal(workspace, reason="command:bench"),
        )
        ours = time.perf_counter() - started
        assert result.created == args.rows and not result.errors, result
        print(
            f"contacts_bulk_upsert, encrypted and indexed:        {args.rows / ours:10,.0f} contacts/s ({ours:7.1f} s)"
        )
        print(f"ratio ours/plain: {plain / ours:.3f}   target: >= 5,000 contacts/s end to end")
        print(f"# {load()}")
        # Sizes now, before the re-import leaves dead row versions behind on PostgreSQL.
        tables = ["contacts_contact", "privacy_contactkey", "contacts_contactsearchtoken", "contacts_contacttag"]
        sizes = {table: table_bytes(connection, table) for table in [*tables, "bench_plain_contact"]}
        again = min(args.reimport, args.rows)
        if again:
            count, plain = plain_update(connection, changed(generate(again, custom=custom)))
            print(f"plain batched UPDATE of the same rows by id:        {count / plain:10,.0f} rows/s ({plain:7.1f} s)")
            started = time.perf_counter()
            result = actions.contacts_bulk_upsert(
                changed(generate(again, custom=custom)),
                lawful_basis="consent",
                tags=["bench"],
                principal=system_principal(workspace, reason="command:bench"),
            )
            ours = time.perf_counter() - started
            assert result.updated == again and not result.created and not result.errors, result
            print(
                f"re-import, each row matched by email and updated:  {again / ours:10,.0f} contacts/s ({ours:7.1f} s)"
            )
            print(f"ratio ours/plain: {plain / ours:.3f}")
            print(f"# {load()}")

        rng = random.Random(11)  # noqa: S311
        picks = sorted(rng.sample(range(args.rows), min(args.queries, args.rows)))
        sample, wanted = [], iter(picks)
        target = next(wanted, None)
        for i, row in enumerate(generate(args.rows, custom=custom)):
            if i == target:
                sample.append(row)
                target = next(wanted, None)
        rng.shuffle(sample)
        repeat = len(sample)

        print(f"\n## latency at {args.rows:,} contacts, {repeat} samples each (target p99 < 300 ms)")
        print(f"{'probe':32s} {'ours p50':>9s} {'p99':>8s}   {'bare SQL p50':>12s} {'p99':>8s}   ours/bare p50")
        for name, ours_probe, bare_probe in latency_checks(connection, workspace, sample):
            mine = timed(ours_probe, repeat)
            line = f"{name:32s} {percentile(mine, 0.5):7.2f}ms {percentile(mine, 0.99):6.2f}ms"
            if bare_probe is not None:
                base = timed(bare_probe, repeat)
                ratio = percentile(mine, 0.5) / max(percentile(base, 0.5), 1e-6)
                line += f"   {percentile(base, 0.5):10.2f}ms {percentile(base, 0.99):6.2f}ms   {ratio:8.1f}x"
            print(line)
        if not args.no_http:
            print(f"\n## over HTTP (Django test client, middleware and templates included; {load()})")
            try:
                probes = http_checks(workspace, owner, sample)
            except Exception as error:  # noqa: BLE001 (the UI and API are optional for the data-layer figures)
                print(f"skipped: {error!r}")
                probes = []
            for name, probe in probes:
                samples = timed(probe, repeat)
                print(f"{name:32s} {percentile(samples, 0.5):7.2f}ms {percentile(samples, 0.99):6.2f}ms")

        events = (
            {"contact_id": 1 + (i % args.rows), "type": EventType.EMAIL_OPENED, "data": {"email_id": i % 50}}
            for i in range(args.events)
        )
        started = time.perf_counter()
        actions.events_append(events, principal=system_principal(workspace, reason="command:bench"))
        event_seconds = time.perf_counter() - started
        events_total = ContactEvent.objects.count()  # in the workspace: row-level security hides the rest
    event_bytes = table_bytes(connection, "contacts_contactevent")
    plain_bytes = sizes.pop("bench_plain_contact")
    measure = "pg_total_relation_size" if connection.vendor == "postgresql" else "SQLite dbstat"
    print(f"\n## storage ({measure}, tables with their indexes)")
    print(f"per contact, all of its rows:            {sum(sizes.values()) / args.rows:7.0f} bytes")
    for table, size in sizes.items():
        print(f"  {table:38s} {size / args.rows:7.0f} bytes/contact")
    print(f"per contact, plain clear table of the same shape: {plain_bytes / args.rows:7.0f} bytes")
    print(f"per event ({events_total:,} rows, two indexes):     {event_bytes / events_total:7.0f} bytes (budget 250)")
    print(f"events_append: {args.events / event_seconds:,.0f} events/s")
    print(f"# {load()}")


if __name__ == "__main__":
    main()
