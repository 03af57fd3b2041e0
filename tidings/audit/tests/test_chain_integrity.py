"""The audit log is hash-chained: any altered, removed, inserted or cut-off entry is detected."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tidings.audit.actions import audit_record
from tidings.audit.models import AuditEntry
from tidings.audit.selectors import verify_chains


@pytest.fixture
def acme_chain(acme, django_capture_on_commit_callbacks):
    """Acme's chain with a few more entries after workspace.created and member.added.

    The chain head is checkpointed in the global database on commit, so the writes run
    their on-commit callbacks as a real commit would.
    """
    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        for n in range(3):
            audit_record("settings.changed", workspace=acme, actor_type="user", actor_id=1, data={"n": n})
    return AuditEntry.objects.using("region_eu").filter(workspace_id=acme.id).order_by("seq")


def problems():
    return [str(problem) for problem in verify_chains()]


def raw(alias, sql, params):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_log_verifies(acme_chain):
    assert problems() == []
    call_command("audit", "verify")


def test_entries_link_to_their_predecessor(acme_chain):
    entries = list(acme_chain)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:], strict=False))


def test_an_altered_entry_is_detected(acme_chain):
    victim = acme_chain[2]
    raw("region_eu", "UPDATE audit_auditentry SET action = %s WHERE id = %s", ["settings.viewed", victim.id])
    found = problems()
    assert any(f"entry {victim.seq}" in p and "altered" in p for p in found)
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_a_removed_entry_is_detected(acme_chain):
    victim = acme_chain[1]
    raw("region_eu", "DELETE FROM audit_auditentry WHERE id = %s", [victim.id])
    assert any("removed or inserted" in p for p in problems())


def test_an_inserted_entry_is_detected(acme_chain, acme):
    """A forged entry with a well-formed hash, spliced into the middle, breaks the next link."""
    entries = list(acme_chain)
    raw("region_eu", "UPDATE audit_auditentry SET seq = seq + 100 WHERE workspace_id = %s AND seq > 2", [acme.id])
    forged = AuditEntry(
        workspace_id=acme.id,
        seq=3,
        at=entries[2].at,
        actor_type="user",
        actor_id=666,
        action="member.removed",
        prev_hash=entries[1].hash,
        data={},
    )
    forged.hash = forged.compute_hash()
    forged.save(using="region_eu")
    assert problems(), "a spliced entry must not verify"


def test_cutting_off_the_newest_entries_is_detected(acme_chain):
    """The head checkpoint in the global database remembers how long the chain was."""
    newest = acme_chain.last()
    raw("region_eu", "DELETE FROM audit_auditentry WHERE id = %s", [newest.id])
    assert any("cut off" in p for p in problems())


def test_the_system_chain_lives_in_the_global_database(make_user):
    make_user("erin@initech.example")
    assert AuditEntry.objects.using("default").filter(workspace_id=0, action="user.created").exists()
    assert problems() == []


def test_rewriting_the_chain_from_the_head_on_is_detected(acme_chain, acme):
    """Recomputing every hash after an edit makes a self-consistent chain that disagrees with its head.

    The attacker here even holds the master key (the keyed hashes are recomputed with it).
    """
    from tidings.audit.keys import chain_key

    entries = list(acme_chain)
    prev = entries[-2].hash
    last = entries[-1]
    last.data = {"n": "rewritten"}
    last.prev_hash = prev
    last.hash = last.compute_hash(chain_key())
    raw(
        "region_eu",
        "UPDATE audit_auditentry SET data = %s, hash = %s WHERE id = %s",
        ['{"n": "rewritten"}', last.hash, last.id],
    )
    assert any("differs from the head" in p for p in problems())
