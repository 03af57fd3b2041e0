"""Acme (EU) and two attackers who knock on its doors: the world of the cross-workspace test.

bob owns Globex in the other region (US): his probes test the doors in front of a view (the
workspace in the URL, the credential's workspace, the region). mallory owns Initech in Acme's
own region (EU): his probes, made through Initech's own URLs with Acme's ids, reach the views
and their selectors, so they are the ones that catch a forgotten workspace filter.

Ids are per database, so the world makes Acme's ids unmistakable: the attackers' rows are
created first, then every table's next id is moved to ACME_IDS before Acme's rows are
created, and to LATER_IDS after them. An id of Acme can therefore never name an attacker's
row, and a number between ACME_IDS and LATER_IDS in an attacker's answer is one of Acme's.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.db import connections, router
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

# Every table's next id before Acme's rows are created, and after them (see the module docstring).
ACME_IDS = 1_000_000
LATER_IDS = 2_000_000
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Probe:
    """One request an attacker makes. actor picks the attacker's credentials:

    "bob_session"  the attacker signed in to the UI;
    "bob_token"    Authorization: Bearer <his native API token for his own workspace>;
    "bob_basic"    HTTP Basic with his email and password (Mautic clients);
    "bob_oauth"    Authorization: Bearer <OAuth2 access token of his workspace's client-credentials app>.

    The names say "bob" because probes are written once, as bob; the harness replays them as
    mallory (see World.seen_by). status and shows only apply to OWN_WORKSPACE probes: the
    status the answer must have (None: anything below 500) and a text it must contain (the
    attacker's own data, proving that the answer lists something at all).
    """

    method: str
    path: str
    actor: str = "bob_session"
    data: dict | None = None
    status: int | None = None
    shows: str | None = None


class Objects(dict):
    """world.objects: each key stored once, so two setups cannot overwrite each other's objects."""

    def __setitem__(self, key, value):
        if key in self:
            raise KeyError(f"world.objects[{key!r}] is set already: give each setup's objects their own keys")
        super().__setitem__(key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


@dataclass
class Attacker:
    """An owner of another workspace, with every credential a client can present."""

    name: str
    user: Any
    workspace: Any
    credentials: dict[str, str]
    marker: str  # a made-up string in every kind of object of his workspace (own_data)
    own: dict[str, int]  # ids of those objects: "contact", "company", "note", "tag", "field"


@dataclass
class World:
    """Acme and its data, seen by one attacker at a time.

    world.globex and world.bob are the attacker's own workspace and user, world.own the ids of
    his own objects and world.own_marker the string in them: bob and Globex in the world that
    build_world returns, mallory and Initech in world.seen_by(mallory).
    """

    acme: Any
    globex: Any
    alice: Any
    bob: Any
    bob_password: str = PASSWORD
    objects: dict = field(default_factory=Objects)
    credentials: dict = field(default_factory=dict)
    # Strings found only in Acme's data (tag, company, token names...); setups add theirs.
    markers: set[str] = field(default_factory=set)
    attackers: list[Attacker] = field(default_factory=list)
    attacker: str = "bob"
    own: dict = field(default_factory=dict)
    own_marker: str = ""

    def seen_by(self, attacker: Attacker) -> World:
        """Return this world with attacker in bob's place (Acme, its objects and markers are shared)."""
        return dataclasses.replace(
            self,
            globex=attacker.workspace,
            bob=attacker.user,
            credentials=attacker.credentials,
            attacker=attacker.name,
            own=attacker.own,
            own_marker=attacker.marker,
        )

    def client_for(self, actor: str) -> tuple[Client, dict]:
        client = Client()
        headers: dict = {}
        if actor == "bob_session":
            client.force_login(self.bob)
        elif actor == "bob_token":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.credentials['bob_token']}"
        elif actor == "bob_oauth":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.credentials['bob_oauth']}"
        elif actor == "bob_basic":
            raw = f"{self.bob.email}:{self.bob_password}".encode()
            headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(raw).decode()
        else:
            raise ValueError(f"unknown actor {actor}")
        return client, headers

    def send(self, probe: Probe):
        client, headers = self.client_for(probe.actor)
        method = getattr(client, probe.method.lower())
        if probe.method.upper() in {"GET", "DELETE", "HEAD"}:
            return method(probe.path, probe.data or {}, **headers)
        if probe.actor == "bob_session":
            # UI forms post form data; the APIs read JSON.
            return method(probe.path, probe.data or {}, **headers)
        return method(probe.path, json.dumps(probe.data or {}), content_type="application/json", **headers)


