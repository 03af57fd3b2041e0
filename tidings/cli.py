"""The `tidings` command: Django's management commands with Tidings' settings.

`tidings serve`, `tidings worker`, `tidings migrate`, `tidings createworkspace`, `tidings createuser`,
`tidings demo`, `tidings audit verify` and every Django command (`tidings help` lists them).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tidings", *sys.argv[1:]])


if __name__ == "__main__":
    main()
