# ruff: noqa: S608 (SQL built from this file's own constants and expressions, never from input)
"""Benchmark filters on a clear custom field (the `custom` JSON column) with and without an index path.

    python bench/bench_custom_index.py --rows 1000000                       # SQLite, a throw-away file
    python bench/bench_custom_index.py --rows 1000000 --database postgresql  # a table in --pg-url

A table shaped like contacts_contact where filtering is concerned (id, workspace_id, points,
a JSON `custom` with a text field `plan` of 1,000 values, a number `score` of 10,000 values, an
ISO date `signup` and a filler string, plus a padding column for the encrypted profile) holds
--rows contacts of the measured workspace and a tenth as many of another. Each variant is timed
on the same rows, in the same run, with the median of --repeat runs:

- none: the JSON expression, no index (what a filter costs today);
- expression: an index on (workspace_id, <the same JSON expression>), the path decision
  decisions/0013-custom-field-filter-index.md chose (PostgreSQL: custom -> 'alias', jsonb ordering; SQLite:
  json_extract(custom, '$.alias'));
- generated (SQLite only): a VIRTUAL generated column json_extract(...) and an index on it;
- side table: (workspace_id, field_id, contact_id, value_text, value_num) indexed on
  (workspace_id, field_id, value_text) and (workspace_id, field_id, value_num), joined by id.

Queries: equality on plan (0.1% of the workspace), a range on score (0.2%), and their count.
Write cost: inserting --writes more contacts with each variant in place (the side table gets one
row per clear custom value, as the write path would have to add).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time

from harness import timed

PLAN_VALUES = 1000
SCORE_VALUES = 10_000
OTHER_WORKSPACE = 2
WORKSPACE = 1


def median_ms(run, repeat: int) -> float:
    return statistics.median(timed(lambda i: run(), repeat, warm=False))


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


class Engine:
    placeholder = "?"

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql: str, params=None):
        cursor = self.connection.cursor()
        cursor.execute(sql, params or ())
        return cursor

    def fetch(self, sql: str, params=None):
        return self.execute(sql, params).fetchall()

    def commit(self):
        self.connection.commit()


class SQLite(Engine):
    name = "SQLite " + sqlite3.sqlite_version
    json_type = "TEXT"

    def plan(self):
        return "json_extract(custom, '$.plan')"

    def score(self):
        return "json_extract(custom, '$.score')"

    def fill(self, rows: int, first_id: int, workspace: int):
        self.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows - 1})
            INSERT INTO bench_contact (id, workspace_id, points, profile, custom)
            SELECT {first_id} + i, {workspace}, i % 100, randomblob(180),
                   json_object('plan', 'plan' || ((i * 7919) % {PLAN_VALUES}),
                               'score', (i * 104729) % {SCORE_VALUES},
                               'signup', date('2020-01-01', '+' || (i % 1500) || ' days'),
                               'note', 'some clear text ' || (i % 97))
            FROM n
            """
        )
        self.commit()

    def create(self):
        self.execute("DROP TABLE IF EXISTS bench_contact")
        self.execute("DROP TABLE IF EXISTS bench_value")
        self.execute(
            "CREATE TABLE bench_contact (id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,"
            " points INTEGER NOT NULL, profile BLOB, custom TEXT NOT NULL)"
        )
        self.execute("CREATE INDEX bench_contact_ws ON bench_contact (workspace_id, id)")

    def side_table(self):
        self.execute(
            "CREATE TABLE bench_value (id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,"
            " field_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, value_text TEXT, value_num REAL)"
        )

    def add_generated(self):
        for name, kind in (("plan", "TEXT"), ("score", "REAL")):
            self.execute(
                f"ALTER TABLE bench_contact ADD COLUMN g_{name} {kind}"
                f" GENERATED ALWAYS AS (json_extract(custom, '$.{name}')) VIRTUAL"
            )

    def analyze(self):
        self.execute("ANALYZE")
        self.commit()


