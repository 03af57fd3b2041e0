from tidings.tests.world import Probe

GLOBAL_ROUTES = {"web:home": "lists the signed-in user's own workspaces"}


def setup(world):
    """Give Acme a contact in a marked country: the dashboard's country chart must not show it to others.

    Countries are ISO codes, so the marker is the chart's link to Kiribati, which no one else has.
    """
    from tidings.contacts.actions import contact_create
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(world.acme):
        contact_create({"email": "kai@acme.example", "country": "KI"}, principal=system())
    world.markers.add("?country=KI")


# The attacker's dashboard counts his own contacts (his tag is in the top tags), none of Acme's.
OWN_WORKSPACE = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.globex.slug}/", status=200, shows=world.own_marker)],
    "web:kit": lambda world: [Probe("GET", f"/w/{world.globex.slug}/ui/", status=200, shows="Page header")],
}

CASES = {
    "web:dashboard": lambda world: [Probe("GET", f"/w/{world.acme.slug}/")],
    "web:kit": lambda world: [
        Probe("GET", f"/w/{world.acme.slug}/ui/"),
        Probe("POST", f"/w/{world.acme.slug}/ui/", data={"demo": "toasts"}),
    ],
}
