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
import time
from collections.abc import Iterator

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


# ----------------------------------------------------------------------------------------------
# 1. Import


def plain_insert(connection, rows: Iterator[dict], workspace_id: int, batch: int = 1000) -> tuple[int, float]:
    """Insert the rows, values in clear, into a copy of the contact table; return (rows, seconds)."""
    from django.utils import timezone

    clone_table(connection, "contacts_contact", "bench_plain_contact")
    sql = (
        f'INSERT INTO "bench_plain_contact" ({", ".join(PLAIN_COLUMNS)}) '  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(PLAIN_COLUMNS))})"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    def params():
        for row in rows:
            profile = json.dumps({k: row[k] for k in ("email", "firstname", "lastname", "phone")}).encode()
            yield [workspace_id, profile, row["email"].rpartition("@")[2], "", "", row["city"], "", "",
                   row["country"], "", "", "", row["points"], "consent", "{}", now, now]  # fmt: skip

    started = time.perf_counter()
    count = executemany_batches(connection, sql, params(), batch)
    return count, time.perf_counter() - started


def plain_update(connection, rows: Iterator[dict], batch: int = 1000) -> tuple[int, float]:
    """Update city and points of the plain table's rows by id (1, 2, ... in import order); return (rows, seconds)."""
    sql = 'UPDATE "bench_plain_contact" SET city = %s, points = %s WHERE id = %s'
    with connection.cursor() as cursor:
        cursor.execute('SELECT MIN(id) FROM "bench_plain_contact"')
        first_id = cursor.fetchone()[0]
    started = time.perf_counter()
    count = executemany_batches(
        connection, sql, ([row["city"], row["points"], first_id + i] for i, row in enumerate(rows)), batch
    )
    return count, time.perf_counter() - started


def changed(rows: Iterator[dict]) -> Iterator[dict]:
    """Yield the rows as a second import of the same list would bring them: new city and points."""
    for row in rows:
        yield {**row, "city": f"{row['city']} North", "points": row["points"] + 1}


# ----------------------------------------------------------------------------------------------
# 2. Latency


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
    add_database_arguments(parser)
    parser.add_argument("--no-http", action="store_true", help="skip the UI page and API probes")
    parser.add_argument("--custom", choices=["none", "clear", "indexed"], default="none",
                        help="two clear custom fields per row (plan, seats), optionally filter-indexed")  # fmt: skip
    args = parser.parse_args()

    with databases(args, prefix="bench_contacts"):
        os.environ["TIDINGS_API_RATE_LIMIT"] = str(10**9)  # the bench is one client asking thousands of times
        run(args)


def run(args) -> None:
    django_setup()

    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions
    from tidings.contacts.models import ContactEvent, EventType
    from tidings.tenancy.context import use_workspace

    owner, workspace = bench_workspace()
    connection = region_connection()
    print(f"# bench_contacts: {args.rows:,} contacts on {engine(connection)}, {os.cpu_count()} cores")
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
    event_bytes = table_bytes(connection, ContactEvent._meta.db_table)  # the store moved to events_event
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
