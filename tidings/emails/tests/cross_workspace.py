"""Emails' routes for the cross-workspace test (tidings/tests/test_cross_workspace.py reads this module).

Authoring, sending and feedback each keep their routes' cases in a module of their own; this one gathers
them, and its setup runs each part's.
"""

from tidings.emails.tests import cross_workspace_authoring, cross_workspace_feedback, cross_workspace_send

_PARTS = [cross_workspace_authoring, cross_workspace_feedback, cross_workspace_send]

GLOBAL_ROUTES = {name: why for part in _PARTS for name, why in part.GLOBAL_ROUTES.items()}
CASES = {name: probes for part in _PARTS for name, probes in part.CASES.items()}
OWN_WORKSPACE = {name: probes for part in _PARTS for name, probes in getattr(part, "OWN_WORKSPACE", {}).items()}


def setup(world):
    for part in _PARTS:
        part.setup(world)
