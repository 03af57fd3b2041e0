"""Every route either holds no tenant data or proves that another workspace can neither see nor change it.

Each app lists its routes in tidings/<app>/tests/cross_workspace.py:

    GLOBAL_ROUTES = {"accounts:login": "sign-in page, no workspace data"}
    def setup(world): world.objects["invitation"] = ...          # optional: objects in Acme
    CASES = {"accounts:members": lambda world: [Probe("GET", f"/w/{world.acme.slug}/settings/members/")]}
    OWN_WORKSPACE = {"contacts:list": lambda world: [                  # optional: see below
        Probe("GET", f"/w/{world.globex.slug}/contacts/", status=200, shows=world.own_marker)]}

A new route with neither a case nor a GLOBAL_ROUTES entry fails this test.

Who probes. Probes are written as bob, and every case runs twice (tidings/tests/world.py):
- as bob, owner of Globex in the other region (US), and
- as mallory, owner of Initech in Acme's own region (EU): world.globex and world.bob then stand
  for Initech and mallory, and actors "bob_*" for mallory's credentials.
So a probe of Acme's id under the attacker's own workspace (/w/{world.globex.slug}/contacts/<id>/,
/m/{world.globex.slug}/api/..., /api/v1/... with his token) reaches the view as mallory: that is
the probe that catches a selector with no workspace filter. Acme's ids never name an attacker's
row (world.py moves the id sequences), so the 404 it must get is not luck.

CASES: every probe must answer 404, the same answer as for something that does not exist, and
its path must resolve to the route it is declared for (a mistyped id, such as an object where an
int belongs, would answer 404 from no route at all and prove nothing).

OWN_WORKSPACE (new): requests the attacker makes in his own workspace that must work but show
nothing of Acme: lists and searches (status=200, shows=world.own_marker, a string in every kind
of the attacker's own object), batches and forms that name Acme's ids in their body (status
None: any answer below 500). Routes in GLOBAL_ROUTES may have OWN_WORKSPACE probes too.

For every probe of both kinds:
- the answer shows none of Acme's markers (world.markers: made-up strings in Acme's data, not
  personal data; a setup adds those of its objects) and none of Acme's ids, except what the
  probe itself sent (answers may echo a query);
- after a write (POST, PUT, PATCH, DELETE), every row of Acme in every database is unchanged
  (acme_fingerprint in world.py, read through a deliberately unscoped path).

Setups store their objects under keys of their own: world.objects refuses to overwrite a key.
Password Basic probes ("bob_basic") need the attacker's workspace to allow it (see the TODO in
world._attacker).

The world is built once for this module in a transaction rolled back at its end; each test
runs in its own savepoints inside it, so no test sees another's writes.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from django.db import connections, transaction
from django.test import override_settings

from tidings.tests.world import Probe, World, all_routes, build_world, check_probes, reset_ids


def _route_modules():
    import tidings

    for module in pkgutil.iter_modules(tidings.__path__):
        try:
            yield importlib.import_module(f"tidings.{module.name}.tests.cross_workspace")
        except ModuleNotFoundError as error:
            if error.name != f"tidings.{module.name}.tests.cross_workspace" and not (error.name or "").startswith(
                f"tidings.{module.name}.tests"
            ):
                raise


def collected():
    cases, own_workspace, global_routes, setups = {}, {}, {}, []
    for module in _route_modules():
        for name, case in getattr(module, "CASES", {}).items():
            assert name not in cases, f"two cases for {name}"
            cases[name] = case
        for name, case in getattr(module, "OWN_WORKSPACE", {}).items():
            assert name not in own_workspace, f"two own-workspace cases for {name}"
            own_workspace[name] = case
        global_routes.update(getattr(module, "GLOBAL_ROUTES", {}))
        if hasattr(module, "setup"):
            setups.append(module.setup)
    return cases, own_workspace, global_routes, setups


CASES, OWN_WORKSPACE, GLOBAL_ROUTES, SETUPS = collected()


def test_every_route_is_covered():
    missing = []
    for name, pattern in all_routes():
        if not name:
            missing.append(f"unnamed route {pattern!r}")
        elif name not in CASES and name not in GLOBAL_ROUTES:
            missing.append(f"{name} ({pattern})")
    assert not missing, "routes with no cross-workspace case and not declared global:\n" + "\n".join(missing)


def test_no_case_names_a_route_that_does_not_exist():
    names = {name for name, _ in all_routes()}
    stale = sorted((set(CASES) | set(OWN_WORKSPACE) | set(GLOBAL_ROUTES)) - names)
    assert not stale, f"cases for routes that no longer exist: {stale}"


@contextlib.contextmanager
def _rolled_back(alias: str):
    with transaction.atomic(using=alias):
        yield
        transaction.set_rollback(True, using=alias)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Build the world once for the module, in a transaction of every database rolled back at its end."""
    with contextlib.ExitStack() as stack:
        # The probes sign in with a password hundreds of times: Argon2 would cost minutes, and
        # hashing is not what this test is about.
        stack.enter_context(override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]))
        stack.enter_context(django_db_blocker.unblock())
        stack.callback(reset_ids)  # runs after the rollbacks below
        for alias in connections:
            stack.enter_context(_rolled_back(alias))
        yield build_world(SETUPS)


