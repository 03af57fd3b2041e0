"""`tidings createuser EMAIL [--password P] [--staff] [--workspace SLUG --role ROLE]`."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tidings.accounts.actions import membership_create, user_create
from tidings.accounts.permissions import Role, system_principal
from tidings.cli import validation_message
from tidings.tenancy.selectors import workspace_by_slug


class Command(BaseCommand):
    help = (
        "Create a user who signs in with EMAIL. Without --password the password is asked twice "
        "(it is not echoed). --workspace and --role add the user to a workspace."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", help="Visible in the process list and shell history; prefer the prompt.")
        parser.add_argument("--staff", action="store_true", help="A Tidings operator (sees no workspace by default).")
        parser.add_argument("--workspace", metavar="SLUG", help="Add the user to this workspace...")
        parser.add_argument("--role", choices=Role.values, help="...with this role.")

    def handle(self, *args, email, password, staff, workspace, role, verbosity, **options):
        if bool(workspace) != bool(role):
            raise CommandError("--workspace and --role go together")
        target = None
        if workspace:
            target = workspace_by_slug(workspace)
            if target is None:
                raise CommandError(f"no workspace with the slug {workspace}")
        if password is None:
            password = self._prompt_password()
        try:
            user = user_create(email=email, password=password, is_staff=staff)
        except ValidationError as error:
            raise CommandError(validation_message(error)) from error
        if target is not None:
            principal = system_principal(target, reason="command:createuser")
            membership_create(workspace=target, user=user, role=role, principal=principal)
        if verbosity:
            where = f", {role} of {target.slug}" if target else ""
            self.stdout.write(f"Created {'staff ' if staff else ''}user {user.email}{where}")

    def _prompt_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("give --password, or run the command in a terminal to be asked for one")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        if not first:
            raise CommandError("the password must not be empty")
        return first