# ----------------------------------------------------------------------------------------------
# Building the world


def build_world(setups: Iterable[Callable[[World], None]] = ()) -> World:
    """Create the attackers' workspaces and data, then Acme's (ids from ACME_IDS), then run setups.

    Must run inside a transaction the caller rolls back: it moves id sequences (reset_ids
    puts them back on PostgreSQL, where sequences ignore rollbacks).
    """
    from tidings.accounts.actions import user_create, workspace_create

    bob = _attacker("bob", "Globex", "globex", "us")
    mallory = _attacker("mallory", "Initech", "initech", "eu")
    advance_ids(ACME_IDS)
    alice = user_create(email="alice@acme.example", password=PASSWORD)
    acme = workspace_create(name="Acme", slug="acme", region="eu", owner=alice)
    world = World(
        acme=acme,
        globex=bob.workspace,
        alice=alice,
        bob=bob.user,
        credentials=bob.credentials,
        attackers=[bob, mallory],
        own=bob.own,
        own_marker=bob.marker,
    )
    acme_marker = "acme-secret-marker"
    world.objects["acme_marked"] = _own_data(acme, alice, acme_marker)
    world.markers.add(acme_marker)
    for setup in setups:
        setup(world)
    advance_ids(LATER_IDS)
    return world


def _attacker(name: str, company: str, slug: str, region: str) -> Attacker:
    """Create name's workspace (slug, region) with him as its owner, his credentials and his own data."""
    from tidings.accounts.actions import user_create, workspace_create

    user = user_create(email=f"{name}@{slug}.example", password=PASSWORD)
    workspace = workspace_create(name=company, slug=slug, region=region, owner=user)
    from tidings.tests.principals import allow_password_basic

    allow_password_basic(workspace)  # the "bob_basic" probes sign in with the attacker's password
    marker = f"{slug}-own-marker"
    token, oauth = _api_credentials(workspace, user, marker)
    return Attacker(
        name=name,
        user=user,
        workspace=workspace,
        credentials={"bob_token": token, "bob_oauth": oauth},
        marker=marker,
        own=_own_data(workspace, user, marker),
    )


def _api_credentials(workspace, user, marker: str) -> tuple[str, str]:
    """Return a native API token of user and an OAuth access token of a client-credentials app, both
    holding every permission of user's role (so probes reach the routes), the app issued by the
    real token endpoint."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import OAuthGrant, api_token_create, oauth_app_create

    principal = principal_for_user(user, workspace)
    assert principal is not None, "the attacker owns his workspace"
    _, token = api_token_create(workspace=workspace, user=user, name=marker, principal=principal)
    binding, secret = oauth_app_create(
        workspace=workspace,
        name=marker,
        grant_type=OAuthGrant.CLIENT_CREDENTIALS,
        permissions=sorted(principal.permissions),
        principal=principal,
    )
    issued = Client().post(
        "/oauth/v2/token",
        {"grant_type": "client_credentials", "client_id": binding.application.client_id, "client_secret": secret},
    )
    return token, issued.json()["access_token"]


def _own_data(workspace, owner, marker: str) -> dict[str, int]:
    """Create a contact tagged marker, working at a company named marker, with a note and a field
    labelled marker, in workspace; return their ids. Every list route shows marker somewhere."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.contacts import actions
    from tidings.contacts.selectors import tags_by_name
    from tidings.tenancy.context import use_workspace

    principal = principal_for_user(owner, workspace)
    with use_workspace(workspace):
        contact = actions.contact_create(
            {"email": f"lee@{workspace.slug}.example", "firstname": "Lee", "company": marker},
            tags=[marker],
            principal=principal,
        )
        company = actions.company_create({"companyname": marker}, principal=principal)
        actions.company_link(contact.id, company.id, principal=principal)
        note = actions.note_add(contact.id, f"Met at {marker}.", principal=principal)
        custom = actions.field_create(alias=marker.replace("-", "_"), label=marker, principal=principal)
        tag = tags_by_name([marker])[marker]
    return {"contact": contact.id, "company": company.id, "note": note.id, "tag": tag.id, "field": custom.id}


