"""The one catalogue of permissions, the roles built from it, and the one place that decides.

UI views, the native API and the Mautic-compatible API all ask Principal.can(); nothing
else compares roles or permission strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models

PERMISSIONS: dict[str, str] = {
    "workspace:view": "Open the workspace and its dashboard",
    "contacts:view": "See contacts and their personal data",
    "contacts:edit": "Create and change contacts, fields, tags and companies",
    "contacts:delete": "Delete contacts",
    "contacts:import": "Import contacts",
    "contacts:export": "Export contacts with their personal data",
    "segments:view": "See segments",
    "segments:edit": "Create and change segments",
    "tracking:view": "See tracked sites, their snippets and visitors' events",
    "tracking:edit": "Create and change tracked sites and rotate their keys",
    # Held only by the principal of a public site key (the tracker), never by a role.
    "tracking:record": "Record page hits, events and identifications from a tracked site",
    "emails:view": "See emails",
    "emails:edit": "Create and change emails",
    "emails:send": "Send emails",
    "emails:bounces": "Report bounces, complaints and replies (the inbound endpoints, a bounce mailbox)",
    # Held only by the principal of a workspace's public pages, for a message's signed links, never by a role.
    "emails:feedback": "Record a message's opens, clicks and unsubscription from its signed links",
    "campaigns:view": "See campaigns",
    "campaigns:edit": "Create, change and launch campaigns",
    "forms:view": "See forms",
    "forms:edit": "Create and change forms",
    "forms:results": "See and export forms' submissions (the answers people gave)",
    # Held only by the principal of the public form door (a form posted from a customer's page), never by a role.
    "forms:submit": "Submit a published form from a public page",
    "assets:view": "See assets (downloadable files and links) and their download counts",
    "assets:edit": "Upload, change and delete assets",
    # Held only by the principal of a workspace's public pages (/m/<slug>/...), never by a role.
    "assets:download": "Download a published asset and record the download",
    "pages:view": "See landing pages",
    "pages:edit": "Create, change, publish and delete landing pages",
    # Held only by the principal of a contact's signed preference link, never by a role.
    "preferences:change": "Change one's own subscriptions, consents and Do-Not-Contact (the preference centre)",
    "reports:view": "See aggregate reports",
    "privacy:view": "See data-subject requests and consent records",
    "privacy:requests": "Handle data-subject requests: record, verify, approve, extend, deny and carry them out",
    # Held only by the principal of a workspace's public pages (the public request form), never by a role.
    "privacy:ask": "Ask a workspace for one's own data, its correction, restriction or erasure",
    "privacy:manage": "Define purposes of processing and publish privacy notices",
    "consent:record": "Record consent given or withdrawn (the tracker, forms, imports, the API)",
    "privacy:erase": "Carry out erasure requests",
    "privacy:export": "Produce access (export) packages",
    "audit:view": "Browse the audit log",
    "members:manage": "Invite members and change their roles",
    "settings:manage": "Change workspace settings, API tokens and OAuth2 apps",
    "support:approve": "Approve, decline and revoke staff support access",
    "workspace:delete": "Delete the workspace",
}


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    ANALYST = "analyst", "Analyst (aggregates only)"


_ALL = frozenset(PERMISSIONS)
# Permissions of public doors only (a site key acts with them): no member holds them.
PUBLIC_DOOR_ONLY = frozenset(
    {"tracking:record", "forms:submit", "assets:download", "preferences:change", "privacy:ask", "emails:feedback"}
)
# What a site key's principal may do: record hits and identifications, and the visitor's consent choices.
PUBLIC_KEY_PERMISSIONS = frozenset({"tracking:record", "consent:record"})
# What the public form door's principal may do: submit a published form, with the consent its checkboxes record.
PUBLIC_FORM_PERMISSIONS = frozenset({"forms:submit", "consent:record"})
# What the principal of a workspace's public pages (/m/<slug>/asset/..., tidings.web.entry.PUBLIC_PAGE) may do.
PUBLIC_PAGE_PERMISSIONS = frozenset({"assets:download", "privacy:ask", "emails:feedback"})
# What the holder of a contact's preference link may do, for that contact only (tidings.pages.actions).
PREFERENCE_LINK_PERMISSIONS = frozenset({"preferences:change"})
_ROLES_ALL = _ALL - PUBLIC_DOOR_ONLY
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: _ROLES_ALL,
    Role.ADMIN: _ROLES_ALL - {"workspace:delete"},
    Role.MARKETER: frozenset(
        {
            "workspace:view",
            "contacts:view",
            "contacts:edit",
            "contacts:delete",
            "contacts:import",
            "contacts:export",
            "segments:view",
            "segments:edit",
            "tracking:view",
            "tracking:edit",
            "emails:view",
            "emails:edit",
            "emails:send",
            "campaigns:view",
            "campaigns:edit",
            "forms:view",
            "forms:edit",
            "forms:results",
            "assets:view",
            "assets:edit",
            "pages:view",
            "pages:edit",
            "reports:view",
            "consent:record",
        }
    ),
    # Analysts see aggregates only: no permission here reveals a contact's personal data.
    Role.ANALYST: frozenset(
        {"workspace:view", "segments:view", "emails:view", "campaigns:view", "forms:view", "pages:view", "reports:view"}
    ),
}

# What a staff member may do under an approved support grant. Read-only by default; a
# write grant still never manages members, grants, settings or the workspace itself.
SUPPORT_READ_PERMISSIONS = frozenset(p for p in PERMISSIONS if p.endswith(":view"))
SUPPORT_WRITE_PERMISSIONS = ROLE_PERMISSIONS[Role.ADMIN] - {
    "members:manage",
    "settings:manage",
    "support:approve",
    "privacy:erase",
}


def role_permissions(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def validate_permissions(requested) -> frozenset[str]:
    """Return requested as a frozenset; raise ValueError naming any unknown permission."""
    unknown = set(requested) - _ALL
    if unknown:
        raise ValueError(f"unknown permissions: {', '.join(sorted(unknown))}")
    return frozenset(requested)


class Via(models.TextChoices):
    MEMBER = "member", "Member"
    TOKEN = "token", "API token"
    OAUTH = "oauth", "OAuth2 application"
    SUPPORT = "support", "Staff support grant"
    SYSTEM = "system", "Tidings itself (tasks and commands)"
    PUBLIC_KEY = "public_key", "A public site or form key"
    PREFERENCE_LINK = "preference_link", "A contact's signed preference-centre link"
    VISITOR = "visitor", "A visitor of the workspace's public pages"


_ACTOR_TYPES: dict[str, str] = {
    Via.SUPPORT: "staff",
    Via.OAUTH: "oauth_app",
    Via.TOKEN: "api_token",
    Via.SYSTEM: "system",
    Via.PUBLIC_KEY: "public_key",
    Via.PREFERENCE_LINK: "contact",
    Via.VISITOR: "visitor",
}


@dataclass(frozen=True)
class Principal:
    """Who is acting in a workspace, how they got in, and what they may do there."""

    workspace: Any  # tenancy.models.Workspace
    user: Any  # accounts.models.User; None for client-credentials apps
    permissions: frozenset[str]
    via: str = Via.MEMBER
    role: str | None = None
    credential_id: int | None = None  # the token, OAuth application or support grant
    extra: dict = field(default_factory=dict)

    def can(self, permission: str) -> bool:
        """Return whether this principal holds permission; raise on a name not in the catalogue."""
        if permission not in PERMISSIONS:
            raise KeyError(f"{permission!r} is not in the permission catalogue")
        return permission in self.permissions

    @property
    def actor_type(self) -> str:
        return _ACTOR_TYPES.get(str(self.via), "user")

    @property
    def actor_id(self) -> int | None:
        if self.via in (Via.OAUTH, Via.PUBLIC_KEY, Via.PREFERENCE_LINK) and self.user is None:
            return self.credential_id  # the application, the site whose key acted, or the contact of the link
        return getattr(self.user, "pk", None)

    @property
    def is_system(self) -> bool:
        return self.via == Via.SYSTEM


def system_principal(workspace, *, reason: str) -> Principal:
    """Return the principal that tasks and commands act as in workspace.

    It holds every permission, has no user and is recorded as actor "system" in the audit log;
    reason (for example "task:contacts_import_run") says which code acted.
    """
    return Principal(workspace=workspace, user=None, permissions=_ALL, via=Via.SYSTEM, extra={"reason": reason})


def require(principal: Principal, permission: str, *, workspace_id: int | None = None) -> Principal:
    """Return principal if it holds permission (and acts in workspace_id, when given).

    Raise PermissionDenied (every surface answers 403) otherwise, and TypeError when principal
    is missing: every action must be told who acts.
    """
    from django.core.exceptions import PermissionDenied

    if not isinstance(principal, Principal):
        raise TypeError("an action needs the principal that acts (system_principal() for tasks and commands)")
    if workspace_id is not None and principal.workspace.pk != workspace_id:
        raise PermissionDenied("This principal acts in another workspace.")
    if not principal.can(permission):
        raise PermissionDenied(f"You need the {permission} permission.")
    return principal


# Route declarations. Every route says what it needs; the entry pipeline (tidings.web.entry) reads the
# declaration and checks it before the view runs, for the UI and both APIs alike.

ACCESS_ATTRIBUTE = "tidings_access"


@dataclass(frozen=True)
class Access:
    """What a route declares about who may call it.

    permission: the permission the principal must hold (None: any principal will do);
    public: no principal is needed at all (sign-in pages, the OpenAPI document);
    verifies_two_factor: the page where a member passes the workspace's two-factor policy, so
    that policy must not send them away from it.
    """

    permission: str | None = None
    public: bool = False
    verifies_two_factor: bool = False

    def __post_init__(self) -> None:
        if self.permission is not None and self.permission not in PERMISSIONS:
            raise KeyError(f"{self.permission!r} is not in the permission catalogue")
        if self.public and self.permission is not None:
            raise ValueError("a public route needs no permission")

    @property
    def kind(self) -> str:
        if self.public:
            return "public"
        return "authenticated" if self.permission is None else f"permission {self.permission}"


def declare_access(view, access: Access):
    """Record access on view (a function) and return it."""
    setattr(view, ACCESS_ATTRIBUTE, access)
    return view


def declared_access(view) -> Access | None:
    """Return the Access a view declares (through functools.wraps wrappers), or None when it declares none."""
    seen = 0
    while view is not None and seen < 20:  # a bound on the __wrapped__ chain, never reached in practice
        access = getattr(view, ACCESS_ATTRIBUTE, None)
        if isinstance(access, Access):
            return access
        view = getattr(view, "__wrapped__", None)
        seen += 1
    return None
