"""The chain is keyed: HMAC-SHA256 under a key derived from the master key, never stored.

Someone who can write both database files but does not hold the master key can no longer rewrite
history and recompute the hashes so that `tidings audit verify` passes.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command

from tidings.audit.actions import CHAIN_KEYED, GENESIS, audit_record
from tidings.audit.models import ALG_HMAC_SHA256, ALG_SHA256, AuditChainHead, AuditEntry
from tidings.audit.selectors import verify_chains

REGION = "region_eu"


def problems() -> list[str]:
    return [str(problem) for problem in verify_chains()]


def chain(workspace) -> list[AuditEntry]:
    return list(AuditEntry.objects.using(REGION).filter(workspace_id=workspace.id).order_by("seq"))


def rewrite_with_plain_sha256(workspace, *, mutate=lambda entry: None, alg=None) -> None:
    """Do what an attacker with write access to both files can: edit, re-hash every entry, move the head."""
    prev = GENESIS
    for entry in chain(workspace):
        mutate(entry)
        if alg is not None:
            entry.alg = alg
        entry.prev_hash = prev
        entry.hash = hashlib.sha256(entry.canonical()).hexdigest()
        entry.save(using=REGION)
        prev = entry.hash
    AuditChainHead.objects.filter(workspace_id=workspace.id).update(hash=prev)


@pytest.fixture
def acme_chain(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        for n in range(4):
            audit_record("settings.changed", workspace=acme, actor_type="system", data={"n": n})
    return chain(acme)


def test_new_entries_are_keyed_and_not_plain_sha256(acme_chain):
    assert {entry.alg for entry in acme_chain} == {ALG_HMAC_SHA256}
    newest = acme_chain[-1]
    assert newest.key_id
    assert newest.hash != hashlib.sha256(newest.canonical()).hexdigest()
    assert problems() == []


def test_rewriting_entries_and_recomputing_plain_sha256_hashes_is_detected(acme, acme_chain):
    def disguise_entry_3(entry):
        if entry.seq == 3:
            entry.action, entry.data = "settings.viewed", {}

    rewrite_with_plain_sha256(acme, mutate=disguise_entry_3)

    found = problems()
    assert any("entry 3" in problem and "altered" in problem for problem in found)
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_downgrading_the_whole_chain_to_plain_sha256_is_detected(acme, acme_chain):
    """Marking every entry unkeyed and re-hashing it gives a chain that ends unkeyed: refused."""
    rewrite_with_plain_sha256(acme, mutate=lambda entry: entry.data.update(n="rewritten"), alg=ALG_SHA256)

    assert any("ends in unkeyed entries" in problem for problem in problems())


def test_a_chain_from_before_keyed_chains_switches_with_a_recorded_entry(acme, acme_chain):
    rewrite_with_plain_sha256(acme, alg=ALG_SHA256)  # as the chain was written before the upgrade
    unkeyed = len(chain(acme))

    audit_record("settings.changed", workspace=acme, actor_type="system")

    switch, entry = chain(acme)[unkeyed:]
    assert (switch.action, switch.alg, switch.data) == (CHAIN_KEYED, ALG_HMAC_SHA256, {"unkeyed_through": unkeyed})
    assert (entry.action, entry.alg, entry.prev_hash) == ("settings.changed", ALG_HMAC_SHA256, switch.hash)
    assert [p for p in problems() if f"workspace {acme.id}," in p] == []


def test_an_unkeyed_entry_after_the_switch_is_detected(acme, acme_chain):
    """Re-hashing only the newest entries in plain SHA-256 (keeping the keyed ones) is still caught."""
    last = acme_chain[-1]
    last.alg, last.data = ALG_SHA256, {"n": "rewritten"}
    last.hash = hashlib.sha256(last.canonical()).hexdigest()
    last.save(using=REGION)
    AuditChainHead.objects.filter(workspace_id=acme.id).update(hash=last.hash)

    assert any(f"entry {last.seq}" in problem and "unkeyed entry after" in problem for problem in problems())


def test_key_chains_keys_a_chain_left_from_before_the_upgrade(acme, acme_chain):
    rewrite_with_plain_sha256(acme, alg=ALG_SHA256)
    assert any("ends in unkeyed entries" in problem for problem in problems())

    call_command("audit", "key-chains")

    assert chain(acme)[-1].action == CHAIN_KEYED
    assert problems() == []


def test_key_chains_refuses_to_seal_a_chain_that_was_altered(acme, acme_chain):
    rewrite_with_plain_sha256(acme, alg=ALG_SHA256)
    AuditEntry.objects.using(REGION).filter(workspace_id=acme.id, seq=2).update(action="settings.viewed")

    with pytest.raises(CommandError, match=str(acme.id)):
        call_command("audit", "key-chains")
    assert chain(acme)[-1].alg == ALG_SHA256


def test_entries_keyed_under_another_master_key_do_not_verify(acme_chain, settings):
    settings.TIDINGS_MASTER_KEY = bytes(range(32))  # the chain key is derived from it, not stored

    assert any("keyed under another master key" in problem for problem in problems())


@pytest.fixture
def rotated(acme_chain, settings, tmp_path):
    """The master key was rotated after acme's entries were written; return the previous key's file."""
    import base64

    previous = tmp_path / "previous-master.key"
    previous.write_bytes(base64.b64encode(settings.TIDINGS_MASTER_KEY) + b"\n")
    settings.TIDINGS_MASTER_KEY = bytes(range(32))
    return previous


def test_after_a_master_key_rotation_rekey_reseals_the_earlier_entries(acme, rotated):
    assert any("not re-sealed" in problem for problem in problems())

    call_command("audit", "rekey", "--previous-master-key", str(rotated))
    audit_record("settings.changed", workspace=acme, actor_type="system")

    rekeyed = AuditEntry.objects.using(REGION).get(workspace_id=acme.id, action="audit.chain_rekeyed")
    assert rekeyed.data["entries"] == rekeyed.seq - 1
    assert problems() == []


def test_an_earlier_entry_altered_after_the_rekey_is_detected(acme, rotated):
    call_command("audit", "rekey", "--previous-master-key", str(rotated))
    AuditEntry.objects.using(REGION).filter(workspace_id=acme.id, seq=2).update(data={"n": "rewritten"})

    assert any("do not match their re-sealing" in problem for problem in problems())


def test_rekey_refuses_entries_that_do_not_verify_under_the_previous_key(acme, rotated):
    AuditEntry.objects.using(REGION).filter(workspace_id=acme.id, seq=2).update(data={"n": "rewritten"})

    with pytest.raises(CommandError, match="do not verify"):
        call_command("audit", "rekey", "--previous-master-key", str(rotated))
    assert not AuditEntry.objects.using(REGION).filter(action="audit.chain_rekeyed").exists()
