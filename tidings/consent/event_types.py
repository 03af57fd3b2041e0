"""The event types consent writes on a contact's (or visitor's) timeline: consent given, withdrawn (codes 80-89)."""

from __future__ import annotations

from tidings.events.registry import INT, TOKEN, Retention, register_event_type, reserve_codes

CONSENT_GIVEN = 80
CONSENT_WITHDRAWN = 81
CONSENT_CODES = range(80, 90)


def register_consent_event_types() -> None:
    """Reserve consent's codes and declare its types (idempotent: ready() may run twice in tests).

    Kept as long as the contact (Retention.RECORD): a decision is proof, not browsing behaviour.
    """
    reserve_codes("consent", CONSENT_CODES)
    # purpose: the purpose's key (a slug); record_id: the ledger row, which holds the rest of the proof.
    for code, name in ((CONSENT_GIVEN, "consent.given"), (CONSENT_WITHDRAWN, "consent.withdrawn")):
        register_event_type("consent", code, name, retention=Retention.RECORD, purpose=TOKEN, notice_version=INT,
                            method=TOKEN, record_id=INT)  # fmt: skip
