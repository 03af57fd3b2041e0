"""What Mautic's segment filters are called and what Tidings calls them: shared by reading and writing."""

from __future__ import annotations

from typing import Protocol

MAX_FILTERS = 100  # the segments app's limit on conditions; a longer Mautic list cannot fit
MAX_VALUES = 500  # values in one in/!in filter (the segments app's MAX_IDS)
MAX_TEXT = 2000
MAX_DAYS = 36_600
MAX_DEPTH = 5  # groups nest at most this deep in a definition
MAX_COUNT = 1_000_000
# to_mautic expands OR-inside-AND into Mautic's one-level OR of ANDs; past this many Mautic
# filters the group is handed back as one pass-through filter instead (see PASS_THROUGH).
MAX_EXPANDED = 100

# A filter Mautic cannot express is answered as one item of this field, its Tidings node in
# properties.filter; from_mautic takes it back as is, so a client that reads a segment and
# sends the filters back unchanged keeps them.
PASS_THROUGH = "tidings_filter"

OPERATORS = frozenset(
    {
        "=", "!=", "gt", "gte", "lt", "lte", "empty", "!empty", "like", "!like", "between", "!between",
        "in", "!in", "regexp", "!regexp", "startsWith", "endsWith", "contains", "date",
    }
)  # fmt: skip
FIELD_OPERATORS = {
    "=": "equals",
    "!=": "not_equals",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "empty": "empty",
    "!empty": "not_empty",
    "in": "in",
    "!in": "not_in",
    "regexp": "regex",
    "!regexp": "not_regex",
    "between": "between",
}
DATE_TYPES = ("date", "datetime")

# Mautic's DNC filters: field -> (channel, reason). Any field with "_manual", "_bounced" or
# neither (unsubscribed) and "_sms" or not, as Mautic reads them.
DNC_FIELDS = {
    "dnc_bounced": ("email", "bounced"),
    "dnc_unsubscribed": ("email", "unsubscribed"),
    "dnc_manual_email": ("email", "manual"),
    "dnc_bounced_sms": ("sms", "bounced"),
    "dnc_unsubscribed_sms": ("sms", "unsubscribed"),
    "dnc_manual_sms": ("sms", "manual"),
}
# Mautic filters with no Tidings counterpart (no data for them, or a meaning the definition
# cannot state); refused with "not supported" rather than approximated.
UNSUPPORTED = frozenset(
    {
        "globalcategory", "source", "source_id", "referer", "url_title", "sessions", "page_id",
        "redirect_id", "notification", "sms_clicked_link", "sms_clicked_link_date", "integration_campaigns",
        "date_identified", "date_modified",
    }
)  # fmt: skip
# UTM and device filters: Mautic field -> the attribute of a Tidings traffic filter (page hits' labels).
TRAFFIC_FIELDS = {
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "device_type": "device",
    "device_os": "os",
}
# Mautic's UTM and device filters on what Tidings' tracking does not record: refused, naming the field.
NOT_RECORDED = ("utm_content", "utm_term", "device_brand", "device_model")
# Mautic's device types (its device detector's) as Tidings records them; the others have no Tidings value.
DEVICE_TYPES = {"desktop": "desktop", "smartphone": "mobile", "mobile": "mobile", "tablet": "tablet"}
TIDINGS_DEVICE_TYPES = {"desktop": "desktop", "mobile": "smartphone", "tablet": "tablet"}

# Mautic's "campaign" filter (campaign_leads not manually removed: in the campaign now), type "campaign",
# in / !in a list of campaign ids: Tidings' registered "campaign" membership filter (an active enrolment).
CAMPAIGN_FIELD = "campaign"

# Core columns Tidings names otherwise.
RENAMED = {"owner_id": "owner"}
SPECIAL_TYPES = {
    "owner": "lookup_id",
    "stage": "stage",
    "points": "number",
    "date_added": "date",
    "last_active": "datetime",
}
# Event filters: Mautic field -> (Tidings event, what the filter tests).
EVENT_IDS = {  # "in" lists of ids: has an event naming one of them
    "lead_email_received": ("email.opened", "email_id"),
    "lead_email_sent": ("email.sent", "email_id"),
    "lead_asset_download": ("asset.download", "asset_id"),
}
EVENT_DATES = {
    "hit_url_date": "page.hit",
    "lead_email_read_date": "email.opened",
    "lead_email_sent_date": "email.sent",
    "email_clicked_link_date": "email.clicked",
}
EVENT_COUNTS = {"hit_url_count": "page.hit", "lead_email_read_count": "email.opened"}
EVENT_ANY = {"email_id": "email.clicked"}  # Mautic's boolean "clicked any link from any email"


class FilterLookup(Protocol):
    """What translating needs to know about the workspace; the caller answers from its selectors."""

    def field_type(self, object: str, alias: str) -> str | None:
        """Return the type ("text", "number", "date"...) of the field alias of object ("contact" or
        "company"), or None when the workspace has no such field."""

    def tag_id(self, value: str) -> int | None:
        """Return the Tidings id of the tag Mautic names value (a tag id sent as text), None when unknown.

        The Mautic-compatible tag API shows Tidings' tag ids, so to_mautic writes them back as text.
        """

    def segment_id(self, value: str) -> int | None:
        """Return the id of the segment a leadlist filter names, None when unknown."""

    def campaign_id(self, value: str) -> int | None:
        """Return the id of the campaign a campaign filter names, None when unknown (or no campaigns here)."""
