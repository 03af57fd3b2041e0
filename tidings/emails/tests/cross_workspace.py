"""Emails' routes for the cross-workspace test (tidings/tests/test_cross_workspace.py reads this module).

Each helper of issue 12 keeps its routes' cases in a module of its own; this one gathers them (sending's,
for now: the integrator adds authoring's and feedback's when the branches meet).
"""

from tidings.emails.tests.cross_workspace_send import CASES, GLOBAL_ROUTES, OWN_WORKSPACE, setup

__all__ = ["CASES", "GLOBAL_ROUTES", "OWN_WORKSPACE", "setup"]
