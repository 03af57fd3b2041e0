"""Cookieless counting: every accepted hit counted without an identifier (issue 10, "Consent and privacy").

How a visitor is counted without a cookie, a device id or a stored IP address:

1. At request time the collect endpoint calls digest(site_id, ip, user_agent, at): an HMAC-SHA256,
   cut to 16 bytes, of "site|ip|user agent" under a random 32-byte salt of the workspace and the UTC
   day. The full IP is used in memory only; the digest goes into the spool instead.
2. count(hits) adds page views and unique visitors per site, day and dimension (total, page,
   referrer host, UTM source/medium/campaign, device type, OS, browser, country) to TrafficDay, and
   the site's totals per hour to TrafficHour. A visitor is unique per day and value because each
   (site, day, dimension, value, digest) is inserted once into TrafficSighting with ON CONFLICT DO
   NOTHING: the rows actually inserted are the visitors to add. A batch is a few statements whatever
   its size (one for the sightings, one for the days, one for the hours, chunked on SQLite).
3. Once an hour purge_expired deletes the salts and sightings of days that began more than 48 hours
   ago, and hourly totals older than 48 hours. From then on nothing can tell whether a given IP
   address and browser visited that day: only the aggregates remain.

Where the salt lives: in the region database, one per workspace and day (TrafficSalt, a tenant
table). tracking is a tenant app (an app holds tenant or global tables, never both: the router
routes its data migrations by app), the key stays in the region its visitors' data belongs to and
goes with the workspace's data when that is deleted, row-level security covers it like every tenant
table, and no two workspaces share a key (a leaked salt helps with one workspace's digests of one
day only). digest() therefore runs inside the site's workspace (use_workspace), which the collect
path enters from the site key anyway. The salt is created race-safely (INSERT ... ON CONFLICT DO
NOTHING, then read the winner) and cached in process per workspace and day.

Why a visitor on Monday and on Tuesday is two visitors: the salt changes at midnight UTC, so a
period's "visitors" is the sum of its daily unique visitors (visitor-days), as in other cookieless
analytics. Hits older than the sightings' window (a spool replayed after two days) add page views
but no visitors: they could no longer be deduplicated, and counting them again would inflate.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.tenancy.context import ActiveWorkspace, current_workspace, require_workspace, use_workspace
from tidings.tracking.models_traffic import Dimension, TrafficDay, TrafficHour, TrafficSalt, TrafficSighting

logger = logging.getLogger(__name__)

SALT_BYTES = 32
DIGEST_BYTES = 16
KEY_LIFETIME = datetime.timedelta(hours=48)  # salts, sightings and hourly totals
MAX_VALUE_LENGTH = 2000  # characters of a value kept (URLs are stripped of query and fragment before)
SQLITE_ROWS_PER_STATEMENT = 4000  # 8 columns each: under SQLite's 32,766 variables per statement
UTC = datetime.UTC


@dataclass(frozen=True, slots=True)
class TrafficHit:
    """One accepted hit, reduced to what the cookieless counts need (nothing that names a person).

    digest is digest(site_id, ip, user_agent, at), computed at request time; url is stripped of its
    query string and fragment (events.registry.strip_url); referrer_host is the referring page's host
    ("" when direct or from the site itself); device is a token such as "desktop", "mobile",
    "tablet"; country an ISO 3166 alpha-2 code or "". is_pageview is False for events, which count
    a visitor but no page view.
    """

    workspace_id: int
    site_id: int
    at: datetime.datetime
    digest: bytes
    url: str = ""
    referrer_host: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    device: str = ""
    os: str = ""
    browser: str = ""
    country: str = ""
    is_pageview: bool = True

    def dimensions(self) -> tuple[tuple[int, str], ...]:
        """Return (dimension, value) for every breakdown this hit counts in; "" is the "none" value."""
        return (
            (Dimension.TOTAL, ""),
            (Dimension.PAGE, self.url),
            (Dimension.REFERRER, self.referrer_host),
            (Dimension.UTM_SOURCE, self.utm_source),
            (Dimension.UTM_MEDIUM, self.utm_medium),
            (Dimension.UTM_CAMPAIGN, self.utm_campaign),
            (Dimension.DEVICE, self.device),
            (Dimension.OS, self.os),
            (Dimension.BROWSER, self.browser),
            (Dimension.COUNTRY, self.country),
        )


# ----------------------------------------------------------------------------------------------
# The daily salt and the digest

_salts: dict[tuple[int, datetime.date], bytes] = {}
_salts_lock = threading.Lock()


def utc_day(at: datetime.datetime) -> datetime.date:
    """Return the UTC day of an aware datetime (a naive one is taken as UTC)."""
    if timezone.is_naive(at):
        return at.date()
    return at.astimezone(UTC).date()


def _oldest_live_day(now: datetime.datetime) -> datetime.date:
    """Return the oldest day whose salt and sightings still exist at now (today and yesterday)."""
    return utc_day(now - KEY_LIFETIME) + datetime.timedelta(days=1)


def daily_salt(day: datetime.date) -> bytes:
    """Return the current workspace's salt of day, creating it on first use; cached in process.

    Two processes creating the same day's salt at once both insert with ON CONFLICT DO NOTHING and
    then read the row that won, so they agree. Raise ValueError for a day whose salt is already
    deleted (older than yesterday): a new random salt would silently count its visitors twice.
    """
    workspace = require_workspace()
    key = (workspace.id, day)
    salt = _salts.get(key)
    if salt is not None:
        return salt
    if day < _oldest_live_day(timezone.now()):
        raise ValueError("the salt of that day has been deleted")
    with transaction.atomic(using=workspace.db_alias):
        TrafficSalt.objects.bulk_create(
            [TrafficSalt(workspace_id=workspace.id, day=day, salt=secrets.token_bytes(SALT_BYTES))],
            ignore_conflicts=True,
        )
        stored = TrafficSalt.objects.filter(day=day).values_list("salt", flat=True).get()
    salt = bytes(stored)
    with _salts_lock:
        oldest = day - datetime.timedelta(days=1)
        for cached in [k for k in _salts if k[1] < oldest]:
            del _salts[cached]  # the table's copy goes with the purge; the process's with the day
        _salts[key] = salt
    return salt


def forget_cached_salts() -> None:
    """Drop the process's cached salts (tests, and a purge that deleted the table's)."""
    with _salts_lock:
        _salts.clear()


def digest(site_id: int, ip: str, user_agent: str, at: datetime.datetime) -> bytes:
    """Return the 16-byte cookieless digest of a visitor of site_id at `at`, in the current workspace.

    HMAC-SHA256 under the workspace's salt of at's UTC day, of "site|ip|user agent" (the user agent
    last, so a "|" in it cannot shift the fields). Stable within a day, unrelated across days and
    sites. Raise NoWorkspaceSet outside a workspace, ValueError for a day whose salt is deleted.
    """
    salt = daily_salt(utc_day(at))
    message = f"{int(site_id)}|{ip}|{user_agent}".encode("utf-8", "surrogatepass")
    return hmac.digest(salt, message, "sha256")[:DIGEST_BYTES]  # one-shot, in C: the same bytes as hmac.new


def value_key(value: str) -> int:
    """Return the signed 64-bit key of a dimension's value (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)


