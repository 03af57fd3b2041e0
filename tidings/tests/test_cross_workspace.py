"""Every route either holds no tenant data or proves that another workspace gets 404 from it.

Each app lists its routes in tidings/<app>/tests/cross_workspace.py:

    GLOBAL_ROUTES = {"accounts:login": "sign-in page, no workspace data"}
    def setup(world): world.objects["invitation"] = ...          # optional: objects in Acme
    CASES = {"accounts:members": lambda world: [Probe("GET", f"/w/{world.acme.slug}/settings/members/")]}

A probe is made by bob (owner of Globex, US) at Acme's data (EU) and must answer 404, the
same answer as for something that does not exist. A new route with no case fails this test.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tidings.tests.world import Probe, World, build_world


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield name, prefix + str(entry.pattern)


def all_routes() -> list[tuple[str, str]]:
    return list(_walk(get_resolver()))


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
    cases, global_routes, setups = {}, {}, []
    for module in _route_modules():
        for name, case in getattr(module, "CASES", {}).items():
            assert name not in cases, f"two cases for {name}"
            cases[name] = case
        global_routes.update(getattr(module, "GLOBAL_ROUTES", {}))
        if hasattr(module, "setup"):
            setups.append(module.setup)
    return cases, global_routes, setups


CASES, GLOBAL_ROUTES, SETUPS = collected()


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
    stale = sorted((set(CASES) | set(GLOBAL_ROUTES)) - names)
    assert not stale, f"cases for routes that no longer exist: {stale}"


@pytest.fixture
def world(acme, globex, alice, bob) -> World:
    built = build_world(acme=acme, globex=globex, alice=alice, bob=bob)
    for setup in SETUPS:
        setup(built)
    return built


@pytest.mark.parametrize("route_name", sorted(CASES))
def test_other_workspace_gets_404(route_name, world):
    probes: list[Probe] = CASES[route_name](world)
    assert probes, f"{route_name} has a case with no probe"
    for probe in probes:
        response = world.send(probe)
        assert response.status_code == 404, (
            f"{route_name}: {probe.method} {probe.path} as {probe.actor} answered {response.status_code}"
        )
