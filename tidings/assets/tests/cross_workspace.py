"""Assets' routes: bob (Globex) and mallory (Initech) get 404 on Acme's assets, in the UI, both APIs and
the public download; their own lists show only their own."""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret asset"
ALIAS = "acme-secret-asset"

GLOBAL_ROUTES = {
    "api:v1:list_assets": "no URL names a workspace: the credential's own assets are listed",
    "api:v1:create_asset": "creates in the credential's own workspace",
}


def setup(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tidings.assets import actions
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        asset = actions.asset_create(principal=system(), title=MARKER, alias=ALIAS,
                                     file=SimpleUploadedFile("acme-secret.txt", b"acme secret text\n"),
                                     filename="acme-secret.txt")  # fmt: skip
    world.objects.update(acme_asset=asset.pk)
    world.markers.update({MARKER, ALIAS, "acme secret text", "acme-secret.txt"})


def _asset(world) -> int:
    return world.objects["acme_asset"]


def _ui(tail: str, method: str = "GET", data=None):
    def probes(world):
        path = f"assets/{_asset(world)}/{tail}"
        return [Probe(method, f"/w/{world.acme.slug}/{path}", data=data),
                Probe(method, f"/w/{world.globex.slug}/{path}", data=data)]  # fmt: skip

    return probes


def _workspace_page(tail: str, method: str = "GET", data=None):
    return lambda w: [Probe(method, f"/w/{w.acme.slug}/assets/{tail}", data=data)]


def _native(method: str, tail, data=None):
    def probes(world):
        return [Probe(method, f"/api/v1/{tail(world)}", actor=a, data=data) for a in ("bob_token", "bob_basic")]

    return probes


def _mautic(method: str, tail, data=None):
    """Acme's base with bob's credentials, and bob's own bases with Acme's ids."""

    def probes(world):
        path = tail(world)
        return [Probe(method, f"/m/{world.acme.slug}/api/{path}", actor="bob_token", data=data),
                Probe(method, f"/m/{world.acme.slug}/api/{path}", actor="bob_basic", data=data),
                Probe(method, f"/api/{path}", actor="bob_token", data=data),
                Probe(method, f"/m/{world.globex.slug}/api/{path}", actor="bob_token", data=data)]  # fmt: skip

    return probes


def _mautic_acme_base(method: str, tail, data=None):
    def probes(world):
        path = f"/m/{world.acme.slug}/api/{tail(world)}"
        return [Probe(method, path, actor="bob_token", data=data), Probe(method, path, actor="bob_basic", data=data)]

    return probes


_FORM = {"title": "Mine", "remote_url": "https://files.example/mine.pdf", "is_published": "on"}

CASES = {
    "assets:list": _workspace_page(""),
    "assets:create": lambda w: _workspace_page("new/")(w) + _workspace_page("new/", "POST", _FORM)(w),
    "assets:settings": lambda w: _workspace_page("settings/")(w)
    + _workspace_page("settings/", "POST", {"max_megabytes": "1"})(w),
    "assets:detail": _ui(""),
    "assets:edit": lambda w: _ui("edit/")(w) + _ui("edit/", "POST", _FORM)(w),
    "assets:delete": _ui("delete/", "POST", {"confirmed": "1"}),
    # The public download under the attacker's own slug, with Acme's id (and alias).
    "assets:download": lambda w: [Probe("GET", f"/m/{w.globex.slug}/asset/{_asset(w)}:{ALIAS}"),
                                  Probe("GET", f"/m/{w.globex.slug}/asset/{_asset(w)}:{ALIAS}?stream=1")],
    "assets:download_by_id": lambda w: [Probe("GET", f"/m/{w.globex.slug}/asset/{_asset(w)}")],
    "api:v1:get_asset": _native("GET", lambda w: f"assets/{_asset(w)}"),
    "api:v1:update_asset": _native("PATCH", lambda w: f"assets/{_asset(w)}", {"title": "x"}),
    "api:v1:replace_asset_file": _native("POST", lambda w: f"assets/{_asset(w)}/file"),
    "api:v1:delete_asset": _native("DELETE", lambda w: f"assets/{_asset(w)}"),
    "mautic_compat:assets_list": _mautic_acme_base("GET", lambda w: "assets"),
    "mautic_compat:assets_new": _mautic_acme_base("POST", lambda w: "assets/new",
                                                  {"title": "X", "storageLocation": "remote",
                                                   "file": "https://files.example/x.pdf"}),
    "mautic_compat:assets_batch_new": _mautic_acme_base("POST", lambda w: "assets/batch/new", {}),
    "mautic_compat:assets_batch_edit": _mautic_acme_base("PATCH", lambda w: "assets/batch/edit", {}),
    "mautic_compat:assets_batch_delete": _mautic_acme_base("DELETE", lambda w: f"assets/batch/delete?ids={_asset(w)}"),
    "mautic_compat:assets_get": _mautic("GET", lambda w: f"assets/{_asset(w)}"),
    "mautic_compat:assets_edit": _mautic("PATCH", lambda w: f"assets/{_asset(w)}/edit", {"title": "Eve"}),
    "mautic_compat:assets_delete": _mautic("DELETE", lambda w: f"assets/{_asset(w)}/delete"),
}  # fmt: skip


def _own_page(tail: str, method: str = "GET", data=None, status=None):
    return lambda w: [Probe(method, f"/w/{w.globex.slug}/assets/{tail}", data=data, status=status)]


OWN_WORKSPACE = {
    "assets:list": _own_page("", status=200),
    "assets:settings": _own_page("settings/", status=200),
    "api:v1:list_assets": lambda w: [Probe("GET", "/api/v1/assets", actor="bob_token", status=200)],
    "mautic_compat:assets_list": lambda w: [Probe("GET", "/api/assets?search=acme", actor="bob_token", status=200),
                                            Probe("GET", f"/m/{w.globex.slug}/api/assets", actor="bob_token",
                                                  status=200)],
    "mautic_compat:assets_batch_delete": lambda w: [
        Probe("DELETE", f"/api/assets/batch/delete?ids={_asset(w)}", actor="bob_token")],
}  # fmt: skip