def _sequenced_models(alias: str):
    """Yield the models of database alias whose ids come from a sequence."""
    for model in apps.get_models():
        pk = model._meta.pk
        if pk is None or pk.get_internal_type() not in {"AutoField", "BigAutoField", "SmallAutoField"}:
            continue
        if model._meta.proxy or not model._meta.managed or not router.allow_migrate_model(alias, model):
            continue
        yield model


def advance_ids(floor: int) -> None:
    """Make the next id of every table in every database greater than floor."""
    for alias in connections:
        connection = connections[alias]
        with connection.cursor() as cursor:
            for model in _sequenced_models(alias):
                table, column = model._meta.db_table, model._meta.pk.column
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [table, column, floor])
                elif connection.vendor == "sqlite":
                    # Django's SQLite ids are AUTOINCREMENT: the next one follows sqlite_sequence.
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [floor, table])
                    if cursor.rowcount == 0:
                        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, floor])
                else:
                    raise NotImplementedError(f"cannot move ids on {connection.vendor}")


def reset_ids() -> None:
    """Put PostgreSQL sequences back after the world's transaction rolled back (SQLite's roll back with it)."""
    from django.core.management.color import no_style

    from tidings.tenancy.rls import dangerously_bypass_rls

    with dangerously_bypass_rls():  # the highest id of every workspace, not of none
        for alias in connections:
            connection = connections[alias]
            if connection.vendor != "postgresql":
                continue
            statements = connection.ops.sequence_reset_sql(no_style(), list(_sequenced_models(alias)))
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


# ----------------------------------------------------------------------------------------------
# What Acme holds


def _acme_querysets(world: World):
    """Yield (label, queryset) for every row that belongs to Acme, in every database.

    Deliberately unscoped: the harness must see Acme's rows whatever the scoped managers do.
    """
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_application_model

    from tidings.accounts.models import Membership
    from tidings.tenancy.models import Workspace

    acme_id = world.acme.pk
    yield "tenancy_workspace", Workspace._base_manager.using("default").filter(pk=acme_id)
    members = Membership._base_manager.using("default").filter(workspace_id=acme_id).values("user_id")
    yield "accounts_user", get_user_model()._base_manager.using("default").filter(pk__in=members)
    yield (
        "oauth2_application",
        get_application_model()._base_manager.using("default").filter(binding__workspace_id=acme_id),
    )
    for model in apps.get_models():
        if "workspace_id" not in {f.attname for f in model._meta.concrete_fields}:
            continue
        for alias in connections:
            if router.allow_migrate_model(alias, model):
                label = f"{model._meta.db_table}@{alias}"
                yield label, model._base_manager.using(alias).filter(workspace_id=acme_id)


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def acme_fingerprint(world: World, *, tables: set[str] | None = None) -> dict[str, tuple]:
    """Return every row of Acme, by label (table@alias): (pk, every column...) in pk order.

    With tables (names of database tables), only the labels whose rows those tables hold or select.
    """
    from tidings.tenancy.context import no_workspace
    from tidings.tenancy.rls import dangerously_bypass_rls

    result = {}
    with no_workspace(), dangerously_bypass_rls():
        for label, queryset in _acme_querysets(world):
            if tables is not None and not (_tables_read(label, queryset) & tables):
                continue
            columns = [queryset.model._meta.pk.attname] + [f.attname for f in queryset.model._meta.concrete_fields]
            rows = queryset.order_by("pk").values_list(*columns)
            result[label] = tuple(tuple(_plain(v) for v in row) for row in rows)
    return result


_TABLES_READ: dict[str, set[str]] = {}


def _tables_read(label: str, queryset) -> set[str]:
    """The database tables a label's rows come from or are chosen by (its joins and subqueries)."""
    if label not in _TABLES_READ:
        sql = str(queryset.query)
        _TABLES_READ[label] = {queryset.model._meta.db_table} | set(re.findall(r'(?:FROM|JOIN) "?(\w+)"?', sql))
    return _TABLES_READ[label]


# A statement that cannot change a row; any other statement the harness cannot read is taken as a write of
# everything (the whole fingerprint is read again).
_HARMLESS = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE|ROLLBACK|SET|PRAGMA|SHOW|BEGIN|COMMIT|EXPLAIN)\b", re.I)
_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


