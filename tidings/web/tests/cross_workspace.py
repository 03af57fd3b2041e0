from tidings.tests.world import Probe

GLOBAL_ROUTES = {"web:home": "lists the signed-in user's own workspaces"}

OWN_WORKSPACE = {"web:dashboard": lambda world: [Probe("GET", f"/w/{world.globex.slug}/", status=200)]}

CASES = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.acme.slug}/")],
}
