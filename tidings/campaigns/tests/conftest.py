"""Campaigns' test world: ada and grace in Acme, campaigns built from a list of steps and published, and the
engine run in this thread as the task would. Sending's SMTP server (aiosmtpd on loopback) is emails' fixture."""

from __future__ import annotations

import pytest

from tidings.emails.tests.conftest import make_contact, make_email, make_segment, smtp  # noqa: F401  (fixture)


def system():
    from tidings.tests.principals import system as _system

    return _system()


def graph(*steps, sources=({"kind": "manual"},), start=None, **extra):
    """A graph of steps (dicts with id and kind), starting at the first one unless start is given."""
    return {"sources": list(sources), "start": start or (steps[0]["id"] if steps else None), "steps": list(steps),
            **extra}  # fmt: skip


def publish(*steps, name="Welcome", **kwargs):
    from tidings.campaigns.actions import campaign_create, campaign_publish

    campaign = campaign_create(principal=system(), name=name, graph=graph(*steps, **kwargs))
    return campaign_publish(campaign.pk, principal=system())


def add(campaign, *contacts):
    from tidings.campaigns.actions import campaign_contacts_add

    return campaign_contacts_add(campaign.pk, [c.id for c in contacts], principal=system())


def run(**kwargs):
    """Run the workspace's campaigns once, as the task does."""
    from tidings.campaigns.actions import campaigns_run

    return campaigns_run(principal=system(), **kwargs)


def runs(campaign, contact=None):
    from tidings.campaigns.models import StepRun

    rows = StepRun.objects.filter(campaign_id=campaign.pk).order_by("contact_id", "entry", "seq")
    if contact is not None:
        rows = rows.filter(contact_id=contact.id)
    return [(r.step, r.status, r.outcome, r.reason) for r in rows]


def make_stage(name="Lead", **values):
    """A contact stage of the workspace in context."""
    from tidings.contacts.actions import stage_create

    return stage_create({"name": name, **values}, principal=system())


@pytest.fixture
def initech(make_user):
    """A workspace in Acme's own region (EU): its ids come from the same sequences as Acme's."""
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("milton@initech.example"))


def later(**delta):
    """A time machine: the engine's clock moved forward by delta (freezegun)."""
    import datetime

    import freezegun
    from django.utils import timezone

    return freezegun.freeze_time(timezone.now() + datetime.timedelta(**delta), tick=True)


@pytest.fixture
def readers(in_acme):
    """Ada and Grace, who consented to Acme's marketing email."""
    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada", "city": "London"})
    grace = make_contact({"email": "grace@navy.example", "firstname": "Grace"})
    return ada, grace