# ----------------------------------------------------------------------------------------------
# Counting


def count(hits: Sequence[TrafficHit], *, now: datetime.datetime | None = None) -> int:
    """Add hits to the cookieless counts; return how many hits were counted.

    Hits of several workspaces may come in one batch: each workspace's share is written inside that
    workspace, in one transaction of its region database. A hit of a workspace that no longer exists
    is dropped with it. Re-counting a hit adds its page view again but never its visitor (the
    caller deduplicates hits by their client event id; the sightings deduplicate visitors).
    """
    from tidings.tenancy.selectors import workspace_by_id

    now = now or timezone.now()
    by_workspace: dict[int, list[TrafficHit]] = {}
    for hit in hits:
        by_workspace.setdefault(int(hit.workspace_id), []).append(hit)
    counted = 0
    active = current_workspace()
    for workspace_id, group in by_workspace.items():
        workspace: Any = active if active is not None and active.id == workspace_id else workspace_by_id(workspace_id)
        if workspace is None:
            continue
        with use_workspace(workspace) as entered:
            _count_in_workspace(entered, group, now)
        counted += len(group)
    return counted


# The batch is staged in a temporary table, then counted by set-based SQL (docs/decisions/0019): per-hit
# Python is one staging row; the breakdown into dimensions, the distinct sightings and the per-day and
# per-hour sums are GROUP BYs in the database. Temporary tables are the connection's own (no row-level
# security, no other reader) and emptied before each use, so a batch rolled back leaves nothing behind.
STAGE = "tracking_traffic_stage"
NEW_SIGHTINGS = "tracking_traffic_new"
# Dimensions 1..9 in the stage's (key, value) column pairs; TOTAL's value is always "" (its key a constant).
_STAGED_DIMENSIONS = (
    Dimension.PAGE, Dimension.REFERRER, Dimension.UTM_SOURCE, Dimension.UTM_MEDIUM, Dimension.UTM_CAMPAIGN,
    Dimension.DEVICE, Dimension.OS, Dimension.BROWSER, Dimension.COUNTRY,
)  # fmt: skip
_STAGE_COLUMNS = (
    ("site_id", "bigint"), ("day", "date"), ("hour", "timestamptz"), ("hour_of_day", "smallint"),
    ("digest", "bytea"), ("view", "smallint"), ("live", "smallint"), ("hour_live", "smallint"),
    *((name, kind) for n in range(1, 10) for name, kind in ((f"k{n}", "bigint"), (f"v{n}", "text"))),
)  # fmt: skip
_NEW_COLUMNS = (("site_id", "bigint"), ("day", "date"), ("dimension", "smallint"), ("value_key", "bigint"),
                ("digest", "bytea"))  # fmt: skip
