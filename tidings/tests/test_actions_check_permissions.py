"""Every action takes the principal that acts and checks its permission before anything else.

Authorization that lives in views drifts: the UI asked for contacts:delete to merge while the
Mautic edit route merged with contacts:edit only. So each action decides, and this test reads
the source of every module that holds actions and fails when a public function

- has no keyword-only ``principal`` parameter, or gives it a default (callers must say who acts), or
- does not begin (after its docstring) with a permission check: a call of
  ``tidings.accounts.permissions.require`` or of a module helper that calls it (``_require``),
  or a delegation to another checked action of the module with ``principal=principal``.

A public function that is not an action, or that acts by design for someone who is not a
member, is listed in EXEMPT with the reason. The list only shrinks: an entry that no longer
names a public function fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

ROOT = Path(__file__).resolve().parents[1]  # the tidings package

# Every app's actions.py or actions package, plus the contacts modules whose functions write
# (imports) or audit a disclosure of personal data (exports).
ACTION_MODULES = sorted(
    str(path.relative_to(ROOT.parent))
    for path in [*ROOT.glob("*/actions.py"), *ROOT.glob("*/actions/*.py")]
    if path.name != "__init__.py"
) + [
    "tidings/contacts/imports.py",
    "tidings/contacts/import_uploads.py",
    "tidings/contacts/exports.py",
]

CHECKS = {"require", "_require"}

EXEMPT: dict[str, dict[str, str]] = {
    "tidings/accounts/actions.py": {
        # By design: these act for a person, not for a member of a workspace.
        "user_create": "a platform account, not workspace data: the createuser command, the demo, invitation sign-up",
        "workspace_create": "a principal acts in a workspace, and this one does not exist yet",
        "user_password_set": "people set their own password, signed in or through a reset link",
        "invitation_accept": "the invitee is not a member yet; the invitation is the authority",
        "invitation_accept_as_new_user": "as invitation_accept, creating the invitee's account",
        "totp_device_start": "a user's own second factor, outside any workspace",
        "totp_device_confirm": "a user's own second factor, outside any workspace",
        "backup_codes_generate": "a user's own second factor, outside any workspace",
        "two_factor_disable": "a user's own second factor, outside any workspace (needs a current code)",
        "support_grant_request": "staff are not members: asking for access is the point; it checks is_staff",
        # Not actions.
        "support_grant_log_request": "writes the audit entry of a request made under a grant, with its principal",
        "sign_in_pause_record": "the sign-in throttle records a pause it decided; no one acts (system chain)",
    },
    "tidings/policies/actions.py": {
        "policy_publish": "Tidings' own policies: staff are not members of the workspaces told; it checks is_staff",
        "policy_notify_admins": "Tidings tells its customers of a version staff published (the task queued on commit)",
    },
    "tidings/api/actions.py": {
        "api_token_touch": "bookkeeping of authentication (last use, once a minute), no decision of anyone's",
    },
    "tidings/audit/actions.py": {
        "truncate_ip": "a pure helper",
        "audit_record": "the recorder each action calls with its principal after it checked; it decides nothing",
        "audit_outbox_forward": "moves entries that checked actions already recorded into their chains",
        "audit_key_chains": "an operator command over every chain of the platform, from the shell; no workspace",
        "audit_rekey_chains": "an operator command over every chain of the platform, from the shell; no workspace",
    },
    "tidings/contacts/actions/schema.py": {
        "load_fields": "a read for writers: stores the core fields first when a workspace predates them",
        "fields_ensure_core": "stores the built-in field definitions of a workspace: system data no one decides",
    },
    "tidings/contacts/imports.py": {
        "max_upload_bytes": "a setting",
        "preview": "a read of an uploaded file",
        "mapping_targets": "a read",
        "stalled_imports": "a read: the periodic sweep's list of ids",
        "max_columns": "a setting",
        "preview_rows": "a setting",
        "errors_csv": "a read of an import's errors",
    },
    "tidings/contacts/import_uploads.py": {
        "import_storage": "a helper: where uploads live",
        "upload_folder": "a helper: the folder an upload is written to, by import_create (checked)",
        "open_upload": "a read of an uploaded file",
        "open_rows": "a read of an uploaded file",
        "delete_file_on_commit": "run by the checked actions that end an import, in their transaction",
        "expired_uploads": "a read: the periodic sweep's list of ids",
        "stray_upload_files": "a read of the upload folders for the periodic sweep",
        "erase_uploads": "an erasure-registry eraser, run by the erasure that checked its own permission",
        "erase_workspace_uploads": "an erasure-registry eraser, run by the erasure that checked its own permission",
    },
    "tidings/jobs/actions.py": {
        # Plumbing under other actions, which check their principal before they schedule; the
        # row is bound to the workspace_id it is given, and the worker runs it as the system.
        "schedule_task": "plumbing called by actions that already checked their principal",
        "cancel_scheduled_task": "plumbing called by actions that already checked their principal",
        # Coalesced wake-ups: queued after a commit of an action that checked its principal, or by the
        # scheduler's sweep; the task runs as the workspace's system principal.
        "coalesce_key": "a pure function: the dedupe key of a task path",
        "enqueue_once": "plumbing called after actions that already checked their principal, and by the sweep",
        "release_coalesced": "plumbing run by the task itself as it starts (tidings.jobs.tenant)",
    },
}


def _public_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _body(function: ast.FunctionDef) -> list[ast.stmt]:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]  # the docstring
    return body


def _is_check(statement: ast.stmt, actions: set[str]) -> bool:
    """Return whether statement calls a permission check, or delegates to an action with principal=principal."""
    for node in ast.walk(statement):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name in CHECKS:
            return True
        passes_principal = any(
            k.arg == "principal" and isinstance(k.value, ast.Name) and k.value.id == "principal" for k in node.keywords
        )
        if name in actions and passes_principal:
            return True
    return False


def _module(path: str) -> ast.Module:
    return ast.parse((ROOT.parent / path).read_text(), filename=path)


def _actions(path: str) -> list[tuple[str, ast.FunctionDef]]:
    exempt = EXEMPT.get(path, {})
    return [(name, fn) for name, fn in _public_functions(_module(path)).items() if name not in exempt]


def _package_modules(path: str) -> list[str]:
    """Return path and, for a module of an actions package, its siblings (an action may delegate to one)."""
    folder = str(Path(path).parent)
    if not folder.endswith("/actions"):
        return [path]
    return [sibling for sibling in ACTION_MODULES if str(Path(sibling).parent) == folder]


ALL_ACTIONS = [(path, name) for path in ACTION_MODULES for name, _ in _actions(path)]


def test_the_scan_finds_the_actions_it_guards():
    names = {name for _, name in ALL_ACTIONS}
    assert {"contact_merge", "contact_update", "import_run", "membership_create", "api_token_revoke"} <= names


@pytest.mark.parametrize(("path", "name"), ALL_ACTIONS, ids=[f"{p}::{n}" for p, n in ALL_ACTIONS])
def test_an_action_takes_a_required_keyword_only_principal(path, name):
    function = dict(_actions(path))[name]
    arguments = function.args
    keyword_only = {arg.arg: default for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)}
    assert "principal" in keyword_only, f"{name} takes no keyword-only principal"
    assert keyword_only["principal"] is None, f"{name} gives principal a default: callers must say who acts"
    assert "actor" not in keyword_only, f"{name} still takes actor: the principal is the actor"


@pytest.mark.parametrize(("path", "name"), ALL_ACTIONS, ids=[f"{p}::{n}" for p, n in ALL_ACTIONS])
def test_an_action_checks_its_permission_first(path, name):
    actions = {action for sibling in _package_modules(path) for action, _ in _actions(sibling)}
    statements = _body(dict(_actions(path))[name])
    assert statements, f"{name} is empty"
    assert _is_check(statements[0], actions - {name}), (
        f"{name} must begin with require(principal, ...) (or delegate to a checked action with principal=principal)"
    )


@pytest.mark.parametrize("path", ACTION_MODULES)
def test_a_modules_check_helper_calls_require(path):
    helpers = [n for n in _module(path).body if isinstance(n, ast.FunctionDef) and n.name == "_require"]
    for helper in helpers:
        calls = {_called_name(node) for node in ast.walk(helper) if isinstance(node, ast.Call)}
        assert "require" in calls, f"{path}: _require must call tidings.accounts.permissions.require"


@pytest.mark.parametrize("path", sorted(EXEMPT))
def test_every_exemption_names_a_public_function(path):
    public = _public_functions(_module(path))
    stale = set(EXEMPT[path]) - set(public)
    assert not stale, f"{path}: exempt names that are no longer public functions: {sorted(stale)}"


def test_the_scan_fails_an_action_without_a_check():
    source = '''
def contact_erase(contact_id, *, principal):
    """Erase a contact."""
    audit_record("contact.erased", principal=principal)
'''
    function = _public_functions(ast.parse(source))["contact_erase"]
    assert not _is_check(_body(function)[0], set())


AUDIT_CALLS = {"audit_record", "_audit"}


@pytest.mark.parametrize("path", ACTION_MODULES)
def test_actions_hand_their_principal_to_the_audit_log(path):
    """Each audit entry an action writes names who acted: the principal, so a task is recorded as "system"."""
    exempt = EXEMPT.get(path, {})
    missing = []
    for function in _module(path).body:
        if (
            not isinstance(function, ast.FunctionDef)
            or function.name in exempt
            or function.name in {"_audit", "_audit_user"}
        ):
            continue
        for node in ast.walk(function):
            is_audit = isinstance(node, ast.Call) and _called_name(node) in AUDIT_CALLS
            if is_audit and not any(k.arg == "principal" for k in node.keywords):
                missing.append(f"{function.name} (line {node.lineno})")
    assert not missing, f"{path}: audit entries written without the principal: {missing}"
