from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "mautic_compat:oauth_token": "OAuth2 token endpoint; an app bound elsewhere is refused (test_oauth.py)",
    "mautic_compat:oauth_authorize": "OAuth2 consent; non-members and other workspaces' apps get 404 (test_oauth.py)",
}

CASES = {
    # Under /m/<slug>/ the credentials must belong to that workspace; bob's Globex ones get 404.
    "mautic_compat:users_self": lambda world: [
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_token"),
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_basic"),
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_oauth"),
    ],
    "mautic_compat:not_found": lambda world: [
        Probe("GET", f"/m/{world.acme.slug}/api/contacts", actor="bob_token"),
        Probe("GET", f"/m/{world.acme.slug}/api/contacts", actor="bob_basic"),
    ],
}
