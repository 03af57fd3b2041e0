"""Demo segments for the demo workspace: a field filter, a nested group with tags, and behaviour."""

from __future__ import annotations

from tidings.accounts.permissions import system_principal
from tidings.contacts import selectors as contact_selectors
from tidings.segments import actions, selectors


def seed_demo_segments(workspace) -> None:
    """Create the demo's segments once (after the demo contacts), built at once."""
    if selectors.segments_list().exists():
        return
    principal = system_principal(workspace, reason="command:demo")
    tags = {tag.name: tag.id for tag in contact_selectors.tags()}
    actions.segment_create(
        principal=principal,
        name="Lyon and Leipzig",
        description="Contacts in two cities where the spring tour stops.",
        definition={"filters": [{"kind": "field", "field": "city", "operator": "in", "value": ["Lyon", "Leipzig"]}]},
    )
    if {"trial", "customer"} <= tags.keys():
        actions.segment_create(
            principal=principal,
            name="Warm trials",
            description="On a trial, not yet customers, with 50 points or more.",
            definition={
                "match": "all",
                "filters": [
                    {"kind": "tag", "operator": "in", "value": [tags["trial"]]},
                    {"kind": "tag", "operator": "not_in", "value": [tags["customer"]]},
                    {"kind": "field", "field": "points", "operator": "gte", "value": 50},
                ],
            },
        )
    actions.segment_create(
        principal=principal,
        name="Engaged this month",
        description="Opened an email or submitted a form in the last 30 days, and may be emailed.",
        definition={
            "match": "all",
            "filters": [
                {
                    "kind": "group",
                    "match": "any",
                    "filters": [
                        {"kind": "event", "event": "email.opened", "operator": "has", "within_days": 30},
                        {"kind": "event", "event": "form.submitted", "operator": "has", "within_days": 30},
                    ],
                },
                {"kind": "dnc", "operator": "is_not", "channel": "email"},
            ],
        },
    )