_TOTAL_KEY = value_key("")
_value_keys: dict[str, int] = {}  # value -> value_key, across batches (pages and referrers repeat)
_VALUE_KEYS_KEPT = 100_000


def _key_of(value: str) -> int:
    key = _value_keys.get(value)
    if key is None:
        if len(_value_keys) >= _VALUE_KEYS_KEPT:
            _value_keys.clear()
        key = _value_keys[value] = value_key(value)
    return key


def _count_in_workspace(workspace: ActiveWorkspace, hits: Sequence[TrafficHit], now: datetime.datetime) -> None:
    connection = connections[workspace.db_alias]
    postgresql = connection.vendor == "postgresql"
    oldest_live_day = _oldest_live_day(now)
    oldest_hour = now - KEY_LIFETIME  # an hour is kept while it began within 48 hours
    hours: dict[tuple[datetime.date, int], tuple[Any, int]] = {}  # (day, hour) -> (as the database takes it, live)
    rows = []
    for hit in hits:
        at = hit.at
        if at.tzinfo is not UTC:  # naive is UTC; any other zone is converted
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        day, hour_of_day = at.date(), at.hour
        hour = hours.get((day, hour_of_day))
        if hour is None:
            start = datetime.datetime.combine(day, datetime.time(hour=hour_of_day), tzinfo=UTC)
            stored = start if postgresql else start.strftime("%Y-%m-%d %H:%M:%S")
            hour = hours[(day, hour_of_day)] = (stored, 1 if start >= oldest_hour else 0)
        row = [hit.site_id, day if postgresql else day.isoformat(), hour[0], hour_of_day, bytes(hit.digest),
               1 if hit.is_pageview else 0, 1 if day >= oldest_live_day else 0, hour[1]]  # fmt: skip
        for raw in (hit.url, hit.referrer_host, hit.utm_source, hit.utm_medium, hit.utm_campaign, hit.device, hit.os,
                    hit.browser, hit.country):  # fmt: skip
            value = (raw or "")[:MAX_VALUE_LENGTH]
            row += (_key_of(value), value)
        rows.append(row)
    if not rows:
        return
    with transaction.atomic(using=workspace.db_alias):
        _stage(connection, rows)
        _count_staged(connection, workspace.id)


def _temporary_table(connection, cursor, name: str, columns: Sequence[tuple[str, str]]) -> None:
    """Create the connection's temporary table name if it does not exist yet, and empty it."""
    if connection.vendor == "postgresql":
        definition = ", ".join(f"{column} {kind}" for column, kind in columns)
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({definition}) ON COMMIT DELETE ROWS")
    else:  # SQLite: no column types needed (dates and hours are ISO text, as Django stores them)
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({', '.join(c for c, _ in columns)})")
    cursor.execute(f"DELETE FROM {name}")  # noqa: S608 (our table)


