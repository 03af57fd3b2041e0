"""Cookieless traffic counts: a daily salt per workspace, per-day sightings, and the aggregates kept.

Every accepted hit, profiled or not, is counted here without an identifier (tidings.tracking.traffic):

- TrafficSalt: a random key per workspace and UTC day; a hit's digest is HMAC(salt, site|ip|user agent).
  Deleted after 48 hours, after which no digest of that day can be recomputed from an IP address.
- TrafficSighting: "this digest was seen on this site, day, dimension and value", so a visitor is
  counted once per day and value. Deleted with the salt, after 48 hours.
- TrafficDay: page views and unique visitors per site, day, dimension and value: kept.
- TrafficHour: the site's totals per hour, kept for 48 hours (the "last two days" chart).

Values that would be too long for an index (URLs) are keyed by 64 bits of their SHA-256 (value_key),
so every unique index stays small; the value itself is stored once in the aggregate row. Every
index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.registry import NotPersonal
from tidings.tenancy.models import TenantModel


class Dimension(models.IntegerChoices):
    """What a traffic row breaks the counts down by (the value column says which page, country...)."""

    TOTAL = 0, "Total"
    PAGE = 1, "Page"
    REFERRER = 2, "Referrer"
    UTM_SOURCE = 3, "UTM source"
    UTM_MEDIUM = 4, "UTM medium"
    UTM_CAMPAIGN = 5, "UTM campaign"
    DEVICE = 6, "Device type"
    OS = 7, "Operating system"
    BROWSER = 8, "Browser"
    COUNTRY = 9, "Country"
    HOUR = 20, "Hour"  # sightings only: a visitor counted once per hour for TrafficHour


class TrafficSalt(TenantModel):
    """The random key of a workspace's digests on one UTC day; deleted 48 hours after the day began."""

    personal_data = NotPersonal(
        "a random key naming nobody; deleted after 48 hours, so no stored digest can then be linked to an IP address"
    )

    day = models.DateField()
    salt = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "day"], name="tracking_salt_day_uniq")]


class TrafficSighting(TenantModel):
    """A daily-salted digest seen on a site's day for one dimension's value (a unique visitor's mark).

    The digest is a keyed hash of IP and user agent whose key is deleted after 48 hours, and so are
    these rows: they only make a visitor count once per day and value.
    """

    personal_data = NotPersonal(
        "a 16-byte HMAC under a daily random key deleted after 48 hours, with these rows; never linked to "
        "a visitor, a contact or an event"
    )

    site_id = models.BigIntegerField()
    day = models.DateField()
    dimension = models.PositiveSmallIntegerField(choices=Dimension.choices)
    value_key = models.BigIntegerField()
    digest = models.BinaryField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "site_id", "day", "dimension", "value_key", "digest"],
                name="tracking_sighting_uniq",
            )
        ]
        indexes = [models.Index(fields=["workspace_id", "day"], name="tracking_sighting_day_idx")]


class TrafficDay(TenantModel):
    """Page views and unique visitors of a site on a UTC day, for one dimension's value.

    visitors counts distinct digests of the day, so a period's visitors are a sum of daily visitors
    (the salt changes every day: nobody can be followed from one day to the next).
    """

    personal_data = NotPersonal("aggregate counts of a site's visits; the dashboards suppress groups under 10")

    site_id = models.BigIntegerField()
    day = models.DateField()
    dimension = models.PositiveSmallIntegerField(choices=Dimension.choices)
    value_key = models.BigIntegerField()
    value = models.TextField(blank=True, default="")
    views = models.BigIntegerField(default=0)
    visitors = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "site_id", "day", "dimension", "value_key"], name="tracking_traffic_day_uniq"
            )
        ]


class TrafficHour(TenantModel):
    """A site's page views and unique visitors in one UTC hour; kept for 48 hours."""

    personal_data = NotPersonal("aggregate counts of a site's visits per hour, kept for 48 hours")

    site_id = models.BigIntegerField()
    hour = models.DateTimeField()
    views = models.BigIntegerField(default=0)
    visitors = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "site_id", "hour"], name="tracking_traffic_hour_uniq")
        ]
