from tidings.tests.world import Probe

CASES = {
    "audit:log": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/"),
        Probe("GET", f"/w/{world.acme.slug}/settings/audit/", data={"before": "1000"}),
    ],
}
