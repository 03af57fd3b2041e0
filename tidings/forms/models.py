"""Forms: a workspace's forms (fields and submit actions as ordered JSON lists) and their submissions.

A form's definition holds no personal data. A submission's answers are personal: they are sealed
under the contact's own data key (tidings.privacy.vault), so erasing the contact (crypto-shredding
and the erasure registry, which deletes the rows) erases them. Tables refer to each other by id
columns and every index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel


class FieldKind(models.TextChoices):
    """What a form field asks for (Mautic's field types, FormFieldHelper, without file, captcha and page breaks)."""

    TEXT = "text", "Text"
    TEXTAREA = "textarea", "Text area"
    EMAIL = "email", "Email"
    NUMBER = "number", "Number"
    TEL = "tel", "Phone"
    URL = "url", "Web address"
    DATE = "date", "Date"
    SELECT = "select", "Drop-down list"
    RADIO = "radiogrp", "Radio group"
    CHECKBOXES = "checkboxgrp", "Checkbox group"
    COUNTRY = "country", "Country"
    HIDDEN = "hidden", "Hidden value"
    FREEHTML = "freehtml", "Free text or HTML"
    CONSENT = "consent", "Consent checkbox"


class ActionKind(models.TextChoices):
    """What a successful submission does besides storing the answers (Mautic's submit actions, by meaning)."""

    SEGMENT_ADD = "segment_add", "Add to a segment"
    SEGMENT_REMOVE = "segment_remove", "Remove from a segment"
    TAGS_ADD = "tags_add", "Add tags"
    TAGS_REMOVE = "tags_remove", "Remove tags"
    POINTS = "points", "Change points"
    NOTIFY = "notify", "Notify members by email"
    DOUBLE_OPT_IN = "double_opt_in", "Send the double opt-in confirmation"
    REMOVE_DNC = "remove_dnc", "Allow email again (remove Do-Not-Contact) once confirmed"
    SEND_EMAIL = "send_email", "Send an email to the contact"


class Form(TenantModel):
    """A form: its fields (ordered), its submit actions (in order) and what the person sees afterwards.

    fields: [{"id", "kind", "label", "alias", "help", "required", "default", "options", "rules",
    "maps_to", "progressive", "purpose", "html"}...]; actions: [{"kind", ...settings}...]. Both are
    checked by tidings.forms.actions (validation.py) on every save; nothing else writes them.
    """

    personal_data = NotPersonal("a form's definition: labels, rules and settings, no answers")

    name = models.CharField(max_length=191)
    alias = models.SlugField(max_length=64, db_index=False)  # unique per workspace (constraint below)
    description = models.TextField(blank=True, default="")
    published = models.BooleanField(default=False)
    fields = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    success_message = models.CharField(max_length=500, blank=True, default="")
    redirect_url = models.URLField(max_length=500, blank=True, default="")
    next_field_id = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "alias"], name="forms_form_alias_uniq")]
        indexes = [models.Index(fields=["workspace_id", "name"], name="forms_form_name_idx")]

    def __str__(self) -> str:
        return self.name


class SubmissionStatus(models.TextChoices):
    """Where a submission stands: done, or holding what waits for the double opt-in click."""

    ACCEPTED = "accepted", "Accepted"
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"


class Submission(TenantModel):
    """One accepted submission of a form: the answers sealed under the contact's key, and where it came from.

    data_enc is the contact's data key's encryption (field "form_submission") of
    {"values": {alias: answer}, "consents": [held consent decisions], "held": bool (actions wait for
    the confirmation)}. The page address is stripped of its query string; the IP is kept as its network.
    """

    personal_data = PersonalData(
        fields={
            "data_enc": DataCategory.BEHAVIOR,
            "ip_network": DataCategory.IP_ADDRESS,
            "page_url": DataCategory.BEHAVIOR,
            "visitor_id": DataCategory.DEVICE,
        },
        erase="delete",
        export="tidings.forms.personal_data.export_submissions",
        merge="tidings.forms.personal_data.merge_submissions",
        note="a form's submissions: answers sealed under the contact's key; erasing the contact deletes them",
    )

    form_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    data_enc = models.BinaryField()
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.ACCEPTED)
    submitted_at = models.DateTimeField(default=now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    page_url = models.CharField(max_length=500, blank=True, default="")
    ip_network = models.CharField(max_length=49, blank=True, default="")
    visitor_id = models.BigIntegerField(null=True, blank=True)
    flagged = models.JSONField(default=list, blank=True)  # aliases the sensitive-data guard flagged (warn policy)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "form_id", "submitted_at"], name="forms_submission_form_idx"),
            models.Index(fields=["workspace_id", "contact_id"], name="forms_submission_contact_idx"),
        ]
