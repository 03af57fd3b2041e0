"""Every write of tracking: sites (create, change, delete, rotate the key) and what the tracker records synchronously.

Site actions need tracking:edit and are audited with ids only. tracking_identify and tracking_consent
are called by the collect endpoints with the public-key principal of the site (tidings.web.entry,
permissions tracking:record and consent:record): they write contacts, visitors and the consent
ledger through those apps' own actions, acting as the system on the contact side once their own
permission is checked, so an anonymous page can never do more than these two functions allow.
Errors name the field and what is expected, never the value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.tenancy.context import require_workspace
from tidings.tracking import consent_adapter, identify
from tidings.tracking.identify import ConsentResult, IdentifyResult
from tidings.tracking.models import ConsentMode, IpStorage, Site, new_public_key

__all__ = [
    "ConsentResult",
    "IdentifyResult",
    "site_create",
    "site_delete",
    "site_rotate_key",
    "site_update",
    "tracking_consent",
    "tracking_identify",
    "tracking_identify_click",
]

MAX_NAME = 191
MAX_DOMAINS = 50
MAX_NETWORKS = 50
MAX_HOST = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SITE_ATTRIBUTES = ("name", "domains", "consent_mode", "ip_storage", "excluded_networks", "active")


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, site_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="site", target_id=site_id, data=data)


# ==============================================================================================
# Checking a site's settings


def _items(value: Any) -> list[Any] | None:
    """Return value as a list of entries: a list or tuple as is, a text split on newlines, commas and spaces."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _clean_host(value: Any) -> str | None:
    """Return value as a lowercase host name ("." first allows subdomains), IDNs in punycode; None if it is not one."""
    if not isinstance(value, str):
        return None
    host = value.strip().rstrip(".").lower()
    wildcard = host.startswith(".")
    host = host[1:] if wildcard else host
    if not host or len(host) > MAX_HOST:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None if wildcard else host  # a literal address (a loopback test site), never with a dot
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = host.split(".")
    if len(host) > MAX_HOST or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    return ("." if wildcard else "") + host


def _clean_domains(value: Any) -> list[str]:
    entries = _items(value)
    if entries is None:
        raise ValidationError({"domains": ["a list of host names"]})
    if len(entries) > MAX_DOMAINS:
        raise ValidationError({"domains": [f"at most {MAX_DOMAINS} domains"]})
    cleaned, bad = [], []
    for position, entry in enumerate(entries, start=1):
        host = _clean_host(entry)
        if host is None:
            bad.append(position)
        elif host not in cleaned:
            cleaned.append(host)
    if bad:
        raise ValidationError({"domains": [f"entry {', '.join(map(str, bad[:5]))} is not a host name "
                                           "(shop.example, or .shop.example for its subdomains too)"]})  # fmt: skip
    return cleaned


