"""The segment builder's form and what its script needs to know about the workspace (the builder schema).

The filters travel as one JSON text (the field "definition"): static/segments/builder.js keeps it
in step with the controls it draws, and without JavaScript the member edits the JSON itself.
Values are not checked here: segment_create / segment_update (definition_check) do it and key
their errors by the filter's path, which the page shows beside that filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms

from tidings.consent.selectors import purposes
from tidings.contacts.capabilities import FieldCapability, FieldObject, Storage
from tidings.contacts.conditions import DNC_CHANNELS, DNC_REASONS, memberships
from tidings.segments import selectors
from tidings.segments.definition import (
    CONSENT_OPERATORS,
    DNC_OPERATORS,
    EVENT_LOOKUPS,
    EVENT_OPERATORS,
    MAX_DEPTH,
    SEGMENT_OPERATORS,
    TAG_OPERATORS,
    TRAFFIC_ATTRIBUTES,
    TRAFFIC_COMPARISONS,
    Lookups,
    date_added_capability,
    supported_operators,
)

MAX_DEFINITION_TEXT = 200_000  # characters of JSON: 100 conditions with long lists fit
PICKER_LIMIT = 500  # tags and segments offered by the builder's pickers

OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "empty": "is empty",
    "not_empty": "is not empty",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "regex": "matches the pattern",
    "not_regex": "does not match the pattern",
    "has_words": "has the words",
    "anniversary": "has its anniversary on (MM-DD)",
    "today": "is today",
    "yesterday": "was yesterday",
    "in_last_days": "in the last … days",
    "more_than_days_ago": "more than … days ago",
    "in_next_days": "in the next … days",
}
TAG_LABELS = {"in": "has any of the tags", "not_in": "has none of the tags", "all": "has all of the tags"}
SEGMENT_LABELS = {"in": "is in any of the segments", "not_in": "is in none of the segments"}
DNC_LABELS = {"is": "is on the Do-Not-Contact list", "is_not": "is not on the Do-Not-Contact list"}
EVENT_LABELS = {"has": "did", "has_not": "never did"}
CONSENT_LABELS = {"has": "may be processed for", "has_not": "may not be processed for"}
TRAFFIC_LABELS = {"has": "visited with", "has_not": "never visited with"}
TRAFFIC_ATTRIBUTE_LABELS = {
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "device": "device type",
    "os": "operating system",
    "browser": "browser",
}
TRAFFIC_COMPARISON_LABELS = {
    "equals": "is",
    "in": "is one of",
    "contains": "contains",
    "starts_with": "starts with",
    "not_empty": "is set",
}
# A data condition of an event filter: the lookup's suffix as the builder says it, by the key's kind.
LOOKUP_LABELS = {"": "is", "gt": "is greater than", "gte": "is at least", "lt": "is less than", "lte": "is at most",
                 "contains": "contains", "startswith": "starts with"}  # fmt: skip


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=191)
    alias = forms.CharField(
        max_length=191,
        required=False,
        help_text="Permanent name for the API and Mautic clients: lowercase letters, digits and dashes. "
        "Left empty, it is made from the name.",
    )
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    is_published = forms.BooleanField(
        required=False,
        initial=True,
        label="Published",
        help_text="Published segments can be chosen by emails and campaigns.",
    )
    in_preference_centre = forms.BooleanField(
        required=False,
        label="Subscription list",
        help_text="Contacts see it, by name, in the preference centre and may join or leave it.",
    )
    definition = forms.CharField(
        required=False,
        max_length=MAX_DEFINITION_TEXT,
        label="Filters as JSON",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text='A group: {"match": "all" or "any", "filters": [...]}; see the segments documentation.',
    )

    def clean_definition(self) -> Any:
        text = self.cleaned_data.get("definition") or ""
        if not text.strip():
            return {"match": "all", "filters": []}
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError("The filters are not valid JSON.") from None


def parse_definition(text: Any) -> tuple[Any, str]:
    """Return (the definition a posted JSON text holds, "") or (None, why not): the preview's input."""
    if not isinstance(text, str) or len(text) > MAX_DEFINITION_TEXT:
        return None, "The filters are too long."
    if not text.strip():
        return {"match": "all", "filters": []}, ""
    try:
        return json.loads(text), ""
    except ValueError:
        return None, "The filters are not valid JSON."


def _field(cap: FieldCapability) -> dict:
    operators = supported_operators(cap)
    return {
        "alias": cap.alias,
        "label": cap.label + (" (archived)" if cap.archived else ""),
        "type": str(cap.type),
        "operators": operators,
        # Said beside the field: why an encrypted field offers so few operators (or none).
        "note": cap.note,
        "sealed": cap.storage in (Storage.BLIND_INDEX, Storage.TOKENS),
    }