class Postgres(Engine):
    placeholder = "%s"
    json_type = "jsonb"

    def __init__(self, connection):
        super().__init__(connection)
        self.name = "PostgreSQL " + self.fetch("SHOW server_version")[0][0]

    def plan(self):
        return "(custom -> 'plan')"

    def score(self):
        return "(custom -> 'score')"

    def fill(self, rows: int, first_id: int, workspace: int):
        self.execute(
            f"""
            INSERT INTO bench_contact (id, workspace_id, points, profile, custom)
            SELECT {first_id} + i, {workspace}, i % 100, decode(md5(i::text) || md5((i+1)::text), 'hex'),
                   jsonb_build_object('plan', 'plan' || ((i::bigint * 7919) % {PLAN_VALUES}),
                                      'score', (i::bigint * 104729) % {SCORE_VALUES},
                                      'signup', to_char(date '2020-01-01' + (i % 1500), 'YYYY-MM-DD'),
                                      'note', 'some clear text ' || (i % 97))
            FROM generate_series(0, {rows - 1}) AS i
            """
        )
        self.commit()

    def create(self):
        self.execute("DROP TABLE IF EXISTS bench_contact")
        self.execute("DROP TABLE IF EXISTS bench_value")
        self.execute(
            "CREATE TABLE bench_contact (id bigint PRIMARY KEY, workspace_id bigint NOT NULL,"
            " points integer NOT NULL, profile bytea, custom jsonb NOT NULL)"
        )
        self.execute("CREATE INDEX bench_contact_ws ON bench_contact (workspace_id, id)")
        self.commit()

    def side_table(self):
        self.execute(
            "CREATE TABLE bench_value (id bigserial PRIMARY KEY, workspace_id bigint NOT NULL,"
            " field_id bigint NOT NULL, contact_id bigint NOT NULL, value_text text, value_num double precision)"
        )

    def analyze(self):
        self.execute("ANALYZE")
        self.commit()