def _clean_networks(value: Any) -> list[str]:
    entries = _items(value)
    if entries is None:
        raise ValidationError({"excluded_networks": ["a list of networks (CIDR)"]})
    if len(entries) > MAX_NETWORKS:
        raise ValidationError({"excluded_networks": [f"at most {MAX_NETWORKS} networks"]})
    cleaned, bad = [], []
    for position, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, str) or len(entry) > 64:
                raise ValueError
            network = str(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            bad.append(position)
            continue
        if network not in cleaned:
            cleaned.append(network)
    if bad:
        raise ValidationError({"excluded_networks": [f"entry {', '.join(map(str, bad[:5]))} is not a network "
                                                     "(203.0.113.0/24, 2001:db8::/48 or one address)"]})  # fmt: skip
    return cleaned


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return values checked and normalised; raise ValidationError keyed by attribute."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for attribute, value in values.items():
        try:
            if attribute == "name":
                name = value.strip() if isinstance(value, str) else ""
                if not name or len(name) > MAX_NAME:
                    raise ValidationError({"name": [f"a name of 1 to {MAX_NAME} characters"]})
                checked["name"] = name
            elif attribute == "domains":
                checked["domains"] = _clean_domains(value)
            elif attribute == "excluded_networks":
                checked["excluded_networks"] = _clean_networks(value)
            elif attribute == "consent_mode":
                if value not in ConsentMode.values:
                    raise ValidationError({"consent_mode": [f"one of {', '.join(ConsentMode.values)}"]})
                checked["consent_mode"] = str(value)
            elif attribute == "ip_storage":
                if value not in IpStorage.values:
                    raise ValidationError({"ip_storage": [f"one of {', '.join(IpStorage.values)}"]})
                checked["ip_storage"] = str(value)
            elif attribute == "active":
                if not isinstance(value, bool):
                    raise ValidationError({"active": ["true or false"]})
                checked["active"] = value
            else:
                errors.setdefault("site", []).append("unknown attribute")
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return checked


# ==============================================================================================
# Sites


def site_create(
    *,
    principal: Principal,
    name: Any,
    domains: Any = (),
    consent_mode: Any = ConsentMode.CONSENT,
    ip_storage: Any = IpStorage.NETWORK,
    excluded_networks: Any = (),
    active: Any = True,
    request=None,
) -> Site:
    """Create a site with a fresh public key; raise ValidationError keyed by attribute (never quoting a value)."""
    _require(principal, "tracking:edit")
    fields = _checked({"name": name, "domains": domains, "consent_mode": consent_mode, "ip_storage": ip_storage,
                       "excluded_networks": excluded_networks, "active": active})  # fmt: skip
    with _atomic():
        site = Site.objects.create(public_key=new_public_key(require_workspace().region), **fields)
        _audit("site.created", principal=principal, request=request, site_id=site.pk, domains=len(site.domains))
    return site


def site_update(site_id: int, *, principal: Principal, request=None, **changes: Any) -> Site:
    """Change a site's name, domains, consent mode, IP storage, excluded networks or active flag.

    Raise Site.DoesNotExist for an id not in this workspace, ValidationError for bad values or an
    unknown attribute.
    """
    _require(principal, "tracking:edit")
    unknown = set(changes) - set(SITE_ATTRIBUTES)
    if unknown:
        raise ValidationError({"site": [f"unknown attribute {name}" for name in sorted(unknown)[:5]]})
    fields = _checked(changes)
    with _atomic():
        site = Site.objects.select_for_update().get(pk=site_id)
        for attribute, value in fields.items():
            setattr(site, attribute, value)
        site.updated_at = timezone.now()
        site.save()
        _audit("site.updated", principal=principal, request=request, site_id=site.pk, changed=sorted(fields))
    return site


def site_delete(site_id: int, *, principal: Principal, request=None) -> None:
    """Delete a site: its key stops working at once; events already recorded stay in contacts' timelines.

    Raise Site.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "tracking:edit")
    with _atomic():
        site = Site.objects.select_for_update().get(pk=site_id)
        site.delete()
        _audit("site.deleted", principal=principal, request=request, site_id=site_id)


def site_rotate_key(site_id: int, *, principal: Principal, request=None) -> Site:
    """Give a site a new public key; the old one stops working at once (the snippet must be replaced).

    Raise Site.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "tracking:edit")
    with _atomic():
        site = Site.objects.select_for_update().get(pk=site_id)
        site.public_key = new_public_key(require_workspace().region)
        site.updated_at = timezone.now()
        site.save(update_fields=["public_key", "updated_at"])
        _audit("site.key_rotated", principal=principal, request=request, site_id=site.pk)
    return site


# ==============================================================================================
# What the tracker records synchronously: identification and consent


