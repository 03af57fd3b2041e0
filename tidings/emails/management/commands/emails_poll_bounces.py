"""manage.py emails_poll_bounces <workspace> --host imap.example.org --user bounces@example.org

Read a workspace's bounce mailbox over IMAP (TLS by default) and record the bounces its delivery status
notifications report and the replies to our messages it received (tidings.emails.mailbox). The password
comes from an environment variable (--password-env, default TIDINGS_BOUNCE_IMAP_PASSWORD), never from the
command line.
"""

from __future__ import annotations

import contextlib
import imaplib
import os

from django.core.management.base import BaseCommand, CommandError

from tidings.accounts.permissions import system_principal
from tidings.emails import mailbox
from tidings.tenancy.context import use_workspace
from tidings.tenancy.selectors import workspace_by_slug


class Command(BaseCommand):
    help = "Record the bounces and replies a workspace's bounce mailbox (IMAP) received."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="the workspace's slug")
        parser.add_argument("--host", required=True)
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--user", required=True)
        parser.add_argument("--password-env", default="TIDINGS_BOUNCE_IMAP_PASSWORD")
        parser.add_argument("--folder", default="INBOX")
        parser.add_argument("--plain", action="store_true", help="no TLS (a mailbox on this machine only)")
        parser.add_argument(
            "--delete",
            action="store_true",
            help="delete the DSNs read instead of marking them seen (replies are only marked seen)",
        )

    def handle(self, *args, **options):
        workspace = workspace_by_slug(options["workspace"])
        if workspace is None:
            raise CommandError("No such workspace.")
        password = os.environ.get(options["password_env"], "")
        if not password:
            raise CommandError(f"Set the mailbox password in {options['password_env']}.")
        factory = imaplib.IMAP4 if options["plain"] else imaplib.IMAP4_SSL
        port = options["port"] or (143 if options["plain"] else 993)
        try:
            connection = factory(options["host"], port)
            connection.login(options["user"], password)
        except (OSError, imaplib.IMAP4.error) as error:
            raise CommandError(f"The mailbox cannot be opened: {type(error).__name__}.") from None
        try:
            with use_workspace(workspace):
                principal = system_principal(workspace, reason="command:emails_poll_bounces")
                result = mailbox.poll(connection, principal=principal, folder=options["folder"],
                                      delete=options["delete"])  # fmt: skip
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                connection.logout()
        self.stdout.write(f"read {result.read}: {result.dsn} DSN ({result.hard} hard, {result.soft} soft bounces), "
                          f"{result.replies} replies, {result.other} other messages left unseen")  # fmt: skip
