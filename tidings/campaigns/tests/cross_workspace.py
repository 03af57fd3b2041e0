"""Campaigns' routes for the cross-workspace test (tidings/tests/test_cross_workspace.py reads this module).

The API and the UI keep their routes' cases in a module each; this one gathers them, and its setup runs each part's.
"""

from tidings.campaigns.tests import cross_workspace_api, cross_workspace_ui

_PARTS = [cross_workspace_api, cross_workspace_ui]

GLOBAL_ROUTES = {name: why for part in _PARTS for name, why in getattr(part, "GLOBAL_ROUTES", {}).items()}
CASES = {name: probes for part in _PARTS for name, probes in part.CASES.items()}
OWN_WORKSPACE = {name: probes for part in _PARTS for name, probes in getattr(part, "OWN_WORKSPACE", {}).items()}


def setup(world):
    for part in _PARTS:
        part.setup(world)
