"""How a tracked device becomes a known contact, and the signed click tokens of tracked emails.

The rules (the takeover path Mautic has stays closed):

- only publicly updatable fields are written (contacts' field definitions, is_publicly_updatable);
- a value whose unique identifier (email) already belongs to a contact creates nothing and links
  nothing, unless the device was already identified as that very contact: an anonymous page
  cannot attach itself to someone's history, nor learn whether they are a contact (the answer the
  tracker gets does not depend on it);
- an email of a person who asked to be erased (tidings.contacts.admission) refuses the whole call:
  no contact is made of the other values either;
- otherwise the device's own contact is updated, or a new contact created, and the device is
  joined to it (tidings.events.actions.visitor_identify) only when it may be profiled
  (tidings.tracking.consent_adapter.may_profile).

The functions here run inside tracking's actions (tidings.tracking.actions), after their permission
check; contact writes go through contacts' own actions as the system, with the reason recorded.

Click tokens: ``click_token(contact_id, workspace=...)`` (emails put it as tdt= on tracked links) and
``contact_for_click_token(token)`` (the landing hit), signed with salt "tidings.tracking.click",
bound to the workspace and expiring after CLICK_TOKEN_MAX_AGE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, ValidationError

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions as contacts_actions
from tidings.contacts import admission
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.events import actions as events_actions
from tidings.events import selectors as events_selectors
from tidings.events.registry import code_for, strip_url
from tidings.privacy.guard import GuardPolicy, scan_values
from tidings.tenancy.context import require_workspace
from tidings.tenancy.selectors import workspace_by_id
from tidings.tracking import consent_adapter

CLICK_TOKEN_SALT = "tidings.tracking.click"
CLICK_TOKEN_MAX_AGE = 60 * 60 * 24 * 90  # seconds: a tracked email's links identify for 90 days
MAX_FIELDS = 50  # fields one identify call may carry
MAX_VALUE = 1000  # characters of one value
MAX_CHOICES = 20  # purposes one consent call may carry
_PURPOSE_KEY = re.compile(r"^[a-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class IdentifyResult:
    """What an identify call did. Never sent to the page as is: the tracker's answer does not depend on it.

    contact_id: the contact written (None when nothing was: the identifier belongs to a contact the
    device is not); created: it is new; linked: the device is now identified as it; set_fields: the
    aliases written; ignored: aliases that are not publicly updatable; unknown: how many keys name
    no field; refused: aliases whose value was not accepted (wrong type, or the guard rejected it);
    flagged: aliases the sensitive-data guard flagged.
    """

    contact_id: int | None = None
    created: bool = False
    linked: bool = False
    set_fields: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    unknown: int = 0
    refused: tuple[str, ...] = ()
    flagged: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentResult:
    """What a consent call recorded: visitor_id is the device id the tracker stores (None: store none)."""

    visitor_id: int | None = None
    profiled: bool = False
    recorded: tuple[str, ...] = ()
    refused: tuple[str, ...] = field(default=())


def _system():
    return system_principal(workspace_by_id(require_workspace().id), reason="tracking:identify")


# ==============================================================================================
# Click tokens


def click_token(contact_id: int, *, workspace) -> str:
    """Return a signed token naming contact_id in workspace, for the tdt= parameter of a tracked email's links."""
    return signing.dumps({"w": int(workspace.pk if hasattr(workspace, "pk") else workspace.id), "c": int(contact_id)},
                         salt=CLICK_TOKEN_SALT, compress=True)  # fmt: skip


