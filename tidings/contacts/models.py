"""Contacts, companies, fields, tags, notes and Do-Not-Contact (the event store lives in tidings.events).

Every table lives in the workspace's region database (TenantModel) and every index leads
with workspace_id. Tables refer to each other by plain id columns (contact_id, company_id,
tag_id), not foreign keys: every store of a contact's data is then merged, exported and
erased the same way, through the registry (tidings.privacy.registry).

Identifying values (email, names, phones, address lines, identifying custom fields) live in
Contact.profile_enc, one AES-GCM blob per contact under the contact's data key; everything
else is in clear columns or in `custom`. See docs/contacts-and-privacy.md.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from tidings.contacts.event_types import EventType  # noqa: F401 (re-exported for existing callers)
from tidings.events.models import Event as ContactEvent  # noqa: F401 (the store moved to tidings.events)
from tidings.privacy.categories import DataCategory
from tidings.privacy.guard import GuardPolicy
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel


class FieldObject(models.TextChoices):
    CONTACT = "contact", "Contact"
    COMPANY = "company", "Company"


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    TEXTAREA = "textarea", "Text area"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes/No"
    DATE = "date", "Date"
    DATETIME = "datetime", "Date and time"
    EMAIL = "email", "Email"
    TEL = "tel", "Phone"
    URL = "url", "URL"
    SELECT = "select", "Select"
    MULTISELECT = "multiselect", "Multiple select"
    COUNTRY = "country", "Country"
    REGION = "region", "Region"
    LOCALE = "locale", "Locale"
    TIMEZONE = "timezone", "Time zone"


class FieldGroup(models.TextChoices):
    """Mautic's field groups, kept so the Mautic-compatible API can answer fields.core, .social..."""

    CORE = "core", "Core"
    SOCIAL = "social", "Social"
    PERSONAL = "personal", "Personal"
    PROFESSIONAL = "professional", "Professional"