@pytest.mark.parametrize("route_name", sorted(CASES))
def test_other_workspace_gets_404(route_name, world):
    failures = check_probes(world, route_name, CASES[route_name], own_workspace=False)
    assert not failures, f"{route_name}:\n" + "\n".join(failures)


@pytest.mark.parametrize("route_name", sorted(OWN_WORKSPACE))
def test_own_workspace_shows_and_changes_nothing_of_acme(route_name, world):
    failures = check_probes(world, route_name, OWN_WORKSPACE[route_name], own_workspace=True)
    assert not failures, f"{route_name}:\n" + "\n".join(failures)


# ----------------------------------------------------------------------------------------------
# The harness itself: a forgotten workspace filter must fail it.


def _unscoped_contacts(region_alias: str):
    from tidings.contacts.models import Contact

    return Contact.unscoped_objects.using(region_alias)


def _contact_get_without_filter(contact_id):
    """contact_get as it would read with its workspace filter forgotten.

    Row-level security is lifted too: on PostgreSQL it would hide the mistake, as it does not
    where Tidings runs as a role that bypasses it (or on SQLite, which has none).
    """
    from tidings.contacts import selectors
    from tidings.contacts.actions import load_fields
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.rls import dangerously_bypass_rls

    with dangerously_bypass_rls():
        contact = _unscoped_contacts(require_workspace().db_alias).get(pk=contact_id)
        return selectors._views([contact], load_fields())[0]


def _contacts_page_without_filter(**kwargs):
    """contacts_page as it would list with its workspace filter forgotten (and row-level security lifted)."""
    from tidings.contacts import selectors
    from tidings.contacts.actions import load_fields
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.rls import dangerously_bypass_rls

    with dangerously_bypass_rls():
        contacts = list(_unscoped_contacts(require_workspace().db_alias).order_by("-id")[:50])
        return selectors.Page(items=selectors._views(contacts, load_fields()), next_cursor=None)


@pytest.mark.parametrize("route_name", ["contacts:edit", "mautic_compat:contacts_get", "api:v1:get_contact"])
def test_a_detail_route_without_workspace_filter_fails_the_harness(route_name, world, monkeypatch):
    from tidings.contacts import selectors

    monkeypatch.setattr(selectors, "contact_get", _contact_get_without_filter)

    failures = check_probes(world, route_name, CASES[route_name], own_workspace=False)

    # Only mallory, in Acme's region, reaches the view; bob's probes stop at the region or the URL.
    assert failures
    assert all(" as mallory " in failure for failure in failures), failures


@pytest.mark.parametrize("route_name", ["contacts:list", "api:v1:list_contacts"])
def test_a_list_route_without_workspace_filter_fails_the_harness(route_name, world, monkeypatch):
    from tidings.contacts import selectors

    monkeypatch.setattr(selectors, "contacts_page", _contacts_page_without_filter)

    failures = check_probes(world, route_name, OWN_WORKSPACE[route_name], own_workspace=True)

    assert any(" as mallory " in failure and "shows Acme's id" in failure for failure in failures), failures


def test_a_write_that_changes_acme_fails_the_harness_even_when_it_answers_404(world, monkeypatch):
    from tidings.contacts import actions
    from tidings.contacts.models import Note
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.rls import dangerously_bypass_rls

    def note_delete_without_filter(note_id, **kwargs):
        with dangerously_bypass_rls():
            Note.unscoped_objects.using(require_workspace().db_alias).filter(pk=note_id).delete()
        raise Note.DoesNotExist("answered as if nothing happened")

    monkeypatch.setattr(actions, "note_delete", note_delete_without_filter)
    note = world.objects["api_note"].id
    case = lambda w: [Probe("DELETE", f"/api/v1/notes/{note}", actor="bob_token")]  # noqa: E731

    failures = check_probes(world, "api:v1:delete_note", case, own_workspace=False)

    assert failures == [
        f"DELETE /api/v1/notes/{note} as mallory (token): changed Acme's rows in contacts_note@region_eu"
    ]


def test_a_write_to_acme_is_seen_by_the_fingerprint_of_the_tables_written(world):
    """After a probe only the tables it wrote are read again: a change to Acme's rows must still show."""
    from tidings.tenancy.rls import dangerously_bypass_rls
    from tidings.tests.world import acme_fingerprint, written_tables

    alias = world.acme.db_alias
    before = acme_fingerprint(world)
    with _rolled_back(alias), dangerously_bypass_rls():
        with written_tables() as tables:
            _unscoped_contacts(alias).filter(workspace_id=world.acme.pk).update(city="Changed by a probe")
        after = acme_fingerprint(world, tables=tables)
    assert [label for label in after if after[label] != before[label]] == [f"contacts_contact@{alias}"]


def test_a_statement_the_harness_cannot_read_counts_as_a_write_of_everything(world):
    from tidings.tests.world import written_tables

    with written_tables() as tables, connections[world.acme.db_alias].cursor() as cursor:
        cursor.execute("WITH c AS (SELECT 1 AS one) SELECT one FROM c")
    assert tables == {"*"}
