"""`tidings demo`: create or refresh the demo workspace and print how to sign in."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tidings.cli import validation_message
from tidings.demo import demo_build


class Command(BaseCommand):
    help = "Create (or refresh) the 'Acme Demo' workspace with made-up members; print the URL and a fresh password."

    def handle(self, *args, **options):
        try:
            demo = demo_build()
        except ValidationError as error:
            raise CommandError(validation_message(error)) from error
        self.stdout.write(f"Demo workspace {demo.workspace.name!r} is ready: {demo.workspace_url}")
        self.stdout.write(f"Sign in at {demo.login_url}")
        for role, email in demo.logins:
            self.stdout.write(f"  {role:<9} {email}")
        self.stdout.write(f"  password  {demo.password}   (new on every run of `tidings demo`)")
