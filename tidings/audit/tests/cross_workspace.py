from tidings.tests.world import Probe

# The attacker's own audit log, paged: his workspace's entries only.
OWN_WORKSPACE = {
    "audit:log": lambda world: [
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/", status=200),
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/", data={"before": "3000000"}, status=200),
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/", data={"since": "2000-01-01"}, status=200),
    ],
}

CASES = {
    "audit:log": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/"),
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/", data={"before": "1000"}),
    ],
    # Entry numbers are per workspace: Acme's first entry under Acme's slug (bob is not a member), and
    # a number beyond Globex's chain under Globex's slug (his own log has no such entry).
    "audit:entry": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/1/"),
        Probe("GET", f"/w/{world.globex.slug}/settings/audit/3000000/"),
    ],
}