def builder_schema(*, exclude_segment: int | None = None, known: Lookups | None = None) -> dict:
    """Return what builder.js draws the filters from: fields, operators and choices (stages), tags, segments, events."""
    from tidings.contacts.selectors import tag_names
    from tidings.contacts.selectors_stages import stages

    known = known or selectors.lookups()
    contact = [_field(date_added_capability())] + [_field(cap) for cap in known.contact_fields.values()]
    # A contact's stage is picked from the workspace's stages (by name), not typed as an id.
    stage_choices = [{"id": s.id, "name": s.name + ("" if s.is_published else " (unpublished)")}
                     for s in stages()[:PICKER_LIMIT]]  # fmt: skip
    for described in contact:
        if described["alias"] == "stage":
            described["choices"] = stage_choices
    company = [_field(cap) for cap in known.company_fields.values()]
    tag_ids = sorted(known.tag_ids)[:PICKER_LIMIT]
    tags = sorted(tag_names(set(tag_ids)).items(), key=lambda pair: pair[1].lower())
    segment_ids = {pk for pk in known.segment_ids if pk != exclude_segment}
    segments = sorted(selectors.segment_names(segment_ids).items(), key=lambda pair: pair[1].lower())[:PICKER_LIMIT]
    return {
        "fields": {
            FieldObject.CONTACT: sorted(contact, key=lambda f: f["label"].lower()),
            FieldObject.COMPANY: sorted(company, key=lambda f: f["label"].lower()),
        },
        "tags": [{"id": pk, "name": name} for pk, name in tags],
        "segments": [{"id": pk, "name": name} for pk, name in segments],
        "events": sorted(known.event_keys),
        # Per event type, the data conditions it takes: [lookup, label, kind] ("url__contains", "url contains", "url").
        "event_data": {name: _data_conditions(keys) for name, keys in known.event_keys.items()},
        "traffic": {
            "attributes": [[a, TRAFFIC_ATTRIBUTE_LABELS[a]] for a in TRAFFIC_ATTRIBUTES],
            "comparisons": {c: TRAFFIC_COMPARISON_LABELS[c] for c in TRAFFIC_COMPARISONS},
        },
        "purposes": [{"key": p.key, "name": p.name + ("" if p.active else " (inactive)")} for p in purposes()],
        "dnc": {"channels": list(DNC_CHANNELS), "reasons": list(DNC_REASONS)},
        "operators": {
            "field": OPERATOR_LABELS,
            "tag": {op: TAG_LABELS[op] for op in TAG_OPERATORS},
            "segment": {op: SEGMENT_LABELS[op] for op in SEGMENT_OPERATORS},
            "dnc": {op: DNC_LABELS[op] for op in DNC_OPERATORS},
            "event": {op: EVENT_LABELS[op] for op in EVENT_OPERATORS},
            "traffic": {op: TRAFFIC_LABELS[op] for op in EVENT_OPERATORS},
            "consent": {op: CONSENT_LABELS[op] for op in CONSENT_OPERATORS},
        },
        "max_depth": MAX_DEPTH,
        # Other domains' memberships (campaigns): a kind each, with the workspace's groups to pick from.
        "memberships": _memberships(known),
    }


def _memberships(known: Lookups) -> list[dict]:
    """Return each registered membership as builder.js draws it: kind, label, its groups and operator labels."""
    out = []
    for kind, membership in sorted(memberships().items()):
        ids = known.membership_ids.get(kind, frozenset())
        names = sorted(membership.names(ids).items(), key=lambda pair: pair[1].lower())[:PICKER_LIMIT]
        plural = f"{membership.noun}s"
        out.append({"kind": kind, "label": membership.label, "items": [{"id": pk, "name": n} for pk, n in names],
                    "operators": {"in": f"is in any of the {plural}", "not_in": f"is in none of the {plural}"},
                    "picker": plural.capitalize(), "empty": f"No {membership.noun} yet."})  # fmt: skip
    return out


def _data_conditions(keys: Mapping[str, str]) -> list[list[str]]:
    """Return [lookup, label, kind] of every data condition an event type's keys allow (definition.EVENT_LOOKUPS)."""
    found = []
    for key, kind in sorted(keys.items()):
        for suffix in EVENT_LOOKUPS.get(kind, ()):
            lookup = f"{key}__{suffix}" if suffix else key
            found.append([lookup, f"{key.replace('_', ' ')} {LOOKUP_LABELS[suffix]}", kind])
    return found


class ContactFindForm(forms.Form):
    """The members page's "add contacts" search (a contacts search, as the contacts list takes it)."""

    find = forms.CharField(max_length=200, required=False, label="Find contacts to add")
