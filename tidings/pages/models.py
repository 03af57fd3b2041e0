"""Landing pages of a workspace, served at /m/<workspace>/p/<slug>, and the privacy requests its contacts send.

Tables refer to each other by id columns, never foreign keys, and every index leads with workspace_id
(decision 0006). A page's content is stored already sanitised (tidings.html_sanitise): what the
public path serves is exactly what the editor saved.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.registry import NotPersonal
from tidings.tenancy.models import TenantModel


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
