"""Tracking's door to the consent ledger (tidings.consent): the decisions a hit needs, in one place.

record(purpose=..., given=..., visitor_id=..., contact_id=..., source=..., ip=..., signal=..., principal=...)
visitor_decisions(visitor_id) -> {purpose key: given}
visitor_decision(visitor_id, purpose="tracking") -> given or None     one purpose, fast
may_profile(site, visitor_id, *, signal=None) -> bool      the rule of when a visitor may be profiled
"""

from __future__ import annotations

from collections.abc import Mapping

from tidings.consent import actions as consent_actions
from tidings.consent import selectors as consent_selectors

TRACKING_PURPOSE = "tracking"
METHOD = "tracker"
SIGNALS = ("gpc", "dnt")


def record(
    *,
    purpose: str,
    given: bool,
    source: str,
    principal,
    visitor_id: int | None = None,
    contact_id: int | None = None,
    ip: str | None = None,
    signal: str | None = None,
) -> None:
    """Write one decision to the ledger (method "tracker"); signal ("gpc", "dnt") only goes with given False.

    Needs consent:record (the public-key principal holds it). Raise ValueError for an unknown signal.
    """
    if signal is not None and (signal not in SIGNALS or given):
        raise ValueError("a signal is gpc or dnt and only goes with a withdrawal")
    consent_actions.consent_record(purpose=purpose, given=given, method=METHOD, source=source, contact_id=contact_id,
                                   visitor_id=visitor_id, ip=ip, signal=signal, principal=principal)  # fmt: skip


def visitor_decisions(visitor_id: int) -> dict[str, bool]:
    """Return the visitor's current decision per purpose key (its contact's, once identified); {} for none."""
    return {key: bool(decision.given) for key, decision in consent_selectors.visitor_consents(visitor_id).items()}


def visitor_decision(visitor_id: int, purpose: str = TRACKING_PURPOSE) -> bool | None:
    """Return the visitor's current decision for purpose (True, False, None when none): the hot path of a hit."""
    return consent_selectors.visitor_decision(visitor_id, purpose)


def signal_withdrawn(visitor_id: int, signal: str) -> bool:
    """Return whether the visitor's latest tracking decision is already a withdrawal (so a signal is recorded once)."""
    return visitor_decision(visitor_id) is False


def may_profile(site, visitor_id: int | None, *, signal: str | None = None, choices: Mapping[str, bool] | None = None):
    """Return whether a hit of visitor_id on site may build a profile (device id, events, identification).

    The spec's rule: never with a GPC/DNT signal or a cookieless site; on legitimate interest unless
    the visitor objected (latest "tracking" decision withdrawn); on consent only when it is given.
    choices, when the hit itself carries the visitor's decisions, wins over the ledger (it is about
    to be recorded). A visitor with no id has no decisions yet.
    """
    from tidings.tracking.models import ConsentMode

    if signal or site.consent_mode == ConsentMode.COOKIELESS:
        return False
    decision: bool | None = None
    if choices is not None and TRACKING_PURPOSE in choices:
        decision = bool(choices[TRACKING_PURPOSE])
    elif visitor_id is not None:
        decision = visitor_decision(visitor_id)
    if site.consent_mode == ConsentMode.LEGITIMATE_INTEREST:
        return decision is not False
    return decision is True
