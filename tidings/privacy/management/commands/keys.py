"""`tidings keys`: rotate the vault's keys without re-encrypting any data.

    tidings keys rotate-workspace SLUG             new workspace key version; re-wrap every contact key
    tidings keys rotate-master --new-key-file PATH re-wrap every workspace key under the key in PATH
    tidings keys status                            key versions and master-key fingerprints per workspace

After rotate-master, swap the key in: replace var/master.key with PATH (or set
TIDINGS_MASTER_KEY to its content) and restart every process (docs/contacts-and-privacy.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tidings.conf import read_or_create_secret, use_master_key
from tidings.privacy import vault
from tidings.privacy.models import WorkspaceKey
from tidings.tenancy.context import region_aliases, use_workspace
from tidings.tenancy.models import Workspace
from tidings.tenancy.rls import dangerously_bypass_rls


class Command(BaseCommand):
    help = "Rotate the personal-data vault's workspace and master keys (re-wraps keys, never re-encrypts data)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        workspace = sub.add_parser("rotate-workspace", help="new key version for one workspace")
        workspace.add_argument("slug")
        workspace.add_argument("--batch-size", type=int, default=1000)
        master = sub.add_parser("rotate-master", help="re-wrap every workspace key under a new master key")
        master.add_argument(
            "--new-key-file", required=True, help="base64 key file; created with a random key if it does not exist"
        )
        sub.add_parser("status", help="show key versions and fingerprints")

    def handle(self, *args, operation, **options):
        if operation == "rotate-workspace":
            self._rotate_workspace(options["slug"], options["batch_size"])
        elif operation == "rotate-master":
            self._rotate_master(Path(options["new_key_file"]))
        else:
            self._status()

    def _rotate_workspace(self, slug: str, batch_size: int) -> None:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"no workspace {slug!r}")
        with use_workspace(workspace):
            result = vault.rotate_workspace_key(batch_size=batch_size)
        self.stdout.write(
            f"{slug}: workspace key v{result.version} active; {result.rewrapped} contact keys re-wrapped; "
            f"retired versions: {list(result.retired_versions) or 'none'}"
        )

    def _rotate_master(self, path: Path) -> None:
        try:
            new_key = read_or_create_secret(path, 32)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        if len(new_key) != 32:
            raise CommandError(f"{path} must hold a base64-encoded 32-byte key")
        if new_key == use_master_key():
            raise CommandError("the new master key is the one already in use")
        try:
            done = vault.rotate_master_key(new_key)
        except vault.VaultError as error:
            raise CommandError(str(error)) from error
        vault.clear_key_cache()
        for alias, count in done.items():
            self.stdout.write(f"{alias}: {count} workspace keys re-wrapped")
        self.stdout.write(
            f"new master key fingerprint {vault.fingerprint(new_key)}. Now install it: replace "
            f"{settings.VAR_DIR / 'master.key'} with {path}, or set TIDINGS_MASTER_KEY to the file's "
            "base64 content, and restart every Tidings process. Then re-seal the audit chains with "
            "`tidings audit rekey --previous-master-key <the old key file>` (keep a copy of it until then)."
        )

    def _status(self) -> None:
        current = vault.fingerprint(use_master_key())
        self.stdout.write(f"configured master key fingerprint: {current}")
        with dangerously_bypass_rls():
            for alias in region_aliases():
                rows = WorkspaceKey.unscoped_objects.using(alias).order_by("workspace_id", "kind", "version")
                for row in rows:
                    flag = "" if row.master_fingerprint == current else "  (wrapped under another master key!)"
                    state = "active" if row.active else "retired"
                    self.stdout.write(
                        f"{alias} workspace {row.workspace_id} {row.kind} v{row.version} {state}"
                        f" master {row.master_fingerprint}{flag}"
                    )
