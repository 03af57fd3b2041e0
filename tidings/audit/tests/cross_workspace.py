from tidings.tests.world import Probe

# The attacker's own audit log, paged: his workspace's entries only.
OWN_WORKSPACE = {
    "audit:log": lambda world: [
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/", status=200),
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/", data={"before": "3000000"}, status=200),
    ],
}

CASES = {
    "audit:log": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/"),
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/", data={"before": "1000"}),
    ],
}
