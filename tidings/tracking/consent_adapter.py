"""Tracking's one door to the consent ledger (tidings.consent), so that its merge touches this file only.

Every part of tracking (identify, the collect decisions, the traffic dashboard) asks the ledger
through these functions:

    record(purpose=..., given=..., visitor_id=..., contact_id=..., source=..., ip=..., signal=..., principal=...)
    visitor_decisions(visitor_id) -> {purpose key: given}
    may_profile(site, visitor_id, *, signal=None) -> bool      the spec's rule, in one place

Until the ledger app is merged (branch h-consent) the decisions are kept in a process-local stand-in
(_STANDIN) so the parts can be built and tested in parallel; with tidings.consent installed the
ledger's consent_record / visitor_consents are used and the stand-in is never touched.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from django.apps import apps

from tidings.tenancy.context import require_workspace

TRACKING_PURPOSE = "tracking"
METHOD = "tracker"
SIGNALS = ("gpc", "dnt")

# (workspace id, visitor id) -> {purpose: given}: the stand-in ledger used while tidings.consent is absent.
_STANDIN: dict[tuple[int, int], dict[str, bool]] = {}


def _ledger() -> tuple[Any, Any] | None:
    """Return (consent.actions, consent.selectors) when the ledger app is installed, else None."""
    if not apps.is_installed("tidings.consent"):
        return None
    return importlib.import_module("tidings.consent.actions"), importlib.import_module("tidings.consent.selectors")


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
    ledger = _ledger()
    if ledger is not None:
        ledger[0].consent_record(purpose=purpose, given=given, method=METHOD, source=source, contact_id=contact_id,
                                 visitor_id=visitor_id, ip=ip, signal=signal, principal=principal)  # fmt: skip
        return
    from tidings.accounts.permissions import require

    require(principal, "consent:record", workspace_id=require_workspace().id)
    if visitor_id is not None:
        _STANDIN.setdefault((require_workspace().id, visitor_id), {})[purpose] = bool(given)


def visitor_decisions(visitor_id: int) -> dict[str, bool]:
    """Return the visitor's current decision per purpose key (its contact's, once identified); {} for none."""
    ledger = _ledger()
    if ledger is not None:
        return {key: bool(decision.given) for key, decision in ledger[1].visitor_consents(visitor_id).items()}
    return dict(_STANDIN.get((require_workspace().id, visitor_id), {}))


def signal_withdrawn(visitor_id: int, signal: str) -> bool:
    """Return whether the visitor's latest tracking decision is already a withdrawal (so a signal is recorded once)."""
    return visitor_decisions(visitor_id).get(TRACKING_PURPOSE) is False


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
        decision = visitor_decisions(visitor_id).get(TRACKING_PURPOSE)
    if site.consent_mode == ConsentMode.LEGITIMATE_INTEREST:
        return decision is not False
    return decision is True
