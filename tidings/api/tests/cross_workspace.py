from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "api:v1:openapi-json": "the generated OpenAPI document; describes endpoints, holds no data",
    "api:v1:openapi-view": "interactive API docs page; static",
    "api:v1:api-root": "ninja's root of /api/v1/, answers 404 in the API's error format",
    "api:v1:not_found": "catch-all JSON 404 for unknown /api/v1/ paths",
    "api:v1:me": "the caller's own principal; the credential decides the workspace",
    "api:v1:list_tokens": "the caller's own tokens in the credential's workspace",
    "api:v1:create_token": "creates a token for the caller in the credential's workspace",
    "api:oauth_token": "OAuth2 token endpoint; the client's credentials decide the workspace",
    "api:oauth_authorize": "OAuth2 consent; non-members of the app's workspace get 404 (test_oauth.py)",
    "api:v1:members": "no URL names a workspace: the credential's own workspace is listed",
    "api:v1:audit": "no URL names a workspace: the credential's own workspace's log is listed",
    "api:v1:list_segments": "no URL names a workspace: the credential's own segments are listed",
    "api:v1:create_segment": "creates in the credential's own workspace; Acme's ids in filters are unknown (below)",
    "api:v1:preview_segment": "counts in the credential's own workspace; Acme's ids in filters are unknown (below)",
}


def setup(world):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import OAuthGrant, api_token_create, oauth_app_create

    token, _ = api_token_create(
        workspace=world.acme, user=world.alice, name="Acme sync", principal=principal_for_user(world.alice, world.acme)
    )
    world.objects["acme_token"] = token
    binding, _ = oauth_app_create(
        workspace=world.acme,
        name="Acme CRM",
        grant_type=OAuthGrant.CLIENT_CREDENTIALS,
        permissions=["workspace:view"],
        principal=principal_for_user(world.alice, world.acme),
    )
    world.objects["acme_oauth_app"] = binding
    world.markers.update({"Acme sync", "Acme CRM"})


def _own_list(method, tail, actors=("bob_token", "bob_basic")):
    def probes(world):
        return [Probe(method, tail(world), actor=actor, status=200, shows=world.own_marker) for actor in actors]

    return probes


# The attacker's own tokens, apps, members and audit log: his workspace's only.
def _segment(world):
    from tidings.mautic_compat.tests.cross_workspace import segment_of

    return segment_of(world)


def _own_segment(world):
    from tidings.mautic_compat.tests.cross_workspace import own_segment_of

    return own_segment_of(world)


def _acme_contact(world):
    return world.objects["api_contact"].id


def _acme_tag(world):
    return world.objects["api_tag"].id


def _native(method, tail, data=None, status=None, shows=None):
    """Probe /api/v1/<tail> with the attacker's token and Basic credentials; data may be a function of the world."""

    def probes(world):
        body = data(world) if callable(data) else data
        shown = shows(world) if callable(shows) else shows
        return [
            Probe(method, f"/api/v1/{tail(world)}", actor=actor, data=body, status=status, shows=shown)
            for actor in ("bob_token", "bob_basic")
        ]

    return probes


def _naming(kind, ids):
    return lambda world: {
        "name": "Probe",
        "definition": {"filters": [{"kind": kind, "operator": "in", "value": ids(world)}]},
    }