def tracking_identify(
    site_id: int,
    visitor_id: int | None,
    fields: Mapping[str, Any],
    *,
    ip: str | None,
    principal: Principal,
    signal: str | None = None,
    request=None,
) -> IdentifyResult:
    """Identify a site's visitor from publicly updatable fields ({alias: value}); return what was done.

    Never merges into or reveals an existing contact: values whose unique identifier (email) belongs
    to a contact the device was not already identified as create nothing and link nothing. Otherwise
    the device's contact is updated, or a new contact created; the visitor is joined to it only when
    it may be profiled (tidings.tracking.consent_adapter.may_profile; signal "gpc"/"dnt" forbids it).
    Fields that are not publicly updatable are ignored (named in the result, never their values);
    the workspace's sensitive-data guard runs on the values. ip is the client's address: the contact
    keeps none, so it is only part of the call for symmetry with tracking_consent. Needs
    tracking:record. Raise Site.DoesNotExist for a site not in this workspace.
    """
    _require(principal, "tracking:record")
    with _atomic():
        site = Site.objects.get(pk=site_id)
        result = identify.identify_visitor(site, visitor_id, fields, signal=signal)
        _audit("tracking.identified", principal=principal, request=request, site_id=site.pk,
               fields=list(result.set_fields), created=result.created, linked=result.linked)  # fmt: skip
    return result


def tracking_identify_click(site_id: int, visitor_id: int, token: str, *, principal: Principal, request=None) -> bool:
    """Identify a visitor from the signed token (tdt=) of a tracked email's link; return whether it was joined.

    Only a valid token of this workspace joins, and only a visitor that may be profiled and is not
    another contact's already. Needs tracking:record; Site.DoesNotExist for a site of another workspace.
    """
    _require(principal, "tracking:record")
    with _atomic():
        site = Site.objects.get(pk=site_id)
        contact_id = identify.contact_for_click_token(token)
        if contact_id is None or not consent_adapter.may_profile(site, visitor_id):
            return False
        linked = identify.link_visitor(visitor_id, contact_id)
        if linked:
            _audit("tracking.identified", principal=principal, request=request, site_id=site.pk, fields=[],
                   created=False, linked=True, by="click")  # fmt: skip
    return linked


def tracking_consent(
    site_id: int,
    visitor_id: int | None,
    choices: Mapping[str, bool],
    *,
    signal: str | None = None,
    ip: str | None,
    source_url: str,
    principal: Principal,
    request=None,
) -> ConsentResult:
    """Record a visitor's choices from the site's banner ({purpose key: given}) and an honoured GPC/DNT signal.

    A visitor who gives tracking consent without a device id yet gets one (ConsentResult.visitor_id,
    which the tracker then stores); a signal records a tracking withdrawal once per visitor and
    outweighs a "given" in the same hit (choices may then be empty: the signal alone is recorded).
    ip is kept as the ledger keeps it (its network) unless the site stores no IP. Purposes the
    ledger does not know are listed in refused.
    Needs consent:record. Raise Site.DoesNotExist for a site not in this workspace, ValidationError
    for choices that are not {key: true|false}.
    """
    _require(principal, "consent:record")
    checked = identify.checked_choices(choices, allow_empty=signal is not None)
    with _atomic():
        site = Site.objects.get(pk=site_id)
        stored_ip = ip if site.ip_storage == IpStorage.NETWORK else None
        result = identify.record_choices(site, visitor_id, checked, signal=signal, ip=stored_ip,
                                         source_url=source_url, principal=principal)  # fmt: skip
        if result.recorded:
            _audit("tracking.consent", principal=principal, request=request, site_id=site.pk,
                   purposes=list(result.recorded), signal=signal or "")  # fmt: skip
    return result


def tracking_identify_form(visitor_id: int, contact_id: int, *, principal: Principal, request=None) -> bool:
    """Join a device to the contact a form submission created or already named it as; return whether it is joined.

    The forms app calls this (with the public form door's principal, forms:submit) only for a visitor
    tidings.tracking.selectors.profiled_visitor returned, and only when the submission created the
    contact or the device was already identified as it: a form never attaches a device to a contact
    found by an email typed into it (the takeover rule of tidings.tracking.identify).
    """
    _require(principal, "forms:submit")
    with _atomic():
        linked = identify.link_visitor(visitor_id, contact_id)
        if linked:
            _audit("tracking.identified", principal=principal, request=request, fields=[], created=False, linked=True,
                   by="form")  # fmt: skip
    return linked
