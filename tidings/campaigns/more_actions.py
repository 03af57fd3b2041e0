"""A campaign's remaining actions: change stage, set owner, notify a member, enter another campaign.

Run by the engine's action step (engine._action) inside the group's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal
from tidings.campaigns.engine import enter_contacts
from tidings.campaigns.models import Campaign, CampaignStatus, Enrolment, EnrolmentStatus
from tidings.contacts import actions as contacts_actions
from tidings.contacts.conditions import existing_contact_ids
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)


def run(step: Mapping, contact_ids: list[int], *, principal: Principal) -> dict[int, str]:
    """Run a change_stage, set_owner, notify_user or enter_campaign step for contact_ids; return {id: skip reason}.

    In the group's transaction (a crash rolls the step back with its runs). Owners and notified users
    must still be members of the workspace when the step runs, not only when the graph was checked,
    and a stage must still exist.
    """
    kind = step["kind"]
    existing = set(existing_contact_ids(contact_ids))
    skipped = {c: "no_contact" for c in contact_ids if c not in existing}
    present = [c for c in contact_ids if c in existing]
    if not present:
        return skipped
    if kind == "change_stage":
        try:
            contacts_actions.contacts_stage_change(present, int(step["stage_id"]), principal=principal)
        except ValidationError:  # the stage was deleted after the graph was checked
            return {**skipped, **{c: "no_stage" for c in present}}
    elif kind in ("set_owner", "notify_user"):
        user = _member(int(step["user_id"]))
        if user is None:
            return {**skipped, **{c: "not_member" for c in present}}
        if kind == "set_owner":
            for contact_id in present:  # contact_update checks the owner again (a member of the workspace)
                try:
                    contacts_actions.contact_update(contact_id, {contacts_actions.OWNER: user.pk}, principal=principal)
                except ObjectDoesNotExist:
                    skipped[contact_id] = "no_contact"
                except ValidationError:
                    skipped[contact_id] = "not_member"
        else:
            _notify_member(user, step, present)
    elif kind == "enter_campaign":
        skipped.update(_enter_other(int(step["campaign_id"]), present))
    return skipped


def _member(user_id: int):
    """Return the user with user_id when a member of the workspace in context, else None."""
    from tidings.accounts.selectors import members_by_id

    return members_by_id(require_workspace(), [user_id]).get(user_id)


def _notify_member(user, step: Mapping, contact_ids: list[int]) -> None:
    """Email the member one message for the group: the step's subject and a link to each contact's page, no values.

    Sent after the group's transaction commits: a crash before it sends nothing (the runs run again),
    so a member is never told twice; a crash between the commit and the send loses that one message.
    """
    from django.core.mail import send_mail
    from django.urls import reverse

    workspace = require_workspace()
    links = [settings.TIDINGS_BASE_URL + reverse("contacts:detail", kwargs={"workspace_slug": workspace.slug,
                                                                           "contact_id": c})
             for c in contact_ids]  # fmt: skip
    subject = str(step.get("subject") or "A contact reached a campaign step")[:150]
    intro = f"{len(links)} contact(s) reached a campaign step in workspace {workspace.slug}:"
    body = "\n".join([intro, "", *links, ""])
    address = user.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except Exception:  # the mail server is down: the step is done, the notice lost (logged without address)
            logger.exception("campaign notification to member %s failed", user.pk)

    transaction.on_commit(send, using=workspace.db_alias)


def _enter_other(campaign_id: int, contact_ids: list[int]) -> dict[int, str]:
    """Enrol contacts in another published campaign of the workspace under its own entry rules.

    Return {contact id: reason} for those who did not enter: the campaign is not published (or gone),
    or its entry rules keep them out (already in it, entered once, or within its minimum gap).
    """
    target = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.PUBLISHED).first()
    if target is None or not target.version:
        return {c: "campaign_unpublished" for c in contact_ids}
    before = timezone.now()
    enter_contacts(target, contact_ids, source="campaign", reenter=True)
    entered = set(Enrolment.objects.filter(campaign_id=target.pk, contact_id__in=contact_ids,
                                           status=EnrolmentStatus.ACTIVE, entered_at__gte=before)
                  .values_list("contact_id", flat=True))  # fmt: skip
    return {c: "entry_rule" for c in contact_ids if c not in entered}
