"""`tidings audit verify|checkpoint|public-key|key-chains`: check and anchor the audit chains."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tidings.audit.actions import audit_key_chains, audit_rekey_chains
from tidings.audit.checkpoints import checkpoints_export, checkpoints_load, verify_against_checkpoints
from tidings.audit.keys import checkpoint_signing_key, public_key_from_text, public_key_text
from tidings.audit.selectors import verify_chains


class Command(BaseCommand):
    help = (
        "Audit log tools. 'verify' checks every chain (and, with --checkpoints, against a signed checkpoint "
        "file) and exits 1 on any tampering; 'checkpoint' prints a signed checkpoint of every chain to keep "
        "elsewhere; 'public-key' prints the key that checks checkpoints; 'key-chains' keys chains written "
        "before keyed chains (once, after upgrading); 'rekey' re-seals entries keyed under the previous "
        "master key (after a master key rotation, once every process runs with the new key)."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify", "checkpoint", "public-key", "key-chains", "rekey"])
        parser.add_argument("--checkpoints", metavar="FILE", help="verify: also check the chains against this file")
        parser.add_argument(
            "--public-key",
            metavar="KEY",
            help="verify: the published key to check the checkpoint file with (default: derived from the master key)",
        )
        parser.add_argument("--output", metavar="FILE", help="checkpoint: write to FILE instead of printing")
        parser.add_argument(
            "--previous-master-key", metavar="FILE", help="rekey: the master key file in use before the rotation"
        )

    def handle(self, *args, operation, **options):
        if operation == "checkpoint":
            return self._checkpoint(options["output"])
        if operation == "public-key":
            return self._public_key()
        if operation == "key-chains":
            return self._key_chains()
        if operation == "rekey":
            return self._rekey(options["previous_master_key"])
        return self._verify(options["checkpoints"], options["public_key"])

    def _verify(self, checkpoints_path, public_key):
        problems = list(verify_chains())
        if checkpoints_path:
            try:
                key = public_key_from_text(public_key) if public_key else checkpoint_signing_key().public_key()
                text = Path(checkpoints_path).read_text(encoding="utf-8")
                chains = checkpoints_load(text, key)
            except (OSError, ValueError) as error:  # CheckpointError is a ValueError
                detail = error.strerror if isinstance(error, OSError) else str(error)
                raise CommandError(f"checkpoint file not usable: {detail}") from error
            problems += list(verify_against_checkpoints(chains))
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"audit log verification failed: {len(problems)} problem(s)")
        suffix = f", and matches the {len(chains)} checkpointed chain(s)" if checkpoints_path else ""
        self.stdout.write(f"audit log verified: every chain intact{suffix}")

    def _checkpoint(self, output):
        document = checkpoints_export()
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote checkpoints of {len(document['chains'])} chain(s) to {output}")
        else:
            self.stdout.write(text, ending="")
        self.stderr.write(f"checkpoint signing key (public): {document['public_key']}")

    def _public_key(self):
        self.stdout.write(public_key_text(checkpoint_signing_key().public_key()))

    def _key_chains(self):
        try:
            keyed = audit_key_chains()
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"keyed {len(keyed)} chain(s)")

    def _rekey(self, path):
        import base64
        import binascii

        if not path:
            raise CommandError("rekey needs --previous-master-key FILE")
        try:
            previous = base64.b64decode(Path(path).read_bytes().strip(), validate=True)
        except (OSError, binascii.Error) as error:
            raise CommandError(f"cannot read the previous master key from {path}") from error
        if len(previous) != 32:
            raise CommandError(f"{path} must hold a base64-encoded 32-byte key")
        try:
            resealed = audit_rekey_chains(previous)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"re-sealed {len(resealed)} chain(s) under the current master key")