class ContactField(TenantModel):
    """The definition of a contact or company field, core (seeded) or custom.

    alias is the field's permanent name: the key of its values. It never changes, so renaming
    a field (its label) never touches data. is_encrypted is fixed at creation from the category.
    """

    object = models.CharField(max_length=8, choices=FieldObject.choices, default=FieldObject.CONTACT)
    alias = models.CharField(max_length=64)
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=12, choices=FieldType.choices, default=FieldType.TEXT)
    group = models.CharField(max_length=12, choices=FieldGroup.choices, default=FieldGroup.CORE)
    category = models.CharField(max_length=48, choices=DataCategory.choices, blank=True, default="")
    is_encrypted = models.BooleanField(default=False, editable=False)
    is_unique_identifier = models.BooleanField(default=False)
    is_publicly_updatable = models.BooleanField(default=False)
    is_required = models.BooleanField(default=False)
    is_listable = models.BooleanField(default=True)
    # A clear custom value with a filter index (actions.field_index_set; decision 0013).
    is_indexed = models.BooleanField(default=False, editable=False)
    options = models.JSONField(default=list, blank=True)
    default_value = models.JSONField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    is_core = models.BooleanField(default=False, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    sensitive_acknowledged_at = models.DateTimeField(null=True, blank=True)
    sensitive_acknowledged_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "object", "alias"], name="contacts_field_alias_unique")
        ]
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class Contact(TenantModel):
    """A person (or an anonymous visitor) in a workspace."""

    personal_data = PersonalData(
        subject="id",
        fields={
            "profile_enc": DataCategory.CONTACT,
            "email_bidx": DataCategory.EMAIL,
            "phone_bidx": DataCategory.PHONE,
            "mobile_bidx": DataCategory.PHONE,
            "email_domain": DataCategory.EMAIL,
            "city": DataCategory.CITY,
            "state": DataCategory.STATE,
            "zipcode": DataCategory.POSTAL_CODE,
            "country": DataCategory.COUNTRY,
            "position": DataCategory.JOB_TITLE,
            "company_name": DataCategory.WORKPLACE,
            "website": DataCategory.URL,
            "custom": DataCategory.DEMOGRAPHIC,
        },
        erase="delete",
        export="tidings.contacts.selectors.export_contact_profile",
        merge="skip",
        note="the profile; contact_merge folds the loser's values into the winner",
    )

    profile_enc = models.BinaryField(null=True)
    email_bidx = models.BinaryField(max_length=16, null=True)
    phone_bidx = models.BinaryField(max_length=16, null=True)
    mobile_bidx = models.BinaryField(max_length=16, null=True)
    email_domain = models.CharField(max_length=255, blank=True, default="")
    company_name = models.CharField(max_length=255, blank=True, default="")
    position = models.CharField(max_length=191, blank=True, default="")
    city = models.CharField(max_length=191, blank=True, default="")
    state = models.CharField(max_length=191, blank=True, default="")
    zipcode = models.CharField(max_length=32, blank=True, default="")
    country = models.CharField(max_length=64, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="")
    preferred_locale = models.CharField(max_length=16, blank=True, default="")
    website = models.CharField(max_length=255, blank=True, default="")
    owner_id = models.BigIntegerField(null=True, blank=True)
    stage_id = models.BigIntegerField(null=True, blank=True)  # a Stage of the workspace (no foreign key: see above)
    points = models.IntegerField(default=0)
    last_active = models.DateTimeField(null=True, blank=True)
    date_identified = models.DateTimeField(null=True, blank=True)
    lawful_basis = models.CharField(max_length=24, blank=True, default="")
    custom = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            # One contact per email in a workspace, enforced by the database so that two concurrent
            # creates cannot both pass the check (actions turn the violation into "already exists").
            # Only email can be constrained: phones match across two columns and custom identifiers
            # share the token table with name words. It also serves exact-email lookups.
            models.UniqueConstraint(
                fields=["workspace_id", "email_bidx"],
                name="contacts_c_email_unique",
                condition=Q(email_bidx__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace_id", "id"], name="contacts_c_keyset_idx"),
            models.Index(fields=["workspace_id", "last_active", "id"], name="contacts_c_active_idx"),
            models.Index(fields=["workspace_id", "email_domain", "id"], name="contacts_c_domain_idx"),
            models.Index(fields=["workspace_id", "points", "id"], name="contacts_c_points_idx"),
            # The list sorts by company and country, filters by country, and plain search text matches a city.
            models.Index(fields=["workspace_id", "company_name", "id"], name="contacts_c_company_idx"),
            models.Index(fields=["workspace_id", "country", "id"], name="contacts_c_country_idx"),
            models.Index(fields=["workspace_id", "city"], name="contacts_c_city_idx"),
            # The dashboard's growth and new-contact counts group the workspace's contacts by day.
            models.Index(fields=["workspace_id", "created_at"], name="contacts_c_created_idx"),
            # Segments' incremental refresh reads the contacts changed since its last pass (conditions).
            models.Index(fields=["workspace_id", "updated_at"], name="contacts_c_updated_idx"),
            models.Index(
                fields=["workspace_id", "phone_bidx"],
                name="contacts_c_phone_idx",
                condition=Q(phone_bidx__isnull=False),
            ),
            models.Index(
                fields=["workspace_id", "mobile_bidx"],
                name="contacts_c_mobile_idx",
                condition=Q(mobile_bidx__isnull=False),
            ),
            models.Index(
                fields=["workspace_id", "owner_id", "id"],
                name="contacts_c_owner_idx",
                condition=Q(owner_id__isnull=False),
            ),
        ]


class ContactSearchToken(TenantModel):
    """A keyed blind index of one searchable word of a name, or of a unique-identifier value.

    token = HMAC(workspace index key, scope ‖ normalised value)[:16]; scope "name" for name
    words, "uid:<alias>" for unique identifiers. Rebuilt whenever the contact's values change.
    """

    personal_data = PersonalData(
        fields={"token": DataCategory.NAME},
        erase="delete",
        export="skip",
        merge="skip",
        note="derived blind indexes; the winner of a merge is re-indexed, the loser's rows erased",
    )

    contact_id = models.BigIntegerField()
    token = models.BinaryField(max_length=16)

    class Meta:
        indexes = [
            # contact_id in the index lets a name search read a common word's newest contacts first.
            models.Index(fields=["workspace_id", "token", "contact_id"], name="contacts_tok_word_idx"),
            models.Index(fields=["workspace_id", "contact_id"], name="contacts_tok_contact_idx"),
        ]


class Company(TenantModel):
    """An organisation contacts belong to. Core fields are columns; custom fields are in `custom`."""

    personal_data = NotPersonal(
        "an organisation's business details; a person's link to it is ContactCompany, which is registered"
    )

    name = models.CharField(max_length=255)
    email = models.CharField(max_length=255, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    website = models.CharField(max_length=255, blank=True, default="")
    address1 = models.CharField(max_length=255, blank=True, default="")
    address2 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=191, blank=True, default="")
    state = models.CharField(max_length=191, blank=True, default="")
    zipcode = models.CharField(max_length=32, blank=True, default="")
    country = models.CharField(max_length=64, blank=True, default="")
    industry = models.CharField(max_length=191, blank=True, default="")
    number_of_employees = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    owner_id = models.BigIntegerField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "name", "id"], name="contacts_company_name_idx"),
            # Segments' incremental refresh: contacts of companies changed since its last pass (conditions).
            models.Index(fields=["workspace_id", "updated_at"], name="contacts_company_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


def _merge_company_links(model, winner_id: int, loser_id: int) -> int:
    """Move the loser's company links to the winner; the winner keeps its primary company."""
    loser_links = model.objects.filter(contact_id=loser_id)
    winner_companies = set(model.objects.filter(contact_id=winner_id).values_list("company_id", flat=True))
    loser_links.filter(company_id__in=winner_companies).delete()
    if model.objects.filter(contact_id=winner_id, is_primary=True).exists():
        loser_links.update(is_primary=False)
    return loser_links.update(contact_id=winner_id)


class ContactCompany(TenantModel):
    """A contact's membership of a company; at most one primary company per contact."""

    personal_data = PersonalData(fields={"company_id": DataCategory.WORKPLACE}, merge=_merge_company_links)

    contact_id = models.BigIntegerField()
    company_id = models.BigIntegerField()
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "contact_id", "company_id"], name="contacts_cc_unique"),
            models.UniqueConstraint(
                fields=["workspace_id", "contact_id"], condition=Q(is_primary=True), name="contacts_cc_one_primary"
            ),
        ]
        indexes = [models.Index(fields=["workspace_id", "company_id", "contact_id"], name="contacts_cc_company_idx")]