def contact_for_click_token(token: Any, *, max_age: int = CLICK_TOKEN_MAX_AGE) -> int | None:
    """Return the contact id a click token names in the current workspace; None when forged, expired or another's."""
    if not isinstance(token, str) or not token or len(token) > 512:
        return None
    try:
        payload = signing.loads(token, salt=CLICK_TOKEN_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("w") != require_workspace().id:
        return None
    contact_id = payload.get("c")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        return None
    return contact_id if contacts_selectors.contacts_get([contact_id]) else None


# ==============================================================================================
# Identify


def _public_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], int, list[str], dict]:
    """Split values into (publicly updatable values, ignored aliases, unknown key count, refused aliases, fields)."""
    fields = contacts_fields.fields_by_alias()
    public: dict[str, Any] = {}
    ignored: list[str] = []
    refused: list[str] = []
    unknown = 0
    for key, value in list(values.items())[:MAX_FIELDS]:
        definition = fields.get(key) if isinstance(key, str) else None
        if definition is None or definition.archived_at is not None:
            unknown += 1
        elif not definition.is_publicly_updatable:
            ignored.append(key)
        elif not _acceptable(value):
            refused.append(key)
        else:
            public[key] = value.strip() if isinstance(value, str) else value
    unknown += max(len(values) - MAX_FIELDS, 0)
    return public, ignored, unknown, refused, fields


