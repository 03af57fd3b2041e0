"""Landing pages of a workspace, served at /m/<workspace>/p/<slug>, and the privacy requests its contacts send.

Tables refer to each other by id columns, never foreign keys, and every index leads with workspace_id
(decision 0006). A page's content is stored already sanitised (tidings.html_sanitise): what the
public path serves is exactly what the editor saved.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel

PRIVACY_REQUEST_DUE = datetime.timedelta(days=30)  # GDPR Art. 12(3): one month to answer


class RedirectType(models.TextChoices):
    """Where an unpublished page sends its visitors (Mautic's redirectType): nowhere (404), or a redirect."""

    NONE = "", "None: an unpublished page is not found"
    PERMANENT = "301", "301 Moved permanently"
    TEMPORARY = "302", "302 Found (temporary)"


class LandingPage(TenantModel):
    """A page on the workspace's public path: sanitised HTML content, SEO meta, published or not."""

    personal_data = NotPersonal("marketing pages written by the workspace's members")

    title = models.CharField(max_length=191)
    slug = models.SlugField(max_length=191, db_index=False)  # the unique constraint leads with workspace_id
    content = models.TextField(blank=True, default="")  # sanitised HTML with {form=N} and {pagelink=N} tokens
    meta_description = models.CharField(max_length=300, blank=True, default="")
    noindex = models.BooleanField(default=False)  # robots: noindex, nofollow
    canonical_url = models.URLField(max_length=500, blank=True, default="")
    og_title = models.CharField(max_length=191, blank=True, default="")
    is_published = models.BooleanField(default=False)
    redirect_type = models.CharField(max_length=3, choices=RedirectType.choices, blank=True, default="")
    redirect_url = models.URLField(max_length=2048, blank=True, default="")
    created_by = models.BigIntegerField(null=True, blank=True)  # a user id; None for the system
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "slug"], name="pages_page_slug_uniq")]
        indexes = [models.Index(fields=["workspace_id", "title"], name="pages_page_title_idx")]

    def __str__(self) -> str:
        return self.title


class PrivacyRequestKind(models.TextChoices):
    ACCESS = "access", "A copy of the contact's data"
    ERASURE = "erasure", "Erasure of the contact's data"


class PrivacyRequestStatus(models.TextChoices):
    """Only "received" for now: the privacy issue (13) builds the workflow (verification, fulfilment)."""

    RECEIVED = "received", "Received"


class PrivacyRequest(TenantModel):
    """A data-subject request a contact sent from the preference centre: received, due within 30 days.

    Erasing the contact keeps the row as anonymised proof that a request was received and when
    (contact_id set to NULL); nothing else in it is personal.
    """

    personal_data = PersonalData(
        fields={"kind": DataCategory.BEHAVIOR},
        erase="anonymise",
        anonymise={},
        export="rows",
        merge="reassign",
        note="requests of the preference centre: erasure keeps them as anonymised proof (no contact)",
    )

    kind = models.CharField(max_length=8, choices=PrivacyRequestKind.choices)
    contact_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=now)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=PrivacyRequestStatus.choices, default=PrivacyRequestStatus.RECEIVED
    )
    source = models.CharField(max_length=32, default="preference_centre")

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "contact_id"], name="pages_privreq_contact_idx"),
            models.Index(fields=["workspace_id", "status", "due_at"], name="pages_privreq_due_idx"),
        ]