class Tag(TenantModel):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "name"], name="contacts_tag_name_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Stage(TenantModel):
    """A lifecycle stage a contact can be in (Mautic's stages): at most one per contact, Contact.stage_id.

    weight orders the stages (Mautic's "weight": lower first); an unpublished stage stays on the
    contacts in it but is offered nowhere new. Deleting a stage takes it off its contacts.
    """

    personal_data = NotPersonal("the workspace's stage names")

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    weight = models.IntegerField(default=0)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "name"], name="contacts_stage_name_unique")]
        ordering = ["weight", "name"]

    def __str__(self) -> str:
        return self.name


class ContactTag(TenantModel):
    personal_data = PersonalData(fields={"tag_id": DataCategory.BEHAVIOR}, unique_with=("tag_id",))

    contact_id = models.BigIntegerField()
    tag_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "contact_id", "tag_id"], name="contacts_ct_unique")
        ]
        indexes = [models.Index(fields=["workspace_id", "tag_id", "contact_id"], name="contacts_ct_tag_idx")]


class NoteType(models.TextChoices):
    GENERAL = "general", "General"
    EMAIL = "email", "Email"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"


class Note(TenantModel):
    """A note about a contact; its text is encrypted under the contact's key, so shredding erases it."""

    personal_data = PersonalData(
        fields={"text_enc": DataCategory.NOTES},
        export="tidings.contacts.selectors.export_notes",
        merge="tidings.contacts.actions.notes._merge_notes",
    )

    contact_id = models.BigIntegerField()
    type = models.CharField(max_length=8, choices=NoteType.choices, default=NoteType.GENERAL)
    text_enc = models.BinaryField()
    author_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "contact_id", "created_at"], name="contacts_note_contact_idx")]


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "Push notification"


class DncReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINT = "complaint", "Complaint"
    MANUAL = "manual", "Manual"


class DoNotContact(TenantModel):
    """A contact must not be contacted on a channel; one row per contact and channel.

    The free-text comment is encrypted under the contact's data key (comment_enc, associated
    data "dnc:<channel>"), so shredding the contact's key erases it. Selectors decrypt it into
    the `comment` attribute; a row not read through them has no readable comment.
    """

    personal_data = PersonalData(
        fields={"comment_enc": DataCategory.NOTES},
        export="tidings.contacts.selectors.export_dnc",
        merge="tidings.contacts.actions.dnc._merge_dnc",
        note="the comment is re-encrypted under the winner's key on merge; the winner's row wins per channel",
    )

    contact_id = models.BigIntegerField()
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    channel_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=12, choices=DncReason.choices)
    comment_enc = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    @property
    def comment(self) -> str:
        """Return the decrypted comment; raise AttributeError when the row was not read through a selector."""
        try:
            return self._comment
        except AttributeError:
            if self.comment_enc is None:
                return ""
            raise AttributeError(
                "DoNotContact.comment is encrypted: read the row through selectors.contact_dnc or contacts_dnc"
            ) from None

    @comment.setter
    def comment(self, text: str) -> None:
        self._comment = text

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "contact_id", "channel"], name="contacts_dnc_unique")
        ]
        indexes = [models.Index(fields=["workspace_id", "channel", "contact_id"], name="contacts_dnc_channel_idx")]


# ==============================================================================================
# Imports and the workspace's contact settings