def run(engine: Engine, rows: int, repeat: int, writes: int) -> None:
    p = engine.placeholder
    print(f"{engine.name}: {rows:,} contacts in the measured workspace, {rows // 10:,} in another ({load()})")
    engine.create()
    started = time.perf_counter()
    engine.fill(rows, 1, WORKSPACE)
    engine.fill(rows // 10, rows + 1, OTHER_WORKSPACE)
    engine.analyze()
    print(f"  filled in {time.perf_counter() - started:.1f} s")
    plan_value, low, high = "plan123", 100, 119
    if isinstance(engine, Postgres):
        plan_param, low_param, high_param = '"plan123"', str(low), str(high)
        cast = "::jsonb"
    else:
        plan_param, low_param, high_param, cast = plan_value, low, high, ""
    queries = {
        "equality ids": (
            f"SELECT id FROM bench_contact WHERE workspace_id = {p} AND {engine.plan()} = {p}{cast}",
            (WORKSPACE, plan_param),
        ),
        "range ids": (
            f"SELECT id FROM bench_contact WHERE workspace_id = {p} AND {engine.score()} >= {p}{cast}"
            f" AND {engine.score()} <= {p}{cast}",
            (WORKSPACE, low_param, high_param),
        ),
        "equality count": (
            f"SELECT count(*) FROM bench_contact WHERE workspace_id = {p} AND {engine.plan()} = {p}{cast}",
            (WORKSPACE, plan_param),
        ),
    }
    expected = {name: engine.fetch(sql, params) for name, (sql, params) in queries.items()}
    results: dict[str, dict[str, float]] = {}

    def measure(variant: str, queries: dict) -> None:
        results[variant] = {}
        for name, (sql, params) in queries.items():
            got = engine.fetch(sql, params)
            assert sorted(got) == sorted(expected[name]), (variant, name)
            results[variant][name] = median_ms(lambda sql=sql, params=params: engine.fetch(sql, params), repeat)

    def write_cost(variant: str, side: bool = False) -> None:
        first = rows + rows // 10 + 1  # the rows are deleted after each variant
        started = time.perf_counter()
        engine.fill(writes, first, WORKSPACE)
        if side:
            insert_side(first, writes)
        results[variant]["insert"] = (time.perf_counter() - started) * 1000
        engine.execute(f"DELETE FROM bench_contact WHERE id >= {p}", (first,))
        if side:
            engine.execute(f"DELETE FROM bench_value WHERE contact_id >= {p}", (first,))
        engine.commit()

    def insert_side(first_id: int = 0, limit: int = 0) -> None:
        where = f"WHERE id >= {first_id}" if first_id else ""
        plan = "json_extract(custom, '$.plan')" if isinstance(engine, SQLite) else "custom ->> 'plan'"
        score = "json_extract(custom, '$.score')" if isinstance(engine, SQLite) else "(custom ->> 'score')::float8"
        engine.execute(
            f"INSERT INTO bench_value (workspace_id, field_id, contact_id, value_text, value_num)"
            f" SELECT workspace_id, 1, id, {plan}, NULL FROM bench_contact {where}"
        )
        engine.execute(
            f"INSERT INTO bench_value (workspace_id, field_id, contact_id, value_text, value_num)"
            f" SELECT workspace_id, 2, id, NULL, {score} FROM bench_contact {where}"
        )
        engine.commit()

    measure("none", queries)
    write_cost("none")

    started = time.perf_counter()
    engine.execute(f"CREATE INDEX bench_plan ON bench_contact (workspace_id, {engine.plan()})")
    engine.execute(f"CREATE INDEX bench_score ON bench_contact (workspace_id, {engine.score()})")
    engine.commit()
    engine.analyze()
    build = (time.perf_counter() - started) * 1000
    measure("expression", queries)
    results["expression"]["build (2 indexes)"] = build
    write_cost("expression")
    engine.execute("DROP INDEX bench_plan")
    engine.execute("DROP INDEX bench_score")
    engine.commit()

    if isinstance(engine, SQLite):
        started = time.perf_counter()
        engine.add_generated()
        engine.execute("CREATE INDEX bench_g_plan ON bench_contact (workspace_id, g_plan)")
        engine.execute("CREATE INDEX bench_g_score ON bench_contact (workspace_id, g_score)")
        engine.commit()
        engine.analyze()
        build = (time.perf_counter() - started) * 1000
        generated = {
            "equality ids": (
                "SELECT id FROM bench_contact WHERE workspace_id = ? AND g_plan = ?",
                (WORKSPACE, plan_value),
            ),
            "range ids": (
                "SELECT id FROM bench_contact WHERE workspace_id = ? AND g_score >= ? AND g_score <= ?",
                (WORKSPACE, low, high),
            ),
            "equality count": (
                "SELECT count(*) FROM bench_contact WHERE workspace_id = ? AND g_plan = ?",
                (WORKSPACE, plan_value),
            ),
        }
        measure("generated", generated)
        results["generated"]["build (2 indexes)"] = build
        write_cost("generated")
        engine.execute("DROP INDEX bench_g_plan")
        engine.execute("DROP INDEX bench_g_score")
        engine.commit()

    started = time.perf_counter()
    engine.side_table()
    insert_side()
    engine.execute("CREATE INDEX bench_value_text ON bench_value (workspace_id, field_id, value_text, contact_id)")
    engine.execute("CREATE INDEX bench_value_num ON bench_value (workspace_id, field_id, value_num, contact_id)")
    engine.commit()
    engine.analyze()
    build = (time.perf_counter() - started) * 1000
    side = {
        "equality ids": (
            f"SELECT c.id FROM bench_contact c WHERE c.workspace_id = {p} AND c.id IN"
            f" (SELECT contact_id FROM bench_value WHERE workspace_id = {p} AND field_id = 1 AND value_text = {p})",
            (WORKSPACE, WORKSPACE, plan_value),
        ),
        "range ids": (
            f"SELECT c.id FROM bench_contact c WHERE c.workspace_id = {p} AND c.id IN"
            f" (SELECT contact_id FROM bench_value WHERE workspace_id = {p} AND field_id = 2"
            f" AND value_num >= {p} AND value_num <= {p})",
            (WORKSPACE, WORKSPACE, low, high),
        ),
        "equality count": (
            f"SELECT count(*) FROM bench_contact c WHERE c.workspace_id = {p} AND c.id IN (SELECT contact_id FROM"
            f" bench_value WHERE workspace_id = {p} AND field_id = 1 AND value_text = {p})",
            (WORKSPACE, WORKSPACE, plan_value),
        ),
    }
    measure("side table", side)
    results["side table"]["build (2 indexes)"] = build
    write_cost("side table", side=True)

    names = list(queries) + ["build (2 indexes)", "insert"]
    print(f"  {f'ms (median of {repeat})':<22}" + "".join(f"{variant:>14}" for variant in results))
    for name in names:
        label = f"insert {writes:,}" if name == "insert" else name
        cells = "".join(f"{results[v][name]:>14.2f}" if name in results[v] else f"{'-':>14}" for v in results)
        print(f"  {label:<22}{cells}")
    matched = f"equality {len(expected['equality ids']):,}, range {len(expected['range ids']):,}"
    print(f"  rows matched: {matched} ({load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--writes", type=int, default=20_000, help="contacts inserted to measure the write cost")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://tidings:tidings@127.0.0.1:55432/tidings_eu_bulk")
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            connection = sqlite3.connect(os.path.join(folder, "bench.sqlite3"))
            connection.execute("PRAGMA journal_mode=WAL")
            run(SQLite(connection), args.rows, args.repeat, args.writes)
            connection.close()
    else:
        import psycopg

        with psycopg.connect(args.pg_url) as connection:
            engine = Postgres(connection)
            try:
                run(engine, args.rows, args.repeat, args.writes)
            finally:
                engine.execute("DROP TABLE IF EXISTS bench_contact")
                engine.execute("DROP TABLE IF EXISTS bench_value")
                engine.commit()


if __name__ == "__main__":
    main()