@contextlib.contextmanager
def written_tables() -> Iterator[set[str]]:
    """Collect the tables the statements run inside the block write to (every database connection).

    Yields a set, filled as statements run; a statement the harness cannot read (a CTE, a TRUNCATE, ...)
    puts "*" in it: the caller must then assume every table changed. Rows are only changed by statements
    (no trigger, no cascade in the database: Django runs its cascades as statements).
    """
    tables: set[str] = set()

    def record(execute, sql, params, many, context):
        written = _WRITE.match(sql)
        if written:
            tables.add(written.group(1))
        elif not _HARMLESS.match(sql):
            tables.add("*")
        return execute(sql, params, many, context)

    with contextlib.ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(record))
        yield tables


def acme_ids(fingerprint: dict[str, tuple]) -> set[int]:
    """Return the ids of Acme's rows that came from a moved sequence (ACME_IDS < id <= LATER_IDS)."""
    return {row[0] for rows in fingerprint.values() for row in rows if isinstance(row[0], int) and row[0] > ACME_IDS}


# ----------------------------------------------------------------------------------------------
# Judging answers


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        # Joined as Django joins ResolverMatch.route, so the two compare.
        route = prefix + str(entry.pattern).removeprefix("^") if prefix else str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry, route, full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield name, route


def all_routes() -> list[tuple[str, str]]:
    """Return (namespaced name, route pattern) of every URL pattern."""
    return list(_walk(get_resolver()))


def _leads_to(path: str, route_name: str) -> str | None:
    """Return None when path resolves to route_name's pattern, else where it leads.

    Compared by pattern, not by name: django-ninja gives every method of one path the
    pattern of its first operation's name.
    """
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return "no route"
    wanted = {route for name, route in all_routes() if name == route_name}
    return None if match.route in wanted else match.view_name


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\d+", text)}


def _leaks(body: str, sent: str, markers: set[str], ids: set[int]) -> list[str]:
    """Return what of Acme body shows: markers and ids, except those the probe sent (answers may echo them)."""
    found = [f"Acme's marker {m!r}" for m in sorted(markers) if m in body and m not in sent]
    shown = (_numbers(body) & ids) - _numbers(sent)
    found += [f"Acme's id {i}" for i in sorted(shown)]
    return found


def check_probes(
    world: World, route_name: str, case: Callable[[World], list[Probe]], *, own_workspace: bool
) -> list[str]:
    """Run case's probes of route_name as every attacker; return one line per broken rule (none: it holds).

    Rules: every probe's path resolves to route_name (a mistyped path answers 404 for nothing);
    a probe of CASES answers 404 (own_workspace False); a probe of OWN_WORKSPACE answers
    probe.status (or anything below 500) and shows probe.shows. Every answer shows none of
    Acme's markers and ids, and after every write Acme's rows are exactly what they were.
    """
    failures: list[str] = []
    before = acme_fingerprint(world)
    ids = acme_ids(before)
    for attacker in world.attackers:
        seen = world.seen_by(attacker)
        probes = case(seen)
        if not probes:
            failures.append(f"as {attacker.name}: the case has no probe")
        for probe in probes:
            label = f"{probe.method} {probe.path} as {attacker.name} ({probe.actor.removeprefix('bob_')})"
            elsewhere = _leads_to(probe.path, route_name)
            if elsewhere:
                failures.append(f"{label}: the path leads to {elsewhere}, not {route_name}")
                continue
            with written_tables() as tables:
                response = seen.send(probe)
            body = _body(response)
            if not own_workspace and response.status_code != 404:
                failures.append(f"{label}: answered {response.status_code}, not 404")
            elif own_workspace and probe.status is not None and response.status_code != probe.status:
                failures.append(f"{label}: answered {response.status_code}, not {probe.status}")
            elif own_workspace and response.status_code >= 500:
                failures.append(f"{label}: answered {response.status_code}")
            if own_workspace and probe.shows and probe.shows not in body:
                failures.append(f"{label}: does not show {probe.shows!r} (the attacker's own data)")
            sent = probe.path + json.dumps(probe.data or {})
            failures += [f"{label}: shows {leak}" for leak in _leaks(body, sent, world.markers, ids)]
            if probe.method.upper() in WRITE_METHODS or tables:
                # Only the labels of tables the probe wrote to can differ: reading every table of every
                # database again after each write was half of this harness's time.
                after = acme_fingerprint(world, tables=None if "*" in tables else tables)
                changed = sorted(t for t in after if before.get(t) != after[t])
                if changed:
                    failures.append(f"{label}: changed Acme's rows in {', '.join(changed)}")
                before = {**before, **after}  # report each change once
    return failures
