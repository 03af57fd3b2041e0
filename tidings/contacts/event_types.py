"""The event type codes contacts writes, and those kept here for the domains still to be built.

Codes 1-19 and 60-69 are contacts' own (record changes, points and stage). The others are
placeholders with stable codes for the domains to come (segments 70-79, campaigns 50-59,
tracking 20-29, forms 30-39, emails 40-49 and consent 80-89 moved to their apps): each domain takes
its range and its types into its own apps.py when it is built, and drops them from here
(tidings.events.registry).
"""

from __future__ import annotations

from django.db import models


class EventType(models.IntegerChoices):
    """Codes of the event store, grouped by the domain that writes them (ranges of ten)."""

    CONTACT_CREATED = 1, "contact.created"
    CONTACT_IDENTIFIED = 2, "contact.identified"
    CONTACT_MERGED = 3, "contact.merged"
    CONTACT_IMPORTED = 4, "contact.imported"
    TAG_ADDED = 5, "contact.tag_added"
    TAG_REMOVED = 6, "contact.tag_removed"
    DNC_ADDED = 7, "contact.dnc_added"
    DNC_REMOVED = 8, "contact.dnc_removed"
    NOTE_ADDED = 9, "contact.note_added"
    FIELDS_CHANGED = 10, "contact.fields_changed"
    COMPANY_LINKED = 11, "contact.company_linked"
    COMPANY_UNLINKED = 12, "contact.company_unlinked"
    PAGE_HIT = 20, "page.hit"
    ASSET_DOWNLOAD = 21, "asset.download"
    VIDEO_HIT = 22, "video.hit"
    FORM_SUBMITTED = 30, "form.submitted"
    EMAIL_SENT = 40, "email.sent"
    EMAIL_OPENED = 41, "email.opened"
    EMAIL_CLICKED = 42, "email.clicked"
    EMAIL_BOUNCED = 43, "email.bounced"
    EMAIL_COMPLAINED = 44, "email.complained"
    EMAIL_UNSUBSCRIBED = 45, "email.unsubscribed"
    EMAIL_FAILED = 46, "email.failed"
    POINTS_CHANGED = 60, "points.changed"
    STAGE_CHANGED = 61, "stage.changed"