def _acceptable(value: Any) -> bool:
    """Return whether value may go to a field: a text of at most MAX_VALUE characters or a number."""
    if isinstance(value, str):
        return len(value) <= MAX_VALUE
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _guarded(public: dict[str, Any], refused: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Run the sensitive-data guard: under the reject policy flagged values are dropped; return (values, flagged)."""
    flagged = sorted({finding.field for finding in scan_values(public)})
    if flagged and contacts_selectors.contact_settings().guard_policy == GuardPolicy.REJECT:
        refused.extend(flagged)
        public = {alias: value for alias, value in public.items() if alias not in flagged}
    return public, flagged


def _owner_of_identifiers(public: Mapping[str, Any], fields) -> int | None:
    """Return the contact that already holds one of public's unique identifiers, or None."""
    for alias, value in public.items():
        if not fields[alias].is_unique_identifier or value in ("", None):
            continue
        try:
            return contacts_selectors.contact_by_unique_identifier(alias, value).id
        except (ObjectDoesNotExist, ValidationError):
            continue
    return None


def _erased_address(public: Mapping[str, Any]) -> bool:
    """Return whether public carries an email that no contact may be created or updated with."""
    email = public.get("email")
    return isinstance(email, str) and bool(email) and bool(admission.refused_emails([email]))


def _write_contact(contact_id: int | None, public: dict[str, Any], refused: list[str]) -> tuple[int | None, bool]:
    """Update contact_id (or create a contact) with public; drop values the contact refuses and try once more."""
    for _attempt in range(2):
        if not public:
            return contact_id, False
        try:
            if contact_id is not None:
                contacts_actions.contact_update(contact_id, public, principal=_system())
                return contact_id, False
            contact = contacts_actions.contact_create(public, principal=_system())
            return contact.id, True
        except ObjectDoesNotExist:  # the device's contact was deleted meanwhile
            return None, False
        except ValidationError as error:
            bad = set(getattr(error, "error_dict", {}) or {}) & set(public)
            if not bad:
                return contact_id, False
            refused.extend(sorted(bad))
            public = {alias: value for alias, value in public.items() if alias not in bad}
    return contact_id, False


def link_visitor(visitor_id: int | None, contact_id: int) -> bool:
    """Join visitor_id to contact_id; False for no visitor, an unknown one, or one that is another contact's."""
    if visitor_id is None:
        return False
    try:
        joined = events_actions.visitor_identify(visitor_id, contact_id, principal=_system())
    except (ObjectDoesNotExist, ValueError):
        return False
    if joined:
        # The device's past hits now count for the contact: the event marks it changed, so the segments'
        # incremental refresh re-reads its "has event" filters (and the timeline says when it happened).
        events_actions.events_record([{"type": code_for("contact.identified"), "contact_id": contact_id}],
                                     principal=_system())  # fmt: skip
    return True


def identify_visitor(site, visitor_id: int | None, values: Mapping[str, Any], *, signal: str | None) -> IdentifyResult:
    """Apply an identify call of a site's visitor (see the module docstring); called by tracking_identify."""
    if not isinstance(values, Mapping):
        return IdentifyResult()
    public, ignored, unknown, refused, fields = _public_values(values)
    public, flagged = _guarded(public, refused)
    profiled = consent_adapter.may_profile(site, visitor_id, signal=signal)
    visitor = events_selectors.visitor_get(visitor_id) if (visitor_id is not None and profiled) else None
    device_contact = visitor.contact_id if visitor is not None else None
    owner = _owner_of_identifiers(public, fields)
    if (owner is not None and owner != device_contact) or _erased_address(public):
        # Someone else's identifier, or the address of a person who asked to be erased (decision 0030):
        # nothing is written and nothing linked, whatever the device.
        return IdentifyResult(ignored=tuple(ignored), unknown=unknown, refused=tuple(refused), flagged=tuple(flagged))
    target = device_contact if device_contact is not None else owner
    written = dict(public)
    contact_id, created = _write_contact(target, written, refused)
    linked = False
    if contact_id is not None and visitor is not None and visitor.contact_id is None:
        linked = link_visitor(visitor.pk, contact_id)
    elif contact_id is not None and device_contact == contact_id:
        linked = True
    set_fields = tuple(sorted(alias for alias in public if alias not in refused)) if contact_id is not None else ()
    return IdentifyResult(contact_id=contact_id, created=created, linked=linked, set_fields=set_fields,
                          ignored=tuple(ignored), unknown=unknown, refused=tuple(sorted(set(refused))),
                          flagged=tuple(flagged))  # fmt: skip


# ==============================================================================================
# Consent


def checked_choices(choices: Any, *, allow_empty: bool = False) -> dict[str, bool]:
    """Return choices as {purpose key: bool}; raise ValidationError (never quoting a key or value) otherwise.

    allow_empty: a hit that only carries a GPC/DNT signal has no choices.
    """
    if not isinstance(choices, Mapping) or (not choices and not allow_empty) or len(choices) > MAX_CHOICES:
        raise ValidationError({"choices": [f"1 to {MAX_CHOICES} purposes, each true or false"]})
    checked: dict[str, bool] = {}
    for key, given in choices.items():
        if not isinstance(key, str) or not _PURPOSE_KEY.match(key) or not isinstance(given, bool):
            raise ValidationError({"choices": ["each purpose is a key (a-z, 0-9, _ . : -) with true or false"]})
        checked[key] = given
    return checked


def record_choices(site, visitor_id: int | None, choices: dict[str, bool], *, signal: str | None, ip: str | None,
                   source_url: str, principal) -> ConsentResult:  # fmt: skip
    """Write choices (and an honoured signal) to the ledger for the visitor; give a device id on tracking consent."""
    source = strip_url(source_url)[:500] if isinstance(source_url, str) else ""
    if signal is not None:
        choices = {key: given for key, given in choices.items() if key != consent_adapter.TRACKING_PURPOSE}
    if visitor_id is not None and events_selectors.visitor_get(visitor_id) is None:
        visitor_id = None  # not a device of this workspace: never write about it
    wants_device = choices.get(consent_adapter.TRACKING_PURPOSE) is True and signal is None
    if visitor_id is None and wants_device and site.consent_mode != "cookieless":
        visitor_id = events_actions.visitor_create(principal=_system()).pk
    recorded: list[str] = []
    refused: list[str] = []
    if visitor_id is None:
        return ConsentResult(visitor_id=None, profiled=False, refused=tuple(sorted(choices)))
    if signal is not None and not consent_adapter.signal_withdrawn(visitor_id, signal):
        consent_adapter.record(purpose=consent_adapter.TRACKING_PURPOSE, given=False, source=source,
                               visitor_id=visitor_id, ip=ip, signal=signal, principal=principal)  # fmt: skip
        recorded.append(consent_adapter.TRACKING_PURPOSE)
    for purpose, given in choices.items():
        try:
            with _savepoint():
                consent_adapter.record(purpose=purpose, given=given, source=source, visitor_id=visitor_id, ip=ip,
                                       principal=principal)  # fmt: skip
        except (ValidationError, ObjectDoesNotExist):
            refused.append(purpose)
        else:
            recorded.append(purpose)
    profiled = consent_adapter.may_profile(site, visitor_id, signal=signal)
    return ConsentResult(visitor_id=visitor_id if profiled else None, profiled=profiled, recorded=tuple(recorded),
                         refused=tuple(refused))  # fmt: skip


def _savepoint():
    from django.db import transaction

    return transaction.atomic(using=require_workspace().db_alias)
