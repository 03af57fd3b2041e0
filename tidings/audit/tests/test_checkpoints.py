"""Signed checkpoints: kept outside Tidings, they catch a chain cut back or rewritten after export."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from tidings.audit.actions import audit_record
from tidings.audit.checkpoints import CheckpointError, checkpoints_export, checkpoints_load
from tidings.audit.keys import chain_key, public_key_from_text, public_key_text
from tidings.audit.models import AuditChainHead, AuditEntry
from tidings.audit.selectors import verify_chains

REGION = "region_eu"


@pytest.fixture
def acme_chain(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        for n in range(4):
            audit_record("settings.changed", workspace=acme, actor_type="system", data={"n": n})
    return AuditEntry.objects.using(REGION).filter(workspace_id=acme.id).order_by("seq")


@pytest.fixture
def exported(acme_chain, tmp_path):
    """A checkpoint file of every chain as it is now, kept by the operator."""
    path = tmp_path / "checkpoints.json"
    call_command("audit", "checkpoint", "--output", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return path


def verify_with(path, *extra):
    call_command("audit", "verify", "--checkpoints", str(path), *extra, stdout=io.StringIO(), stderr=io.StringIO())


def test_untouched_chains_verify_against_their_checkpoint(exported):
    verify_with(exported)


def test_a_chain_cut_back_after_the_checkpoint_fails(acme, acme_chain, exported):
    """Deleting the newest entries and moving the head back fools the head, not the checkpoint."""
    newest = acme_chain.last()
    newest.delete()
    AuditChainHead.objects.filter(workspace_id=acme.id).update(seq=newest.seq - 1, hash=newest.prev_hash)
    assert list(verify_chains()) == []  # both files agree with each other now

    with pytest.raises(CommandError, match="verification failed"):
        verify_with(exported)


def test_a_chain_rewritten_after_the_checkpoint_fails_even_with_the_master_key(acme, acme_chain, exported):
    """Someone holding the master key can recompute the keyed hashes, but not the exported checkpoint."""
    key, prev = chain_key(), acme_chain.first().prev_hash
    for entry in acme_chain:
        if entry.seq == 3:
            entry.data = {"n": "rewritten"}
        entry.prev_hash = prev
        entry.hash = entry.compute_hash(key)
        entry.save(using=REGION)
        prev = entry.hash
    AuditChainHead.objects.filter(workspace_id=acme.id).update(hash=prev)
    assert list(verify_chains()) == []

    with pytest.raises(CommandError, match="verification failed"):
        verify_with(exported)


def test_a_whole_chain_deleted_after_the_checkpoint_fails(acme, acme_chain, exported):
    acme_chain.delete()
    AuditChainHead.objects.filter(workspace_id=acme.id).delete()

    with pytest.raises(CommandError, match="verification failed"):
        verify_with(exported)


def test_an_altered_checkpoint_file_fails_its_signature_check(acme, acme_chain, exported):
    """Lowering the checkpointed entry to match a cut-back chain breaks the signature."""
    document = json.loads(exported.read_text())
    for item in document["chains"]:
        if item["chain"] == acme.id:
            item["seq"] -= 1
            item["hash"] = acme_chain.get(seq=item["seq"]).hash
    exported.write_text(json.dumps(document))

    with pytest.raises(CommandError, match="signature does not verify"):
        verify_with(exported)


def test_a_checkpoint_file_signed_with_another_key_fails(acme_chain, exported):
    """A forger signs with a key of their own and puts its public key in the file: the file is not trusted."""
    document = json.loads(exported.read_text())
    forger = Ed25519PrivateKey.generate()
    document["public_key"] = public_key_text(forger.public_key())
    del document["signature"]
    signed = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    document["signature"] = base64.b64encode(forger.sign(signed)).decode()
    exported.write_text(json.dumps(document))

    with pytest.raises(CommandError, match="signature does not verify"):
        verify_with(exported)


def test_the_published_public_key_checks_a_checkpoint_without_the_master_key(acme_chain, exported):
    printed = io.StringIO()
    call_command("audit", "public-key", stdout=printed)
    public_key = public_key_from_text(printed.getvalue())

    chains = checkpoints_load(exported.read_text(), public_key)

    assert {item["chain"] for item in chains} >= {acme_chain.first().workspace_id}
    verify_with(exported, "--public-key", printed.getvalue().strip())


def test_the_wrong_public_key_refuses_a_genuine_checkpoint(acme_chain):
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(CheckpointError):
        checkpoints_load(json.dumps(checkpoints_export()), other)


@pytest.mark.parametrize("content", ["", "{}", "[1]", '{"format": "tidings-audit-checkpoints/1", "chains": 5}'])
def test_a_malformed_checkpoint_file_is_refused_clearly(acme_chain, tmp_path, content):
    path = tmp_path / "checkpoints.json"
    path.write_text(content)
    with pytest.raises(CommandError, match="checkpoint file not usable"):
        verify_with(path)


def test_a_head_the_busy_global_database_cannot_move_lags_and_the_next_entry_moves_it(
    acme, acme_chain, django_capture_on_commit_callbacks, monkeypatch
):
    """The region's action is committed: the head lags (allowed), nothing raises, the next entry catches up."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    before = AuditChainHead.objects.get(workspace_id=acme.id).seq
    real_update = QuerySet.update

    def busy(self, **kwargs):
        if self.model is AuditChainHead:
            raise OperationalError("database is locked")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", busy)
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        audit_record("settings.changed", workspace=acme, actor_type="system", data={"n": "busy"})
    assert AuditChainHead.objects.get(workspace_id=acme.id).seq == before
    assert list(verify_chains()) == []  # a lagging head is no problem

    monkeypatch.setattr(QuerySet, "update", real_update)
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        audit_record("settings.changed", workspace=acme, actor_type="system", data={"n": "after"})
    newest = AuditEntry.objects.using(REGION).filter(workspace_id=acme.id).order_by("seq").last()
    assert AuditChainHead.objects.get(workspace_id=acme.id).seq == newest.seq == before + 2
