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
from collections.abc import Iterable, Sequence
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
    return hmac.new(salt, message, hashlib.sha256).digest()[:DIGEST_BYTES]


def value_key(value: str) -> int:
    """Return the signed 64-bit key of a dimension's value (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)


# ----------------------------------------------------------------------------------------------
# Counting


@dataclass
class _Tally:
    value: str
    views: int = 0
    visitors: int = 0


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


def _count_in_workspace(workspace: ActiveWorkspace, hits: Sequence[TrafficHit], now: datetime.datetime) -> None:
    oldest_live_day = _oldest_live_day(now)
    oldest_hour = now - KEY_LIFETIME  # an hour is kept while it began within 48 hours
    days: dict[tuple[int, datetime.date, int, int], _Tally] = {}
    hours: dict[tuple[int, datetime.datetime], _Tally] = {}
    sightings: set[tuple[int, datetime.date, int, int, bytes]] = set()
    keys: dict[str, int] = {}
    for hit in hits:
        site_id, day, hour = int(hit.site_id), utc_day(hit.at), _hour(hit.at)
        view = 1 if hit.is_pageview else 0
        live = day >= oldest_live_day
        for dimension, raw in hit.dimensions():
            value = (raw or "")[:MAX_VALUE_LENGTH]
            key = keys.get(value)
            if key is None:
                key = keys[value] = value_key(value)
            tally = days.get((site_id, day, dimension, key))
            if tally is None:
                tally = days[(site_id, day, dimension, key)] = _Tally(value)
            tally.views += view
            if live:
                sightings.add((site_id, day, dimension, key, bytes(hit.digest)))
        if hour >= oldest_hour:
            hourly = hours.get((site_id, hour))
            if hourly is None:
                hourly = hours[(site_id, hour)] = _Tally("")
            hourly.views += view
            sightings.add((site_id, day, Dimension.HOUR, hour.hour, bytes(hit.digest)))
    with transaction.atomic(using=workspace.db_alias):
        for site_id, day, dimension, key in _insert_sightings(workspace, sorted(sightings)):
            if dimension == Dimension.HOUR:
                at = datetime.datetime.combine(day, datetime.time(hour=key), tzinfo=UTC)
                hours[(site_id, at)].visitors += 1
            else:
                days[(site_id, day, dimension, key)].visitors += 1
        _add_days(workspace, [(*k, t.value, t.views, t.visitors) for k, t in sorted(days.items())])
        _add_hours(workspace, [(*k, t.views, t.visitors) for k, t in sorted(hours.items()) if t.views or t.visitors])


def _hour(at: datetime.datetime) -> datetime.datetime:
    at = at.replace(tzinfo=UTC) if timezone.is_naive(at) else at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def _table(model) -> str:
    return model._meta.db_table


def _insert_sightings(workspace: ActiveWorkspace, rows: Sequence[tuple]) -> Iterable[tuple]:
    """Insert the sightings not seen yet; return (site_id, day, dimension, value_key) of each new one."""
    if not rows:
        return []
    connection = connections[workspace.db_alias]
    columns = "workspace_id, site_id, day, dimension, value_key, digest"
    table = connection.ops.quote_name(_table(TrafficSighting))
    returning = "RETURNING site_id, day, dimension, value_key"
    if connection.vendor == "postgresql":
        from tidings.tenancy.bulk import _pg_arrays, _pg_binding_cursor

        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s::bigint, * FROM "  # noqa: S608 (a model's table)
            "unnest(%b::bigint[], %b::date[], %b::smallint[], %b::bigint[], %b::bytea[]) "
            f"ON CONFLICT DO NOTHING {returning}"
        )
        with _pg_binding_cursor(connection) as cursor:
            cursor.execute(sql, [workspace.id, *_pg_arrays(rows, 5)])
            return cursor.fetchall()
    new: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list = []
            for site_id, day, dimension, key, digest_ in chunk:
                params += [workspace.id, site_id, day.isoformat(), dimension, key, digest_]
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING {returning}"  # noqa: S608 (a model's table)
            cursor.execute(sql, params)
            new += [(s, _date(d), dim, k) for s, d, dim, k in cursor.fetchall()]
    return new


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _add_days(workspace: ActiveWorkspace, rows: Sequence[tuple]) -> None:
    """Add (site_id, day, dimension, value_key, value, views, visitors) rows to TrafficDay, in one upsert."""
    if not rows:
        return
    connection = connections[workspace.db_alias]
    name = _table(TrafficDay)
    table = connection.ops.quote_name(name)
    columns = "workspace_id, site_id, day, dimension, value_key, value, views, visitors"
    upsert = (
        "ON CONFLICT (workspace_id, site_id, day, dimension, value_key) DO UPDATE SET "
        f"views = {table}.views + excluded.views, visitors = {table}.visitors + excluded.visitors"
    )
    if connection.vendor == "postgresql":
        from tidings.tenancy.bulk import _pg_arrays, _pg_binding_cursor

        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s::bigint, * FROM "  # noqa: S608 (a model's table)
            "unnest(%b::bigint[], %b::date[], %b::smallint[], %b::bigint[], %b::text[], %b::bigint[], %b::bigint[]) "
            + upsert
        )
        with _pg_binding_cursor(connection) as cursor:
            cursor.execute(sql, [workspace.id, *_pg_arrays(rows, 7)])
        return
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) {upsert}"  # noqa: S608 (a model's table)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(workspace.id, s, d.isoformat(), *rest) for s, d, *rest in rows])


def _add_hours(workspace: ActiveWorkspace, rows: Sequence[tuple]) -> None:
    """Add (site_id, hour, views, visitors) rows to TrafficHour, in one upsert."""
    if not rows:
        return
    connection = connections[workspace.db_alias]
    table = connection.ops.quote_name(_table(TrafficHour))
    columns = "workspace_id, site_id, hour, views, visitors"
    upsert = (
        "ON CONFLICT (workspace_id, site_id, hour) DO UPDATE SET "
        f"views = {table}.views + excluded.views, visitors = {table}.visitors + excluded.visitors"
    )
    if connection.vendor == "postgresql":
        from tidings.tenancy.bulk import _pg_arrays, _pg_binding_cursor

        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s::bigint, * FROM "  # noqa: S608 (a model's table)
            "unnest(%b::bigint[], %b::timestamptz[], %b::bigint[], %b::bigint[]) " + upsert
        )
        with _pg_binding_cursor(connection) as cursor:
            cursor.execute(sql, [workspace.id, *_pg_arrays(rows, 4)])
        return
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s) {upsert}"  # noqa: S608 (a model's table)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(workspace.id, s, adapt(h), v, u) for s, h, v, u in rows])


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
