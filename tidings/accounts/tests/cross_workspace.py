from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "accounts:login": "sign-in page",
    "accounts:logout": "sign-out",
    "accounts:security": "the signed-in user's own password and two-factor settings",
    "accounts:staff_support": "staff's own support-access requests; grants are checked per workspace",
}

CASES = {
    "accounts:two_factor_required": lambda world: [Probe("GET", f"/w/{world.acme.slug}/two-factor-required/")],
}
