from tidings.tests.world import Probe

GLOBAL_ROUTES = {"web:home": "lists the signed-in user's own workspaces"}

CASES = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.acme.slug}/")],
}