OWN_WORKSPACE = {
    "api:tokens": _own_list("GET", lambda w: f"/w/{w.globex.slug}/settings/api-tokens/", actors=("bob_session",)),
    "api:oauth_apps": _own_list("GET", lambda w: f"/w/{w.globex.slug}/settings/oauth-apps/", actors=("bob_session",)),
    "api:v1:list_tokens": _own_list("GET", lambda w: "/api/v1/tokens"),
    "api:v1:members": lambda world: [
        Probe("GET", "/api/v1/members", actor=actor, status=200, shows=world.bob.email)
        for actor in ("bob_token", "bob_basic", "bob_oauth")
    ],
    "api:v1:audit": lambda world: [
        Probe("GET", "/api/v1/audit", actor=actor, status=200) for actor in ("bob_token", "bob_oauth")
    ],
    "api:v1:me": lambda world: [Probe("GET", "/api/v1/me", actor="bob_token", status=200, shows=world.bob.email)],
    # Segments: his own list; filters naming Acme's segment or tag are unknown to him (422, nothing shown);
    # Acme's contact ids added to or removed from his own segment are not found and change nothing.
    "api:v1:list_segments": lambda world: [
        *_native("GET", lambda w: "segments", status=200, shows=lambda w: w.own_marker)(world),
        *_native("GET", lambda w: "segments?search=acme-probe", status=200)(world),
    ],
    "api:v1:create_segment": lambda world: [
        *_native("POST", lambda w: "segments", _naming("segment", lambda w: [_segment(w)]), status=422)(world),
        *_native("POST", lambda w: "segments", _naming("tag", lambda w: [_acme_tag(w)]), status=422)(world),
    ],
    "api:v1:preview_segment": _native(
        "POST",
        lambda w: "segments/preview",
        lambda w: {"definition": _naming("tag", lambda x: [_acme_tag(x)])(w)["definition"]},
        status=422,
    ),
    "api:v1:add_segment_members": _native(
        "POST", lambda w: f"segments/{_own_segment(w)}/members/add", lambda w: {"ids": [_acme_contact(w)]}, status=200
    ),
    "api:v1:remove_segment_members": _native(
        "POST",
        lambda w: f"segments/{_own_segment(w)}/members/remove",
        lambda w: {"ids": [_acme_contact(w)]},
        status=200,
    ),
    "api:v1:list_segment_members": _native("GET", lambda w: f"segments/{_own_segment(w)}/members", status=200),
}


CASES = {
    # Segments: every route that names an object of Acme (its segment, or its contact)
    "api:v1:get_segment": _native("GET", lambda w: f"segments/{_segment(w)}"),
    "api:v1:update_segment": _native("PATCH", lambda w: f"segments/{_segment(w)}", {"name": "Eve"}),
    "api:v1:delete_segment": _native("DELETE", lambda w: f"segments/{_segment(w)}"),
    "api:v1:rebuild_segment": _native("POST", lambda w: f"segments/{_segment(w)}/rebuild"),
    "api:v1:list_segment_members": _native("GET", lambda w: f"segments/{_segment(w)}/members"),
    "api:v1:add_segment_members": _native("POST", lambda w: f"segments/{_segment(w)}/members/add", {"ids": [1]}),
    "api:v1:remove_segment_members": _native("POST", lambda w: f"segments/{_segment(w)}/members/remove", {"ids": [1]}),
    "api:v1:list_contact_segments": _native("GET", lambda w: f"contacts/{_acme_contact(w)}/segments"),
    "api:tokens": lambda world: [Probe("GET", f"/w/{world.acme.slug}/settings/api-tokens/")],
    "api:token_revoke": lambda world: [
        Probe("POST", f"/w/{world.acme.slug}/settings/api-tokens/{world.objects['acme_token'].pk}/revoke/"),
        # bob in his own workspace, aiming at Acme's token: the same 404 as for no token
        Probe("POST", f"/w/{world.globex.slug}/settings/api-tokens/{world.objects['acme_token'].pk}/revoke/"),
    ],
    "api:oauth_apps": lambda world: [Probe("GET", f"/w/{world.acme.slug}/settings/oauth-apps/")],
    "api:oauth_app_delete": lambda world: [
        Probe("POST", f"/w/{world.acme.slug}/settings/oauth-apps/{world.objects['acme_oauth_app'].pk}/delete/"),
        Probe("POST", f"/w/{world.globex.slug}/settings/oauth-apps/{world.objects['acme_oauth_app'].pk}/delete/"),
    ],
    "api:v1:revoke_token": lambda world: [
        Probe("DELETE", f"/api/v1/tokens/{world.objects['acme_token'].pk}", actor="bob_token"),
        Probe("DELETE", f"/api/v1/tokens/{world.objects['acme_token'].pk}", actor="bob_basic"),
    ],
}