def _stage(connection, rows: list) -> None:
    """Put the batch's rows into the stage (one statement on PostgreSQL, one executemany on SQLite)."""
    from tidings.tenancy.bulk import _pg_arrays, _pg_binding_cursor

    names = ", ".join(column for column, _ in _STAGE_COLUMNS)
    if connection.vendor == "postgresql":
        with _pg_binding_cursor(connection) as cursor:
            _temporary_table(connection, cursor, STAGE, _STAGE_COLUMNS)
            _temporary_table(connection, cursor, NEW_SIGHTINGS, _NEW_COLUMNS)
            arrays = ", ".join(f"%b::{kind}[]" for _, kind in _STAGE_COLUMNS)
            cursor.execute(f"INSERT INTO {STAGE} ({names}) SELECT * FROM unnest({arrays})",  # noqa: S608 (ours)
                           _pg_arrays(rows, len(_STAGE_COLUMNS)))  # fmt: skip
        return
    with connection.cursor() as cursor:
        _temporary_table(connection, cursor, STAGE, _STAGE_COLUMNS)
        _temporary_table(connection, cursor, NEW_SIGHTINGS, _NEW_COLUMNS)
        placeholders = ", ".join(["%s"] * len(_STAGE_COLUMNS))
        cursor.executemany(f"INSERT INTO {STAGE} ({names}) VALUES ({placeholders})", rows)  # noqa: S608 (ours)


def _dimensions_sql() -> str:
    """Return the CTE "dims": each staged hit once per dimension (site, day, dimension, key, value, digest...)."""
    total = f"SELECT site_id, day, {int(Dimension.TOTAL)} AS dimension, {_TOTAL_KEY} AS value_key, '' AS value, "
    selects = [total + f"digest, view, live FROM {STAGE}"]
    selects += [f"SELECT site_id, day, {int(dimension)}, k{n}, v{n}, digest, view, live FROM {STAGE}"  # noqa: S608
                for n, dimension in enumerate(_STAGED_DIMENSIONS, start=1)]  # fmt: skip
    return "dims AS (" + " UNION ALL ".join(selects) + ")"


def _count_staged(connection, workspace_id: int) -> None:
    """Count the staged hits: new sightings, then the days' and hours' views and visitors, in three statements.

    A visitor is counted where its sighting was new. On PostgreSQL the sightings are inserted with
    ON CONFLICT DO NOTHING and the rows actually inserted (RETURNING) are the new ones, so two
    flushers racing on one visitor count it once. On SQLite the region transaction holds the write
    lock (IMMEDIATE), so "not there yet" read inside it stays true until the commit.
    """
    quote = connection.ops.quote_name
    sighting, day_table, hour_table = (quote(_table(m)) for m in (TrafficSighting, TrafficDay, TrafficHour))
    hour_dimension = int(Dimension.HOUR)
    candidates = (
        f"candidates AS (SELECT DISTINCT site_id, day, dimension, value_key, digest FROM dims WHERE live = 1 "  # noqa: S608
        f"UNION SELECT site_id, day, {hour_dimension}, hour_of_day, digest FROM {STAGE} WHERE hour_live = 1)"
    )
    sighting_columns = "site_id, day, dimension, value_key, digest"
    if connection.vendor == "postgresql":
        new_sightings = (
            f"WITH {_dimensions_sql()}, {candidates}, inserted AS ("  # noqa: S608 (model tables and ours)
            f"INSERT INTO {sighting} (workspace_id, {sighting_columns}) "
            f"SELECT %s::bigint, {sighting_columns} FROM candidates ORDER BY {sighting_columns} "
            f"ON CONFLICT DO NOTHING RETURNING {sighting_columns}) "
            f"INSERT INTO {NEW_SIGHTINGS} ({sighting_columns}) SELECT {sighting_columns} FROM inserted"
        )
        statements = [(new_sightings, [workspace_id])]
    else:
        statements = [
            (
                f"WITH {_dimensions_sql()}, {candidates} "  # noqa: S608 (model tables and ours)
                f"INSERT INTO {NEW_SIGHTINGS} ({sighting_columns}) SELECT {sighting_columns} FROM candidates AS c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {sighting} AS s WHERE s.workspace_id = %s "
                "AND s.site_id = c.site_id AND s.day = c.day AND s.dimension = c.dimension "
                "AND s.value_key = c.value_key AND s.digest = c.digest)",
                [workspace_id],
            ),
            (
                f"INSERT INTO {sighting} (workspace_id, {sighting_columns}) "  # noqa: S608 (as above)
                f"SELECT %s, {sighting_columns} FROM {NEW_SIGHTINGS} WHERE true ON CONFLICT DO NOTHING",
                [workspace_id],
            ),
        ]
    group = "site_id, day, dimension, value_key"
    on = " AND ".join(f"n.{c} = v.{c}" for c in ("site_id", "day", "dimension", "value_key"))
    statements.append((
        f"WITH {_dimensions_sql()}, "  # noqa: S608 (as above)
        f"v AS (SELECT {group}, MAX(value) AS value, SUM(view) AS views FROM dims GROUP BY {group}), "
        f"n AS (SELECT {group}, COUNT(*) AS visitors FROM {NEW_SIGHTINGS} WHERE dimension <> {hour_dimension} "
        f"GROUP BY {group}) "
        f"INSERT INTO {day_table} (workspace_id, {group}, value, views, visitors) "
        "SELECT %s, v.site_id, v.day, v.dimension, v.value_key, v.value, v.views, COALESCE(n.visitors, 0) "
        f"FROM v LEFT JOIN n ON {on} WHERE true ORDER BY v.site_id, v.day, v.dimension, v.value_key "
        f"ON CONFLICT (workspace_id, {group}) DO UPDATE SET "
        f"views = {day_table}.views + excluded.views, visitors = {day_table}.visitors + excluded.visitors",
        [workspace_id],
    ))  # fmt: skip
    statements.append((
        f"WITH h AS (SELECT site_id, day, hour_of_day, hour, SUM(view) AS views FROM {STAGE} "  # noqa: S608 (as above)
        "WHERE hour_live = 1 GROUP BY site_id, day, hour_of_day, hour), "
        f"n AS (SELECT site_id, day, value_key, COUNT(*) AS visitors FROM {NEW_SIGHTINGS} "
        f"WHERE dimension = {hour_dimension} GROUP BY site_id, day, value_key) "
        f"INSERT INTO {hour_table} (workspace_id, site_id, hour, views, visitors) "
        "SELECT %s, h.site_id, h.hour, h.views, COALESCE(n.visitors, 0) FROM h LEFT JOIN n "
        "ON n.site_id = h.site_id AND n.day = h.day AND n.value_key = h.hour_of_day "
        "WHERE h.views > 0 OR n.visitors > 0 ORDER BY h.site_id, h.hour "
        "ON CONFLICT (workspace_id, site_id, hour) DO UPDATE SET "
        f"views = {hour_table}.views + excluded.views, visitors = {hour_table}.visitors + excluded.visitors",
        [workspace_id],
    ))  # fmt: skip
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _table(model) -> str:
    return model._meta.db_table


