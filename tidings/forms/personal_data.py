"""How a contact's form submissions are exported and merged (the erasure registry deletes them)."""

from __future__ import annotations

from tidings.privacy.vault import keyring

SEALED_FIELD = "form_submission"


def open_answers(submission, keys) -> dict:
    """Return the submission's sealed data ({"values", "consents", "held"}); {} when its contact's key is gone."""
    key = keys.get(submission.contact_id)
    if key is None:
        return {}
    return key.decrypt_json(f"{SEALED_FIELD}:{submission.pk}", submission.data_enc)


def export_submissions(model, contact_id: int) -> list[dict]:
    """Return the contact's submissions with their answers, for an access (export) package."""
    rows = list(model.objects.filter(contact_id=contact_id).order_by("submitted_at", "id"))
    keys = keyring().data_keys([contact_id])
    return [
        {"id": row.pk, "form_id": row.form_id, "submitted_at": row.submitted_at.isoformat(), "status": row.status,
         "page_url": row.page_url, "ip_network": row.ip_network, "answers": open_answers(row, keys).get("values", {})}
        for row in rows
    ]  # fmt: skip


def merge_submissions(model, winner_id: int, loser_id: int) -> int:
    """Move the loser's submissions to the winner, re-sealing their answers under the winner's key."""
    ring = keyring()
    keys = ring.data_keys([winner_id, loser_id])
    moved = 0
    for row in model.objects.filter(contact_id=loser_id):
        data = open_answers(row, keys)
        if loser_id not in keys or winner_id not in keys:
            row.delete()  # nothing readable to move
            continue
        row.contact_id = winner_id
        row.data_enc = keys[winner_id].encrypt_json(f"{SEALED_FIELD}:{row.pk}", data)
        row.save(update_fields=["contact_id", "data_enc"])
        moved += 1
    return moved
