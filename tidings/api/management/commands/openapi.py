"""`tidings openapi`: print the native API's OpenAPI document, write it to docs/api/openapi.json, or check it."""

from __future__ import annotations

import difflib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tidings.api import openapi


class Command(BaseCommand):
    help = "Print the OpenAPI document of /api/v1 (--write: update the committed copy; --check: compare with it)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--write", action="store_true", help="Write the document to the committed file.")
        action.add_argument("--check", action="store_true", help="Exit 1, with a diff, if the file is out of date.")
        parser.add_argument(
            "--output", type=Path, default=openapi.COMMITTED, help=f"The file (default: {openapi.COMMITTED})."
        )

    def handle(self, *args, write, check, output, verbosity, **options):
        text = openapi.render()
        if write:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            if verbosity:
                self.stdout.write(f"wrote {output}")
        elif check:
            committed = output.read_text(encoding="utf-8") if output.exists() else ""
            if committed != text:
                diff = difflib.unified_diff(
                    committed.splitlines(keepends=True), text.splitlines(keepends=True), str(output), "live"
                )
                self.stdout.write("".join(diff))
                raise CommandError(f"{output} is out of date: run `{openapi.REGENERATE}` and commit it")
            if verbosity:
                self.stdout.write(f"{output} is up to date")
        else:
            self.stdout.write(text, ending="")
