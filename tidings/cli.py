"""The `tidings` command: Django's management commands with Tidings' settings.

`tidings init`, `tidings serve`, `tidings worker`, `tidings scheduler`, `tidings migrate`, `tidings createworkspace`,
`tidings createuser`, `tidings demo`, `tidings audit verify` and every Django command
(`tidings help` lists them).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    from django.core.management import execute_from_command_line

    from tidings.conf import MissingKeyError

    try:
        execute_from_command_line(["tidings", *sys.argv[1:]])
    except MissingKeyError as error:
        sys.exit(f"tidings: {error}")  # the fix is in the message: no traceback


def validation_message(error) -> str:
    """Return a Django ValidationError as one line a person at a terminal can act on."""
    from tidings.validation import error_text  # Django loads only once main() has set the settings

    return error_text(error)


if __name__ == "__main__":
    main()