class ImportStatus(models.TextChoices):
    """An import's life: uploaded -> mapped (queued) -> running -> completed | failed | cancelled."""

    UPLOADED = "uploaded", "Waiting for column mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ContactImport(TenantModel):
    """A CSV import: its stored upload, column mapping, lawful basis, progress checkpoint and row outcomes.

    rows_done is the checkpoint: it is advanced in the same transaction as the batch it counts,
    so a run that crashes resumes after the last committed batch and writes no row twice.
    errors and flagged hold row numbers, field aliases and messages only, never the values.
    """

    personal_data = NotPersonal(
        "row numbers, column headers (generated labels for a header-less file) and messages only; the "
        "uploaded file is sealed in region storage, deleted when the import ends (kept a day when it failed or "
        "has rows with errors, so the errors file can quote them), and joins the registry "
        "as a store that is not a table (import_uploads.erase_uploads)"
    )

    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    file_path = models.CharField(max_length=255, blank=True, default="")
    original_filename = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16, default="utf-8")
    delimiter = models.CharField(max_length=1, default=",")
    # False: the file's first row holds a contact, and headers are generated labels ("Column 1"...).
    has_header = models.BooleanField(default=True)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=list, blank=True)  # one target alias (or "") per column
    lawful_basis = models.CharField(max_length=24, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    overwrite_with_blank = models.BooleanField(default=False)
    guard_policy = models.CharField(max_length=6, choices=GuardPolicy.choices, default=GuardPolicy.WARN)
    total_rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    flagged_count = models.PositiveIntegerField(default=0)
    # Rows whose email an earlier row of the same file had: merged into that contact, not counted as updates.
    duplicate_count = models.PositiveIntegerField(default=0)
    no_email_count = models.PositiveIntegerField(default=0)  # rows skipped for want of an email (also errors)
    companies_created = models.PositiveIntegerField(default=0)
    companies_linked = models.PositiveIntegerField(default=0)
    # "row" is the spreadsheet's line (the header is line 1); a row merged into an earlier one carries
    # "merged_into" (its line) and is not an error.
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "field": alias, "message": ...}]
    flagged = models.JSONField(default=list, blank=True)  # [{"row": n, "field": alias, "kind": ..., "rejected": b}]
    failure = models.CharField(max_length=255, blank=True, default="")
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life of a queued or running import: set when it is queued, starts, and commits a
    # batch. An active import whose heartbeat is old lost its worker (see imports.imports_recover_stalled).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    recoveries = models.PositiveSmallIntegerField(default=0)  # times re-queued after stalling

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "created_at", "id"], name="contacts_import_recent_idx")]

    @property
    def percent(self) -> int:
        return min(100, int(self.rows_done * 100 / self.total_rows)) if self.total_rows else 0

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ContactSettings(TenantModel):
    """A workspace's contact settings (one row per workspace; absent means the defaults)."""

    personal_data = NotPersonal("workspace preferences")

    guard_policy = models.CharField(max_length=6, choices=GuardPolicy.choices, default=GuardPolicy.WARN)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id"], name="contacts_settings_one_per_ws")]


class Density(models.TextChoices):
    COMFORTABLE = "comfortable", "Comfortable"
    DENSE = "dense", "Dense"


class ListPreference(TenantModel):
    """A member's choices for one data table of a workspace: the columns shown and the row density."""

    personal_data = NotPersonal("a member's display choices for a list: column keys and a density")

    user_id = models.BigIntegerField()
    table = models.CharField(max_length=40)
    columns = models.JSONField(default=list, blank=True)
    density = models.CharField(max_length=12, choices=Density.choices, default=Density.COMFORTABLE)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "user_id", "table"], name="contacts_listpref_unique")
        ]


class SavedView(TenantModel):
    """A named list view (filters, columns, sort) a member saved, for themselves or shared with the workspace."""

    personal_data = NotPersonal(
        "list filters and column keys; saving refuses a search that names a person (email:, phone:, uid:, ids:, name:)"
    )

    owner_user_id = models.BigIntegerField()
    table = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    query = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "owner_user_id", "table", "name"], name="contacts_savedview_name_unique"
            )
        ]
        indexes = [models.Index(fields=["workspace_id", "table", "shared"], name="contacts_savedview_table_idx")]

    def __str__(self) -> str:
        return self.name


class DuplicateDismissal(TenantModel):
    """Two contacts a member said are not duplicates: the finder leaves the pair out from then on.

    The pair is stored once, lower id first (contact_id < other_id). Erasing either contact
    deletes the row; a merge erases the loser, and with it the loser's dismissals.
    """

    personal_data = PersonalData(
        fields={"other_id": DataCategory.BEHAVIOR},
        erase="tidings.contacts.actions.duplicates._erase_dismissals",
        export="skip",
        merge="skip",
        note="a judgement about two contact ids, no values; erased when either contact is",
    )

    contact_id = models.BigIntegerField()
    other_id = models.BigIntegerField()
    dismissed_by = models.BigIntegerField(null=True, blank=True)  # the member's user id; None for the system
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "contact_id", "other_id"], name="contacts_dupdis_unique"),
            models.CheckConstraint(condition=Q(contact_id__lt=models.F("other_id")), name="contacts_dupdis_ordered"),
        ]
        indexes = [models.Index(fields=["workspace_id", "other_id"], name="contacts_dupdis_other_idx")]