# ----------------------------------------------------------------------------------------------
# Deleting the keys after 48 hours


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Delete, in every workspace, the salts and sightings of days begun more than 48 hours before now,
    and hourly totals older than 48 hours; return how many rows were deleted.

    The aggregates (TrafficDay) are kept. The workspaces with something to delete are found across
    regions; each is then purged inside itself, through the scoped managers.
    """
    from tidings.tenancy.selectors import workspace_by_id
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    now = now or timezone.now()
    oldest_day = _oldest_live_day(now)
    oldest_hour = now - KEY_LIFETIME  # an hour is kept while it began within 48 hours
    with dangerously_sweep_workspaces() as across:
        workspace_ids: set[int] = set()
        for model, condition in (
            (TrafficSalt, {"day__lt": oldest_day}),
            (TrafficSighting, {"day__lt": oldest_day}),
            (TrafficHour, {"hour__lt": oldest_hour}),
        ):
            for queryset in across(model):
                workspace_ids.update(queryset.filter(**condition).values_list("workspace_id", flat=True).distinct())
    deleted = 0
    for workspace_id in sorted(workspace_ids):
        workspace = workspace_by_id(workspace_id)
        if workspace is None:
            continue  # its data goes with it
        # _raw_delete: one DELETE per table without loading the rows first (sightings run to millions).
        with use_workspace(workspace), transaction.atomic(using=workspace.db_alias):
            deleted += TrafficSalt.objects.filter(day__lt=oldest_day)._raw_delete(workspace.db_alias)
            deleted += TrafficSighting.objects.filter(day__lt=oldest_day)._raw_delete(workspace.db_alias)
            deleted += TrafficHour.objects.filter(hour__lt=oldest_hour)._raw_delete(workspace.db_alias)
    with _salts_lock:
        for cached in [k for k in _salts if k[1] < oldest_day]:
            del _salts[cached]
    return deleted


@periodic(every=datetime.timedelta(hours=1))
@task()
def purge_traffic_keys() -> int:
    """Delete the cookieless counts' salts and sightings once they are 48 hours old; return the rows deleted."""
    return purge_expired()
