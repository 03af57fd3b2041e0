"""`tidings createworkspace NAME --slug SLUG --region us|eu [--owner EMAIL]`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from tidings.accounts.actions import workspace_create
from tidings.accounts.selectors import user_by_email
from tidings.cli import validation_message
from tidings.tenancy.models import Region


class Command(BaseCommand):
    help = "Create a workspace (a customer account) in a region, optionally with an existing user as owner."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Display name, e.g. 'Acme'.")
        parser.add_argument("--slug", help="URL name (lowercase letters, digits, dashes); default: from the name.")
        parser.add_argument(
            "--region", required=True, choices=Region.values, help="Where the workspace's data lives, for good."
        )
        parser.add_argument("--owner", metavar="EMAIL", help="An existing user to make the owner.")

    def handle(self, *args, name, slug, region, owner, verbosity, **options):
        owner_user = None
        if owner:
            owner_user = user_by_email(owner)
            if owner_user is None:
                raise CommandError(f"no user with the email address {owner}; create it with `tidings createuser`")
        slug = slug or slugify(name)
        try:
            workspace = workspace_create(name=name, slug=slug, region=region, owner=owner_user)
        except ValidationError as error:
            raise CommandError(validation_message(error)) from error
        if verbosity:
            self.stdout.write(
                f"Created workspace {workspace.name!r} (slug {workspace.slug}, region {workspace.region})"
                + (f" owned by {owner_user.email}" if owner_user else "")
            )
