"""The consent ledger: a workspace's purposes, its privacy notices, and every decision a person made.

ConsentRecord is append-only: a decision is never updated or deleted, a later record supersedes
it (the current state is derived: the latest record per subject and purpose, selectors.py). The
only change a record ever sees is erasure, which keeps it as anonymised proof (decision 0018).
Tables refer to each other by id columns, never foreign keys, and every index leads with
workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from tidings.events.models import Visitor
from tidings.privacy.categories import DataCategory
from tidings.privacy.models import LawfulBasis
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel

# The purposes every workspace has, created with it (actions.purposes_ensure_standard) and read as
# these defaults until then (selectors.purpose_by_key), so no workspace ever lacks them.
STANDARD_PURPOSES: dict[str, tuple[str, str]] = {
    "marketing_email": ("Marketing email", "Newsletters, offers and other promotional email."),
    "tracking": (
        "Website tracking",
        "Recording visits to the workspace's websites with a device id, and linking them to a contact.",
    ),
    "profiling": ("Profiling", "Scoring and segmenting contacts by what they do, to tailor what they receive."),
    "sharing": ("Sharing with partners", "Passing contact data to third parties for their own use."),
}


class Purpose(TenantModel):
    """Something the workspace processes personal data for, and the lawful basis it relies on."""

    personal_data = NotPersonal("the workspace's purposes of processing")

    key = models.SlugField(max_length=64, db_index=False)  # the unique constraint leads with workspace_id
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    lawful_basis = models.CharField(max_length=24, choices=LawfulBasis.choices, default=LawfulBasis.CONSENT)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "key"], name="consent_purpose_key_uniq")]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_consent(self) -> bool:
        return self.lawful_basis == LawfulBasis.CONSENT


class PrivacyNotice(TenantModel):
    """A published version of the workspace's privacy notice; the current one is the highest version."""

    personal_data = NotPersonal("the workspace's privacy notices")

    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True, default="")
    text = models.TextField(blank=True, default="")
    published_at = models.DateTimeField(default=now)
    published_by = models.BigIntegerField(null=True, blank=True)  # a user id; None for the system

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "version"], name="consent_notice_version_uniq")]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class Method(models.TextChoices):
    """How a decision reached the ledger."""

    FORM = "form", "Form"
    TRACKER = "tracker", "Tracker"
    IMPORT = "import", "Import"
    API = "api", "API"
    PREFERENCE_CENTRE = "preference_centre", "Preference centre"
    OPERATOR = "operator", "Operator"


class Signal(models.TextChoices):
    """A browser signal honoured as a refusal (recorded with given=False)."""

    GPC = "gpc", "Global Privacy Control (Sec-GPC)"
    DNT = "dnt", "Do Not Track"


class ConsentRecord(TenantModel):
    """One decision: a subject gave or withdrew consent (or objected) for a purpose, with its proof.

    The subject is the contact, or an anonymous device (visitor) that decided through the
    tracker; once the visitor is identified its records count for that contact, as events do
    (decision 0012): the subject is COALESCE(contact_id, visitor.contact_id). Write through
    tidings.consent.actions only; never update or delete a row (erasure anonymises it).
    """

    personal_data = PersonalData(
        fields={
            "given": DataCategory.BEHAVIOR,
            "visitor_id": DataCategory.DEVICE,
            "ip_network": DataCategory.IP_ADDRESS,
        },
        # Kept as anonymised proof that a decision was recorded under a notice, never of whose.
        erase="tidings.consent.personal_data.anonymise_records",
        anonymise={"visitor_id": None, "ip_network": ""},
        export="tidings.consent.personal_data.export_records",
        merge="reassign",
        note="the consent ledger: erasure keeps each record as anonymised proof (no contact, visitor or IP)",
    )

    purpose_id = models.BigIntegerField()
    given = models.BooleanField()
    contact_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.BigIntegerField(null=True, blank=True)
    notice_version = models.PositiveIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=now)
    method = models.CharField(max_length=20, choices=Method.choices)
    source = models.CharField(max_length=200, blank=True, default="")
    ip_network = models.CharField(max_length=49, blank=True, default="")
    signal = models.CharField(max_length=3, choices=Signal.choices, null=True, blank=True)
    wording = models.TextField(blank=True, default="")
    # A join on (workspace_id, visitor_id), not a column: lets querysets reach visitor__contact_id.
    visitor = models.ForeignObject(
        Visitor,
        on_delete=models.DO_NOTHING,
        from_fields=["workspace_id", "visitor_id"],
        to_fields=["workspace_id", "id"],
        related_name="+",
        null=True,
    )

    class Meta:
        indexes = [
            # The latest record of a contact for a purpose: the state, and its set-based form.
            models.Index(
                fields=["workspace_id", "contact_id", "purpose_id", "recorded_at"],
                name="consent_record_contact_idx",
                condition=Q(contact_id__isnull=False),
            ),
            models.Index(
                fields=["workspace_id", "visitor_id", "purpose_id", "recorded_at"],
                name="consent_record_visitor_idx",
                condition=Q(visitor_id__isnull=False),
            ),
            models.Index(fields=["workspace_id", "purpose_id", "recorded_at"], name="consent_record_purpose_idx"),
        ]
        constraints = [
            # Before erasure every record names its subject; an anonymised one names none (and no IP).
            models.CheckConstraint(
                condition=Q(contact_id__isnull=False) | Q(visitor_id__isnull=False) | Q(ip_network=""),
                name="consent_record_subject_or_anonymised",
            )
        ]
