from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Campaigns: versioned graphs of steps that contacts walk, run by a claim-and-lease engine."""

    name = "tidings.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from tidings.campaigns.event_types import register_campaign_descriptions, register_campaign_event_types
        from tidings.events.listeners import register_listener
        from tidings.events.registry import code_for

        register_campaign_event_types()
        register_campaign_descriptions()
        import tidings.campaigns.tasks  # noqa: F401  (registers the periodic sweep)

        def woken(workspace_id: int) -> None:
            from tidings.campaigns.tasks import wake

            wake(workspace_id)

        # What can move a contact into a campaign or along a decision: the names resolve once every app is ready.
        names = ("segment.added", "segment.removed", "form.submitted", "email.opened", "email.clicked",
                 "asset.download", "email.unsubscribed", "email.replied")  # fmt: skip
        register_listener("campaigns", [code_for(name) for name in names], woken)
        # Points and tags may reach a campaign's goal (goals.reach_goals): they wake the campaigns too.
        register_listener("campaign_goals", [code_for(n) for n in ("points.changed", "contact.tag_added")], woken)

        from tidings.campaigns import selectors
        from tidings.contacts.conditions import Membership, register_membership

        # The segments' "in campaign" / "not in campaign" filter: an active enrolment, compiled as EXISTS.
        register_membership(Membership(kind="campaign", label="A campaign", noun="campaign", ids=selectors.campaign_ids,
                                       names=selectors.campaign_names, members=selectors.active_members))  # fmt: skip

        from tidings.campaigns.ui_registry import register_campaign_pages

        register_campaign_pages()
