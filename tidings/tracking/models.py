"""Tracking: the sites a workspace tracks, each with its public key, allowed domains and consent mode.

Tables refer to each other by id columns and every index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.timezone import now

from tidings.privacy.registry import NotPersonal
from tidings.tenancy.models import TenantModel

PUBLIC_KEY_BYTES = 18  # 24 url-safe characters after the region prefix


def new_public_key(region: str) -> str:
    """Return a fresh site key: the region (so the key names the database to look in) and random text."""
    return f"{region}_{secrets.token_urlsafe(PUBLIC_KEY_BYTES)}"


class ConsentMode(models.TextChoices):
    """When a site's visitors may be profiled (a device id, events, identification)."""

    CONSENT = "consent", "Only after the visitor consents to tracking (opt-in)"
    LEGITIMATE_INTEREST = "legitimate_interest", "Unless the visitor objects (opt-out)"
    COOKIELESS = "cookieless", "Never: count visits cookielessly only"


class IpStorage(models.TextChoices):
    """What of a visitor's IP address is kept; the full address is used in memory only (geolocation)."""

    NETWORK = "network", "The network only (/24 for IPv4, /48 for IPv6)"
    NONE = "none", "Nothing"


class Site(TenantModel):
    """A website of the workspace that carries the tracker snippet.

    public_key goes into the snippet and names the site (and so the workspace) on every hit; it is
    unique across the region's workspaces and can be rotated. Hits are accepted only from pages of
    the allowed domains (a domain also allows its subdomains when it starts with a dot).
    """

    personal_data = NotPersonal("a website's settings")

    name = models.CharField(max_length=191)
    public_key = models.CharField(max_length=64)
    domains = models.JSONField(default=list, blank=True)  # host names, e.g. ["shop.example", ".blog.example"]
    consent_mode = models.CharField(max_length=24, choices=ConsentMode.choices, default=ConsentMode.CONSENT)
    ip_storage = models.CharField(max_length=8, choices=IpStorage.choices, default=IpStorage.NETWORK)
    excluded_networks = models.JSONField(default=list, blank=True)  # CIDRs whose hits are ignored (the office)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        # Unique within the workspace (the key's 144 random bits make it unique everywhere): a constraint
        # across workspaces could not be enforced per shard (decision 0006). The collect path looks a key
        # up across workspaces once per few seconds per process (tracking.selectors.site_by_public_key).
        constraints = [models.UniqueConstraint(fields=["workspace_id", "public_key"], name="tracking_site_key_uniq")]
        indexes = [models.Index(fields=["workspace_id", "name"], name="tracking_site_name_idx")]

    def __str__(self) -> str:
        return self.name


# The collect path's sessions and hit receipts, and the cookieless counts' tables, live beside their code.
from tidings.tracking.collect.models import HitReceipt, TrackingSession  # noqa: E402,F401
from tidings.tracking.models_traffic import TrafficDay, TrafficHour, TrafficSalt, TrafficSighting  # noqa: E402,F401
