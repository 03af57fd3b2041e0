"""The client's address: the one place that reads REMOTE_ADDR and X-Forwarded-For.

Every consumer (sign-in lockout through django-axes, API rate limits, the audit log's truncated
address, support-access logging) asks client_ip(), so they all agree on who is calling.

With TIDINGS_BEHIND_PROXY = N > 0, the N proxies in front of Tidings each append the address they
received the request from to X-Forwarded-For, so the client is the N-th entry from the right: entries
further left were written by the client itself and are ignored (anyone can send X-Forwarded-For).
With N = 0 (the default) the header is ignored entirely and the address is the socket's peer.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    """Return value as a normalised IP address, or None when it is not one.

    Accepts what proxies write: a bare address, IPv6 in brackets, either with a port.
    """
    value = value.strip()
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """Return the address of the client that sent request, or "" when there is none.

    Trust X-Forwarded-For only as far as TIDINGS_BEHIND_PROXY says: with N trusted proxies, take
    the N-th entry from the right (the leftmost entry when there are fewer, since every entry was
    then written by a trusted proxy). Fall back to REMOTE_ADDR when that entry is not an address.
    """
    if request is None:
        return ""
    meta = request.META
    remote = _address(meta.get("REMOTE_ADDR", "") or "") or ""
    hops = int(getattr(settings, "TIDINGS_BEHIND_PROXY", 0) or 0)
    if hops <= 0:
        return remote
    forwarded = [part for part in (meta.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if part.strip()]
    if not forwarded:
        return remote
    chosen = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    return _address(chosen) or remote


def client_ip_or_none(request) -> str | None:
    """Return client_ip(request), or None when unknown (django-axes' AXES_CLIENT_IP_CALLABLE)."""
    return client_ip(request) or None
