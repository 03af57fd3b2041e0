"""Forms' routes: the builder and results pages, the native and Mautic APIs, and the public form door.

bob (Globex) and mallory (Initech) get 404 on Acme's forms everywhere: under Acme's slug (not a
member), under their own slug with Acme's ids, with their API credentials, and through the public
door of their own workspace (/m/<their slug>/form/...) naming Acme's form or Acme's confirmation link.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret form"
ANSWER = "acme-secret-answer"

GLOBAL_ROUTES = {
    "api:v1:list_forms": "no URL names a workspace: the credential's own forms are listed",
    "api:v1:create_form": "creates in the credential's own workspace",
}


def setup(world):
    from django.test import TestCase

    from tidings.forms import actions, tokens
    from tidings.forms.tests.conftest import newsletter_fields, posted
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        form = actions.form_create(name=MARKER, published=True, fields=newsletter_fields(), principal=system(),
                                   actions=[{"kind": "double_opt_in", "purpose": "marketing_email"}])  # fmt: skip
        from tidings.accounts.permissions import PUBLIC_FORM_PERMISSIONS, Principal, Via
        from tidings.tenancy.selectors import workspace_by_id

        public = Principal(workspace=workspace_by_id(world.acme.id), user=None, permissions=PUBLIC_FORM_PERMISSIONS,
                           via=Via.PUBLIC_KEY)  # fmt: skip
        with TestCase.captureOnCommitCallbacks(using=world.acme.db_alias, execute=False):
            result = actions.form_submit(form.pk, posted(email="probe@acme-reader.example", firstname=ANSWER,
                                                         newsletter_ok="1"),
                                         context=actions.SubmitContext(), principal=public)  # fmt: skip
        confirm = tokens.confirm_token(form.pk, result.submission_id)
    world.objects.update(acme_form=form.pk, acme_submission=result.submission_id, acme_confirm=confirm)
    world.markers.update({MARKER, ANSWER, "probe@acme-reader.example"})


def _form(w):
    return w.objects["acme_form"]


def _ui(tail, method="GET", data=None):
    def probes(w):
        path = f"forms/{_form(w)}/{tail}"
        return [Probe(method, f"/w/{w.acme.slug}/{path}", data=data),
                Probe(method, f"/w/{w.globex.slug}/{path}", data=data)]  # fmt: skip

    return probes


def _native(method, tail, data=None):
    def probes(w):
        path = tail(w)
        return [Probe(method, f"/api/v1/{path}", actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


def _mautic(method, tail, data=None):
    def probes(w):
        acme, bare, own = f"/m/{w.acme.slug}/api/{tail(w)}", f"/api/{tail(w)}", f"/m/{w.globex.slug}/api/{tail(w)}"
        return [
            Probe(method, path, actor=actor, data=data)
            for path, actor in ((acme, "bob_token"), (acme, "bob_basic"), (bare, "bob_token"), (own, "bob_token"))
        ]

    return probes


def _mautic_acme_base(method, tail, data=None):
    def probes(w):
        acme = f"/m/{w.acme.slug}/api/{tail(w)}"
        return [Probe(method, acme, actor="bob_token", data=data), Probe(method, acme, actor="bob_basic", data=data)]

    return probes


def _public(method, tail, data=None):
    """The public door of the attacker's own workspace, naming Acme's form: 404, as for no form at all."""

    def probes(w):
        return [Probe(method, f"/m/{w.globex.slug}/form/{tail(w)}", data=data)]

    return probes


_SUBMIT = {"mauticform[email]": "mallory@attacker.example", "mauticform[firstname]": "Mallory"}
_FIELD = {"kind": "text", "label": "Probe"}

CASES = {
    "forms:list": lambda w: [Probe("GET", f"/w/{w.acme.slug}/forms/")],
    "forms:create": lambda w: [
        Probe("GET", f"/w/{w.acme.slug}/forms/new/"),
        Probe("POST", f"/w/{w.acme.slug}/forms/new/", data={"name": "x"}),
    ],  # fmt: skip
    "forms:detail": _ui(""),
    "forms:settings": _ui("settings/", "POST", {"name": "Renamed"}),
    "forms:field_add": _ui("fields/add/", "POST", _FIELD),
    "forms:field_edit": lambda w: _ui("fields/1/")(w) + _ui("fields/1/", "POST", _FIELD)(w),
    "forms:field_move": _ui("fields/1/move/", "POST", {"direction": "down"}),
    "forms:field_remove": _ui("fields/1/remove/", "POST"),
    "forms:action_add": _ui("actions/add/", "POST", {"kind": "points", "delta": "5"}),
    "forms:action_remove": _ui("actions/0/remove/", "POST"),
    "forms:delete": _ui("delete/", "POST", {"confirmed": "1"}),
    "forms:results": _ui("results/"),
    "forms:results_export": _ui("results/export.csv"),
    "api:v1:get_form": _native("GET", lambda w: f"forms/{_form(w)}"),
    "api:v1:update_form": _native("PATCH", lambda w: f"forms/{_form(w)}", {"name": "x"}),
    "api:v1:delete_form": _native("DELETE", lambda w: f"forms/{_form(w)}"),
    "api:v1:list_submissions": _native("GET", lambda w: f"forms/{_form(w)}/submissions"),
    "mautic_compat:forms_list": _mautic_acme_base("GET", lambda w: "forms"),
    "mautic_compat:forms_new": _mautic_acme_base("POST", lambda w: "forms/new", {"name": "x"}),
    "mautic_compat:forms_batch_new": _mautic_acme_base("POST", lambda w: "forms/batch/new", {}),
    "mautic_compat:forms_batch_edit": _mautic_acme_base("PATCH", lambda w: "forms/batch/edit", {}),
    "mautic_compat:forms_batch_delete": _mautic_acme_base("DELETE", lambda w: f"forms/batch/delete?ids={_form(w)}"),
    "mautic_compat:forms_get": _mautic("GET", lambda w: f"forms/{_form(w)}"),
    "mautic_compat:forms_edit": _mautic("PATCH", lambda w: f"forms/{_form(w)}/edit", {"name": "x"}),
    "mautic_compat:forms_delete": _mautic("DELETE", lambda w: f"forms/{_form(w)}/delete"),
    "mautic_compat:form_submissions": _mautic("GET", lambda w: f"forms/{_form(w)}/submissions"),
    "mautic_compat:form_submission": _mautic(
        "GET", lambda w: f"forms/{_form(w)}/submissions/{w.objects['acme_submission']}"
    ),
    "mautic_compat:form_submit": _public("POST", lambda w: f"submit?formId={_form(w)}", _SUBMIT),
    "mautic_compat:form_submit_ajax": _public("POST", lambda w: f"submit/ajax?formId={_form(w)}", _SUBMIT),
    "mautic_compat:form_generate_js": _public("GET", lambda w: f"generate.js?id={_form(w)}"),
    "mautic_compat:form_standalone": _public("GET", lambda w: f"{_form(w)}"),
    "mautic_compat:form_confirm": lambda w: (
        _public("GET", lambda w: f"confirm/{w.objects['acme_confirm']}")(w)
        + _public("POST", lambda w: f"confirm/{w.objects['acme_confirm']}")(w)
    ),
}

OWN_WORKSPACE = {
    "forms:list": lambda w: [Probe("GET", f"/w/{w.globex.slug}/forms/", status=200)],
    "api:v1:list_forms": lambda w: [Probe("GET", "/api/v1/forms", actor="bob_token", status=200)],
    "mautic_compat:forms_list": lambda w: [
        Probe("GET", f"/m/{w.globex.slug}/api/forms", actor="bob_token", status=200)
    ],
    "mautic_compat:forms_batch_delete": lambda w: [
        Probe("DELETE", f"/m/{w.globex.slug}/api/forms/batch/delete?ids={_form(w)}", actor="bob_token")
    ],
}
