"""The demo workspace: "Acme Demo" (slug demo, EU) with made-up people, rebuilt idempotently (`tidings demo`).

It sits above accounts and below the domain apps, which fill it without it importing them.

Apps add demo data by appending a seeder to SEEDERS in their AppConfig.ready():

    from tidings.demo import SEEDERS
    SEEDERS.append(seed_demo_contacts)   # (workspace) -> None, run inside use_workspace(workspace)

A seeder runs on every `tidings demo`, so it must be idempotent (check before it creates).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from tidings.accounts.actions import (
    membership_create,
    user_create,
    user_password_set,
    workspace_create,
    workspace_settings_update,
)
from tidings.accounts.permissions import system_principal
from tidings.accounts.selectors import membership_for, user_by_email
from tidings.audit.actions import audit_record
from tidings.tenancy.context import use_workspace
from tidings.tenancy.models import Workspace
from tidings.tenancy.selectors import workspace_by_slug

SEEDERS: list[Callable[[Workspace], None]] = []

DEMO_NAME = "Acme Demo"
DEMO_SLUG = "demo"
DEMO_REGION = "eu"
# (role, email, first name, last name): made-up people on a reserved domain.
DEMO_PEOPLE = [
    ("owner", "demo@tidings.example", "Dana", "Demo"),
    ("marketer", "maya.marketer@tidings.example", "Maya", "Marketer"),
    ("analyst", "arun.analyst@tidings.example", "Arun", "Analyst"),
]


@dataclass(frozen=True)
class DemoLogin:
    workspace: Workspace
    logins: list[tuple[str, str]]  # (role, email)
    password: str
    workspace_url: str
    login_url: str


def demo_build() -> DemoLogin:
    """Create or refresh the demo workspace, its members and a fresh shared password; run SEEDERS.

    Safe to run again: existing people and the workspace are reused; only the password changes.
    Raise ValidationError if the slug 'demo' is held by a workspace in another region.
    """
    from django.core.exceptions import ValidationError

    password = secrets.token_urlsafe(12)
    users = {}
    for role, email, first_name, last_name in DEMO_PEOPLE:
        user = user_by_email(email)
        if user is None:
            user = user_create(email=email, password=password, first_name=first_name, last_name=last_name)
        else:
            user_password_set(user=user, password=password, reset=True)
        users[role] = user

    workspace = workspace_by_slug(DEMO_SLUG)
    if workspace is None:
        workspace = workspace_create(name=DEMO_NAME, slug=DEMO_SLUG, region=DEMO_REGION, owner=users["owner"])
    elif workspace.region != DEMO_REGION:
        raise ValidationError({"slug": f"workspace '{DEMO_SLUG}' exists in region {workspace.region}"})
    principal = system_principal(workspace, reason="command:demo")
    for role, user in users.items():
        if membership_for(user, workspace) is None:
            membership_create(workspace=workspace, user=user, role=role, principal=principal)
    if not workspace.allow_password_basic:
        # The demo is where people try Mautic clients, many of which only know email:password.
        workspace_settings_update(
            workspace=workspace,
            name=workspace.name,
            require_two_factor=workspace.require_two_factor,
            allow_password_basic=True,
            principal=principal,
        )

    with use_workspace(workspace):
        for seeder in SEEDERS:
            seeder(workspace)
        audit_record(
            "demo.seeded",
            principal=principal,
            target_type="workspace",
            target_id=workspace.pk,
            data={"seeders": len(SEEDERS)},
        )
    base = settings.TIDINGS_BASE_URL
    return DemoLogin(
        workspace=workspace,
        logins=[(role, email) for role, email, _first, _last in DEMO_PEOPLE],
        password=password,
        workspace_url=f"{base}/w/{workspace.slug}/",
        login_url=f"{base}{reverse('accounts:login')}",
    )
