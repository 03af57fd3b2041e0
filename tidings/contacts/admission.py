"""Addresses no contact may be created with: other apps register a check here; contacts imports none of them.

    from tidings.contacts.admission import register

    register(erased_addresses, readmit=suppression_readmit)
    # erased_addresses(normalised emails) -> the subset that must not come back
    # suppression_readmit(normalised emails, principal=...) lifts the refusal when the person comes back

The emails app registers its suppression list (reason "erased", decision 0030): a person who asked to be
erased is not re-created by an import, the UI or either API. A form submission is the person's own new
consent: its caller says so (contact_create(..., given_by_subject=True)) and contacts calls the check's
readmit function, which lifts the erased row in the same transaction.

A check is given and returns normalised addresses only (tidings.privacy.vault.normalise_email); the
refusal it causes never names the address (messages stay free of personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tidings.privacy.vault import normalise_email

Check = Callable[[list[str]], set[str]]
Readmit = Callable[..., int]

REFUSED_MESSAGE = "this address was erased at the person's request and cannot be added again"

_checks: list[tuple[Check, Readmit]] = []


def register(check: Check, *, readmit: Readmit) -> None:
    """Add a check and the action lifting its refusal (idempotent: a ready() run twice registers it once)."""
    if (check, readmit) not in _checks:
        _checks.append((check, readmit))


def refused_emails(emails: Iterable[str]) -> set[str]:
    """Return the normalised forms of those emails that no contact may be created with."""
    wanted = sorted({normalise_email(e) for e in emails if e})
    refused: set[str] = set()
    if wanted:
        for check, _readmit in _checks:
            refused |= check(wanted)
    return refused


def readmit(emails: Iterable[str], *, principal) -> None:
    """Lift every refusal of these emails: the person gave the address again themselves."""
    wanted = sorted({normalise_email(e) for e in emails if e})
    if wanted:
        for check, lift in _checks:
            if check(wanted):
                lift(wanted, principal=principal)
