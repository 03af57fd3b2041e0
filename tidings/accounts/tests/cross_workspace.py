"""Routes of the accounts app: global ones, and probes proving bob (Globex) gets 404 on Acme's settings.

Each object route is probed twice: under Acme's slug (bob is not a member) and under Globex's slug with
Acme's object id (bob may manage Globex, but the id is not Globex's).
"""

from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "accounts:login": "sign-in page",
    "accounts:login_verify": "second sign-in step for the user in the session",
    "accounts:logout": "sign-out",
    "accounts:password_change": "the signed-in user's own password",
    "accounts:password_reset": "asks for an email address, reveals nothing",
    "accounts:password_reset_done": "static confirmation",
    "accounts:password_reset_confirm": "addressed by a signed, user-bound token",
    "accounts:password_reset_complete": "static confirmation",
    "accounts:security": "the signed-in user's own password and two-factor settings",
    "accounts:two_factor_start": "the signed-in user's own devices",
    "accounts:two_factor_confirm": "the signed-in user's own devices",
    "accounts:backup_codes": "the signed-in user's own devices",
    "accounts:two_factor_disable": "the signed-in user's own devices",
    "accounts:invitation_accept": "addressed by a secret one-time token, bound to the invited email",
    "accounts:staff_support": "staff's own support-access requests; grants are checked per workspace",
}


def setup(world):
    from tidings.accounts.actions import invitation_create, support_grant_request, user_create
    from tidings.accounts.selectors import membership_for, principal_for_user

    principal = principal_for_user(world.alice, world.acme)
    world.objects["acme_membership"] = membership_for(world.alice, world.acme)
    world.objects["acme_invitation"], _ = invitation_create(
        workspace=world.acme, email="dora@acme.example", role="marketer", principal=principal
    )
    staff = user_create(email="sam@tidings.example", password="another long passphrase", is_staff=True)
    world.objects["acme_grant"] = support_grant_request(
        staff_user=staff, workspace=world.acme, reason="ticket 1", hours=2
    )


def _both(world, path_tail: str, method: str = "GET") -> list[Probe]:
    return [
        Probe(method, f"/w/{world.acme.slug}/settings/{path_tail}"),
        Probe(method, f"/w/{world.globex.slug}/settings/{path_tail}"),
    ]


def _acme(world, path_tail: str, method: str = "GET") -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/settings/{path_tail}")]


# The attacker's own settings pages list his workspace only.
OWN_WORKSPACE = {
    "accounts:settings_members": lambda world: [
        Probe("GET", f"/w/{world.globex.slug}/settings/members/", status=200, shows=world.bob.email)
    ],
    "accounts:settings_support": lambda world: [Probe("GET", f"/w/{world.globex.slug}/settings/support/", status=200)],
}

CASES = {
    "accounts:two_factor_required": lambda world: [Probe("GET", f"/w/{world.acme.slug}/two-factor-required/")],
    "accounts:settings_members": lambda world: _acme(world, "members/"),
    "accounts:member_invite": lambda world: _acme(world, "members/invite/", "POST"),
    "accounts:member_role": lambda world: _both(world, f"members/{world.objects['acme_membership'].pk}/role/", "POST"),
    "accounts:member_remove": lambda world: _both(
        world, f"members/{world.objects['acme_membership'].pk}/remove/", "POST"
    ),
    "accounts:member_unlock": lambda world: _both(
        world, f"members/{world.objects['acme_membership'].pk}/unlock/", "POST"
    ),
    "accounts:invitation_revoke": lambda world: _both(
        world, f"invitations/{world.objects['acme_invitation'].pk}/revoke/", "POST"
    ),
    "accounts:settings_roles": lambda world: _acme(world, "roles/"),
    "accounts:settings_workspace": lambda world: _acme(world, "workspace/") + _acme(world, "workspace/", "POST"),
    "accounts:settings_support": lambda world: _acme(world, "support/"),
    "accounts:support_approve": lambda world: _both(
        world, f"support/{world.objects['acme_grant'].pk}/approve/", "POST"
    ),
    "accounts:support_decline": lambda world: _both(
        world, f"support/{world.objects['acme_grant'].pk}/decline/", "POST"
    ),
    "accounts:support_revoke": lambda world: _both(world, f"support/{world.objects['acme_grant'].pk}/revoke/", "POST"),
}
