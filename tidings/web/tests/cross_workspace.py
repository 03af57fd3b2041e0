from tidings.tests.world import Probe

GLOBAL_ROUTES = {"web:home": "lists the signed-in user's own workspaces"}

OWN_WORKSPACE = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.globex.slug}/", status=200)],
    "web:kit": lambda world: [Probe("GET", f"/w/{world.globex.slug}/ui/", status=200, shows="Page header")],
}

CASES = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.acme.slug}/")],
    "web:kit": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/ui/"),
        Probe("POST", f"/w/{world.acme.slug}/ui/", data={"demo": "toasts"}),
    ],
}
