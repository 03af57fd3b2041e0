"""The client's address, used in memory only: excluded networks, the stored network (or nothing), the country.

The country comes from a MaxMind database file when TIDINGS_GEOIP_PATH is set and the optional
geoip2 package is installed (`pip install tidings[geoip]`); otherwise it is "".
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os

from tidings.events.registry import _network

log = logging.getLogger(__name__)


def client_address(environ: dict) -> str:
    """Return the client's address: REMOTE_ADDR (a proxy in front sets it from X-Forwarded-For itself)."""
    return environ.get("REMOTE_ADDR", "") or ""


@functools.lru_cache(maxsize=1024)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    found = []
    for cidr in cidrs:
        try:
            found.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue  # the site form validates them; a bad one here excludes nothing
    return tuple(found)


def excluded(ip: str, cidrs: tuple[str, ...]) -> bool:
    """Return whether ip lies in one of cidrs (a site's excluded networks: the office)."""
    if not cidrs or not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == network.version and address in network for network in _networks(cidrs))


def stored_network(ip: str, ip_storage: str) -> str:
    """Return what the site keeps of ip: its network ("network") or "" ("none", or no valid address)."""
    if ip_storage != "network" or not ip:
        return ""
    try:
        return _network(ip)
    except ValueError:
        return ""


class _NoCountry:
    def country(self, ip: str) -> str:
        return ""


class _GeoIP:
    def __init__(self, path: str):
        import geoip2.database

        self.reader = geoip2.database.Reader(path)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one reader per process, kept for its life)
    def country(self, ip: str) -> str:
        try:
            return self.reader.country(ip).country.iso_code or ""
        except Exception:  # noqa: BLE001 (an address not in the database, or a private one: no country)
            return ""


@functools.lru_cache(maxsize=1)
def geoip():
    """Return the process's country lookup: a geoip2 reader when TIDINGS_GEOIP_PATH is set, else one that says ""."""
    path = os.environ.get("TIDINGS_GEOIP_PATH", "")
    if not path:
        return _NoCountry()
    try:
        return _GeoIP(path)
    except ImportError:
        log.warning("TIDINGS_GEOIP_PATH is set but geoip2 is not installed (pip install tidings[geoip])")
    except (OSError, ValueError):
        log.warning("TIDINGS_GEOIP_PATH does not name a readable MaxMind database")
    return _NoCountry()
