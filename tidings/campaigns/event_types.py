"""The event types campaigns writes on a contact's timeline (codes 50-59), compact: ids and codes only.

campaign.entered (50), campaign.step (51, a step done) and campaign.left (52), declared by contacts
until campaigns existed and moved here with their codes and data keys unchanged; the step skipped (53),
with its reason, and the path a decision or condition took (54).
"""

from __future__ import annotations

from tidings.events.registry import INT, TOKEN, register_event_type, reserve_codes

CAMPAIGN_ENTERED = 50
CAMPAIGN_STEP = 51
CAMPAIGN_LEFT = 52
CAMPAIGN_STEP_SKIPPED = 53
CAMPAIGN_DECIDED = 54
CAMPAIGN_CODES = range(50, 60)


def register_campaign_event_types() -> None:
    """Reserve campaigns' codes and declare its own types (idempotent: ready() may run twice in tests)."""
    reserve_codes("campaigns", CAMPAIGN_CODES)
    for code, name in ((CAMPAIGN_ENTERED, "campaign.entered"), (CAMPAIGN_STEP, "campaign.step"),
                       (CAMPAIGN_LEFT, "campaign.left")):  # fmt: skip
        register_event_type("campaigns", code, name, campaign_id=INT, step_id=INT)
    # reason: a code (no_consent, dnc_unsubscribed, suppressed, in_doubt, no_contact...), never a value.
    register_event_type("campaigns", CAMPAIGN_STEP_SKIPPED, "campaign.step_skipped", campaign_id=INT, step_id=INT,
                        reason=TOKEN)  # fmt: skip
    # path: "yes" or "no".
    register_event_type("campaigns", CAMPAIGN_DECIDED, "campaign.decided", campaign_id=INT, step_id=INT, path=TOKEN)


def register_campaign_descriptions() -> None:
    """Register how campaigns' events read on a timeline."""
    from tidings.events.descriptions import register_description

    def describe(verb):
        return lambda data, names: f"{verb} campaign #{data.get('campaign_id')}, step {data.get('step_id')}"

    register_description(CAMPAIGN_ENTERED, lambda d, n: f"Entered campaign #{d.get('campaign_id')}", icon="megaphone")
    register_description(CAMPAIGN_STEP, lambda d, n: f"Reached a step of campaign #{d.get('campaign_id')}",
                         icon="megaphone")  # fmt: skip
    register_description(CAMPAIGN_LEFT, lambda d, n: f"Left campaign #{d.get('campaign_id')}", icon="megaphone")
    register_description(CAMPAIGN_STEP_SKIPPED, lambda d, n: describe("Skipped a step of")(d, n)
                         + f" ({d.get('reason', '')})", icon="megaphone")  # fmt: skip
    register_description(CAMPAIGN_DECIDED, lambda d, n: describe("Took a path in")(d, n) + f": {d.get('path', '')}",
                         icon="megaphone")  # fmt: skip
