"""Data-subject requests: what a person asked of a workspace under the GDPR, and where the answer stands.

A request names its contact when one is known: the preference centre's link, a member acting for the
subject, or an address given on the public request form that belongs to a contact. The address itself is
never stored: the subject is written to at the contact's own address, and an address that belongs to no
contact is answered at once ("we hold nothing about this address"), which only its owner can read. A
keyed hash of the address (a scope of its own, never the contacts' blind index) finds duplicates. What
the subject wants rectified is sealed under the contact's data key.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import PersonalData
from tidings.tenancy.models import TenantModel

DUE_AFTER = datetime.timedelta(days=30)  # GDPR art. 12(3): one month
MAX_EXTENSION = datetime.timedelta(days=60)  # extendable by two further months, with reasons given


class RequestKind(models.TextChoices):
    ACCESS = "access", "Access: a copy of all data held"
    RECTIFICATION = "rectification", "Rectification of inaccurate data"
    ERASURE = "erasure", "Erasure"
    RESTRICTION = "restriction", "Restriction of processing"
    OBJECTION = "objection", "Objection to marketing"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    UNVERIFIED = "unverified", "Identity unverified"
    VERIFIED = "verified", "Verified"
    APPROVED = "approved", "Approved"
    IN_PROGRESS = "in_progress", "In progress"
    EXTENDED = "extended", "Extended"
    COMPLETED = "completed", "Completed"
    DENIED = "denied", "Denied"


OPEN_STATUSES = (
    RequestStatus.RECEIVED,
    RequestStatus.UNVERIFIED,
    RequestStatus.VERIFIED,
    RequestStatus.APPROVED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.EXTENDED,
)


class RequestSource(models.TextChoices):
    PREFERENCE_CENTRE = "preference_centre", "Preference centre"
    PUBLIC_FORM = "public_form", "Public request form"
    OPERATOR = "operator", "A member, on the subject's behalf"
    API = "api", "API"


class SubjectRequest(TenantModel):
    """One request and its lifecycle; every change of state is in the audit log (target subject_request).

    Erasing the contact keeps the row as proof that the request was received and answered in time
    (the contact link, the address hash and the details are dropped).
    """

    personal_data = PersonalData(
        fields={
            "address_hash": DataCategory.EMAIL,
            "details_enc": DataCategory.NOTES,
        },
        erase="anonymise",
        anonymise={"details_enc": None, "address_hash": None},
        export="tidings.subject_requests.selectors.export_requests",
        note="data-subject requests: kept as anonymised proof after the erasure they may have asked for",
    )

    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED)
    source = models.CharField(max_length=20, choices=RequestSource.choices)
    contact_id = models.BigIntegerField(null=True, blank=True)
    address_hash = models.BinaryField(max_length=32, null=True, blank=True)
    details_enc = models.BinaryField(null=True, blank=True)  # what to rectify, under the contact's data key
    received_at = models.DateTimeField(default=now)
    due_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")  # of a denial or an extension
    outcome = models.JSONField(default=dict, blank=True)  # counts only: rows erased per store, export size...
    duplicate_of = models.BigIntegerField(null=True, blank=True)
    code_hash = models.BinaryField(max_length=32, null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "status", "due_at"], name="subjreq_status_due_idx"),
            models.Index(fields=["workspace_id", "contact_id"], name="subjreq_contact_idx"),
            models.Index(fields=["workspace_id", "address_hash"], name="subjreq_address_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"
