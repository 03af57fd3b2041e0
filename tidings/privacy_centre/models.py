"""The privacy centre: retention rules and their aggregates, the register of recipients, the transfer log.

Every table is the workspace's (TenantModel, in its region). None holds a person's values: the
transfer log counts contacts, aggregates count rows per day. Tables refer to each other by id
columns, never foreign keys, and every index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.retention import DataClass
from tidings.tenancy.models import TenantModel


class RetentionRule(TenantModel):
    """How many days the workspace keeps a class of data; days None keeps it without limit.

    A class with no row uses its default (selectors.DEFAULT_DAYS).
    """

    data_class = models.CharField(max_length=32, choices=DataClass.choices)
    days = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.BigIntegerField(null=True, blank=True)  # a user id; None for the system

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "data_class"], name="privacy_centre_rule_class_uniq")
        ]


class RetentionAggregate(TenantModel):
    """What is kept of purged rows: how many there were of one kind on one day (never who)."""

    data_class = models.CharField(max_length=32, choices=DataClass.choices)
    day = models.DateField()
    kind = models.CharField(max_length=64)  # an event type's name, "form:<id>", "visitor", "contact"
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "data_class", "day", "kind"], name="privacy_centre_aggregate_uniq"
            )
        ]


class RecipientKind(models.TextChoices):
    SUBPROCESSOR = "subprocessor", "Sub-processor"
    INTEGRATION = "integration", "Integration"
    WEBHOOK = "webhook", "Webhook"


class Safeguard(models.TextChoices):
    """What makes a transfer outside the workspace's region lawful (GDPR chapter V)."""

    NONE_NEEDED = "none_needed", "Same region (no transfer abroad)"
    ADEQUACY = "adequacy", "Adequacy decision"
    SCC = "scc", "Standard contractual clauses"
    BCR = "bcr", "Binding corporate rules"
    DEROGATION = "derogation", "Derogation (art. 49)"


class Recipient(TenantModel):
    """Someone personal data is passed to: a sub-processor, or the workspace's own integration or webhook."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=RecipientKind.choices)
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    safeguard = models.CharField(max_length=16, choices=Safeguard.choices, default=Safeguard.NONE_NEEDED)
    purposes = models.JSONField(default=list, blank=True)  # purpose keys
    categories = models.JSONField(default=list, blank=True)  # DataCategory values
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "name"], name="privacy_centre_recipient_uniq")]

    def __str__(self) -> str:
        return self.name


class Transfer(TenantModel):
    """One transfer of personal data to a recipient: what, about how many, why, when, by whom; never the values.

    refused counts the contacts the purpose did not allow, who were left out of the transfer.
    """

    recipient_id = models.BigIntegerField()
    purpose = models.CharField(max_length=64)
    categories = models.JSONField(default=list, blank=True)
    contacts = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    use = models.CharField(max_length=64, blank=True, default="")  # the flow: "webhook:7", "export"
    at = models.DateTimeField(default=now)
    actor_type = models.CharField(max_length=16)
    actor_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "at"], name="privacy_centre_transfer_at"),
            models.Index(fields=["workspace_id", "recipient_id", "at"], name="privacy_centre_transfer_rcpt"),
        ]
