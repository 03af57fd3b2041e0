"""Routes of Tidings' policies: the documents are global, but a workspace's pages answer 404 to outsiders.

The acknowledgement of an attacker lands in his own workspace only; Acme's admins' acknowledgements
are never shown (the pages show none).
"""

from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "policies:staff": "Tidings staff only (anyone else gets 404); Tidings' own documents, no workspace data",
}


def setup(world):
    from tidings.accounts.actions import user_create
    from tidings.policies.actions import policy_publish

    staff = user_create(email="policies-staff@tidings.example", password=None, is_staff=True)
    policy_publish(staff_user=staff, kind="privacy", title="Tidings privacy policy", text="We keep data in region.")


def _acme(tail: str, method: str = "GET"):
    return lambda w: [Probe(method, f"/w/{w.acme.slug}/policies/{tail}")]


CASES = {
    "policies:list": _acme(""),
    "policies:detail": _acme("privacy/1/"),
    "policies:acknowledge": _acme("privacy/1/acknowledge/", "POST"),
}

OWN_WORKSPACE = {
    "policies:list": lambda w: [Probe("GET", f"/w/{w.globex.slug}/policies/", status=200)],
    "policies:detail": lambda w: [Probe("GET", f"/w/{w.globex.slug}/policies/privacy/1/", status=200)],
}
