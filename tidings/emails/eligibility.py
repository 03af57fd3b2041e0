"""Who of a batch may get an email, decided for the whole batch at once (a few queries, none per contact).

In order, the first reason that applies is the one counted:

    no_contact       erased or merged away since the batch was read
    no_address       no email address
    no_consent       no consent, or an objection, for the email's purpose (consent.contacts_allowed)
    dnc_<reason>     Do-Not-Contact on email: unsubscribed, bounced, complaint, manual
    suppressed       the address (its blind index) is on the suppression list
    frequency_cap    the contact already got the workspace's cap of marketing emails in its period

Transactional emails (a receipt, a password reset) go under the contract basis: they skip the consent
check, an "unsubscribed" Do-Not-Contact and the frequency cap, never the suppression list nor a
bounce, complaint or manual Do-Not-Contact (a dead or hostile inbox stays closed).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors as contacts_selectors
from tidings.emails import selectors_sending
from tidings.emails.models import Email, SendingSettings
from tidings.emails.selectors import suppressed_indexes, suppression_index
from tidings.privacy.vault import Keyring

CHANNEL = "email"
DNC_IGNORED_BY_TRANSACTIONAL = frozenset({"unsubscribed"})


@dataclass
class Verdict:
    """The outcome for a batch: the contacts to send to (id order) and the reason of each one skipped."""

    allowed: list = field(default_factory=list)  # ContactView of each contact to send to
    skipped: dict[int, str] = field(default_factory=dict)  # contact id -> reason code


def check(
    contact_ids: Iterable[int],
    *,
    email: Email,
    settings: SendingSettings,
    ring: Keyring,
    now: datetime.datetime | None = None,
    contacts: Mapping | None = None,
) -> Verdict:
    """Decide for every contact id whether email may go to it (see the module docstring); return the Verdict.

    contacts: the ContactViews when the caller already read them (else they are read here, in bulk).
    """
    ids = sorted({int(i) for i in contact_ids})
    verdict = Verdict()
    if not ids:
        return verdict
    views = contacts if contacts is not None else contacts_selectors.contacts_get(ids)
    candidates: list[int] = []
    for contact_id in ids:
        view = views.get(contact_id)
        if view is None or view.shredded:
            verdict.skipped[contact_id] = "no_contact"
        elif not view.email:
            verdict.skipped[contact_id] = "no_address"
        else:
            candidates.append(contact_id)
    if candidates and not email.transactional:
        try:
            allowed = consent_selectors.contacts_allowed(candidates, email.purpose_key, use=f"email:{email.pk}")
        except ObjectDoesNotExist:  # a purpose key the workspace does not have allows nobody
            allowed = set()
        for contact_id in candidates:
            if contact_id not in allowed:
                verdict.skipped[contact_id] = "no_consent"
        candidates = [c for c in candidates if c in allowed]
    if candidates:
        for contact_id, rows in contacts_selectors.contacts_dnc(candidates).items():
            for row in rows:
                if row.channel != CHANNEL:
                    continue
                if email.transactional and row.reason in DNC_IGNORED_BY_TRANSACTIONAL:
                    continue
                verdict.skipped.setdefault(contact_id, f"dnc_{row.reason}")
        candidates = [c for c in candidates if c not in verdict.skipped]
    if candidates:
        index_of = {c: suppression_index(str(views[c].email), ring) for c in candidates}
        suppressed = suppressed_indexes(index_of.values())
        for contact_id, index in index_of.items():
            if index in suppressed:
                verdict.skipped[contact_id] = "suppressed"
        candidates = [c for c in candidates if c not in verdict.skipped]
    if candidates and not email.transactional and settings.cap_count:
        since = (now or timezone.now()) - datetime.timedelta(days=max(int(settings.cap_days), 1))
        counts = selectors_sending.recent_marketing_counts(candidates, since=since)
        for contact_id in candidates:
            if counts.get(contact_id, 0) >= settings.cap_count:
                verdict.skipped[contact_id] = "frequency_cap"
        candidates = [c for c in candidates if c not in verdict.skipped]
    verdict.allowed = [views[c] for c in candidates]
    return verdict
