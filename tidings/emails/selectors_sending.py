"""Reads of the sending engine: settings, sends, recipients walked in id order, what was already delivered.

Every read is scoped to the current workspace (TenantModel's manager). The integrator may fold this
module into emails/selectors.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

from tidings.emails.models import (
    Delivery,
    DeliveryStatus,
    Email,
    EmailKind,
    EmailVersion,
    Send,
    SendingSettings,
    SendStatus,
)
from tidings.segments import selectors as segments_selectors


def sending_settings() -> SendingSettings:
    """Return the workspace's sending settings (the defaults, unsaved, when it never changed them)."""
    found = SendingSettings.objects.first()
    return found if found is not None else SendingSettings()


def webhook_secret(sending: SendingSettings | None = None) -> str | None:
    """Return the workspace's own ESP webhook secret (opened in memory), None when it has none."""
    return webhook_keys(sending)[0]


def webhook_keys(sending: SendingSettings | None = None) -> tuple[str | None, str | None]:
    """Return the workspace's own (ESP webhook secret, ESP webhook signing key), opened in memory; None for
    each it has not set (the installation's ANYMAIL settings then apply)."""
    from tidings.emails import credentials
    from tidings.privacy.vault import keyring

    sending = sending if sending is not None else sending_settings()
    signing_set = "esp_webhook_signing_key" in (sending.credential_parts or [])
    if not (sending.webhook_secret_set or signing_set):
        return None, None
    parts = credentials.open_parts(keyring(), sending)
    return parts.get(credentials.WEBHOOK_SECRET) or None, parts.get("esp_webhook_signing_key") or None


def email_get(email_id: int) -> Email:
    """Return an email of this workspace; raise Email.DoesNotExist otherwise."""
    return Email.objects.get(pk=email_id)


def email_names(ids: set[int]) -> dict[int, str]:
    """Return {id: name} of those of ids that are emails of this workspace (for timelines)."""
    return dict(Email.objects.filter(pk__in=list(ids)).values_list("id", "name"))


def version_of(email: Email, number: int | None = None) -> EmailVersion | None:
    """Return the email's frozen version number (default: its current one), or None when not frozen yet."""
    return EmailVersion.objects.filter(email_id=email.pk, number=number or email.version).first()


def send_get(send_id: int) -> Send:
    """Return a send of this workspace; raise Send.DoesNotExist otherwise."""
    return Send.objects.get(pk=send_id)


def sends_of_email(email_id: int, *, limit: int = 50) -> QuerySet[Send]:
    """Return the email's sends, newest first."""
    return Send.objects.filter(email_id=email_id).order_by("-created_at", "-id")[:limit]


def sends_page(*, email_id: int | None = None, after_id: int | None = None, limit: int = 50) -> list[Send]:
    """Return sends (of one email when given) by id descending, after_id excluded (keyset paging)."""
    rows = Send.objects.all()
    if email_id is not None:
        rows = rows.filter(email_id=email_id)
    if after_id is not None:
        rows = rows.filter(pk__lt=after_id)
    return list(rows.order_by("-id")[:limit])


def in_lane(lane: tuple[int, int] | None, column: str = "contact_id") -> list:
    """Return the filter() arguments keeping the rows of lane (k, n): column % n == k ([] for no lane)."""
    if lane is None or lane[1] <= 1:
        return []
    k, n = lane
    return [Exact(Mod(F(column), n), k)]


def recipients_after(segment_ids: Sequence[int], after: int, limit: int, *,
                     lane: tuple[int, int] | None = None) -> list[int]:  # fmt: skip
    """Return the next `limit` distinct members of any of the segments with an id above `after`, in id order.

    One indexed range read per segment: the union is merged here, so a contact in two segments counts once.
    lane: (k, n), only the contacts whose id % n == k (a lane of the send, decision 0036).
    """
    found: set[int] = set()
    for segment_id in segment_ids:
        ids = segments_selectors.segment_member_ids(int(segment_id)).filter(*in_lane(lane), contact_id__gt=after)
        found.update(ids.order_by("contact_id")[:limit])
    return sorted(found)[:limit]


def held_after(send_id: int, after: int, limit: int, *, lane: tuple[int, int] | None = None) -> list[int]:
    """Return the next `limit` contact ids an A/B test send held for its winner, above `after`, in id order."""
    return list(Delivery.objects.filter(*in_lane(lane), send_id=send_id, status=DeliveryStatus.HELD,
                                        contact_id__gt=after)
                .order_by("contact_id").values_list("contact_id", flat=True)[:limit])  # fmt: skip


def deferred_due(send_id: int, now: datetime.datetime, limit: int) -> dict[int, int]:
    """Return {contact id: delivery id} of the send's deferred messages due for another try by now."""
    rows = (Delivery.objects.filter(send_id=send_id, status=DeliveryStatus.DEFERRED, retry_at__lte=now)
            .order_by("retry_at", "id").values_list("contact_id", "id")[:limit])  # fmt: skip
    return dict(rows)


def sends_with_deferred_due(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """Return (workspace id, send id) of every send, in every region, with deferred messages due by now (or
    a retry's claims whose runner may have died: recover() settles them under the send's lease).

    Crosses workspaces on purpose, through the one named door for that; ids only.
    """
    from django.utils import timezone

    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    now = now or timezone.now()
    with dangerously_sweep_workspaces() as across:
        return sorted({
            (workspace_id, send_id)
            for rows in across(Delivery)
            for workspace_id, send_id in rows.filter(retry_at__isnull=False, retry_at__lte=now)
            .values_list("workspace_id", "send_id").distinct()
        })  # fmt: skip


def held_count(send_id: int) -> int:
    """Return how many recipients an A/B test send held for its winner."""
    return Delivery.objects.filter(send_id=send_id, status=DeliveryStatus.HELD).count()


def ab_rates(send: Send, criterion: str) -> dict:
    """Return the rates an A/B test send's winner is picked on, and the winner (see decision 0026).

    Per arm: messages sent, recipients who opened and who clicked (Delivery, recorded for contacts who allow
    tracking; the arms are random slices of one audience, so their shares of such contacts match), and the
    rate of the criterion. When no arm has a tracked open or click, the aggregate counts (EmailCount, every
    message) since the test began are used instead: basis "counts". A tie goes to the parent, then the
    older variant. {"criterion", "basis", "winner", "arms": {"<email id>": {"sent", "opened", "clicked",
    "rate"}}, "decided_at"}.
    """
    from django.db.models import Q
    from django.utils import timezone

    from tidings.emails.models import CountKind, EmailCount

    order = [send.email_id] + sorted(int(i) for i in send.ab_versions if int(i) != send.email_id)
    rows = (Delivery.objects.filter(send_id=send.pk, email_id__in=order, status=DeliveryStatus.SENT)
            .values("email_id").annotate(sent=Count("id"), opened=Count("id", filter=Q(opened_at__isnull=False)),
                                         clicked=Count("id", filter=Q(clicked_at__isnull=False))))  # fmt: skip
    found = {row["email_id"]: row for row in rows}
    arms = {i: {"sent": found.get(i, {}).get("sent", 0), "opened": found.get(i, {}).get("opened", 0),
                "clicked": found.get(i, {}).get("clicked", 0)} for i in order}  # fmt: skip
    key = "clicked" if criterion == "click_rate" else "opened"
    basis = "deliveries"
    if not any(arm[key] for arm in arms.values()):
        basis = "counts"
        since = (send.started_at or send.created_at).date()
        kind = CountKind.CLICKED if key == "clicked" else CountKind.OPENED
        totals = dict(EmailCount.objects.filter(email_id__in=order, kind=kind, day__gte=since)
                      .values("email_id").annotate(n=Sum("count")).values_list("email_id", "n"))  # fmt: skip
        for i in order:
            arms[i][key] = int(totals.get(i) or 0)
    winner, best = order[0], -1.0
    for i in order:
        arm = arms[i]
        arm["rate"] = round(arm[key] / arm["sent"], 6) if arm["sent"] else 0.0
        if arm["rate"] > best:  # strictly better: a tie keeps the earlier arm (the parent first)
            winner, best = i, arm["rate"]
    return {"criterion": criterion, "basis": basis, "winner": winner, "decided_at": timezone.now().isoformat(),
            "arms": {str(i): arms[i] for i in order}}  # fmt: skip


def ab_test_states(email_ids: Iterable[int]) -> dict[int, dict]:
    """Return, for each of email_ids that is an A/B test's parent or variant, its latest test as shown in the
    stats page and the APIs: {"state", "send_id", "started_at", "criterion", "test_hours", "winner_id",
    "held", "winner_send_id", "winner_send_status", "result" (the rates decided on, once decided),
    "arms": {"<email id>": {"weight", "sent"}}}. state: "not_sent" (no test send yet), "testing" (the test
    send is going out or its period runs), "decided", "cancelled". Emails without variants are left out.
    """
    ids = [int(i) for i in email_ids]
    rows = list(Email.objects.filter(pk__in=ids).values("pk", "variant_of"))
    parent_of = {row["pk"]: row["variant_of"] or row["pk"] for row in rows}
    parents = set(parent_of.values())
    emails = {e.pk: e for e in Email.objects.filter(pk__in=parents)}
    arms: dict[int, list[Email]] = {}
    for variant in Email.objects.filter(variant_of__in=parents).order_by("id"):
        arms.setdefault(int(variant.variant_of or 0), []).append(variant)
    found: dict[int, dict] = {}
    for parent_id, variants in arms.items():
        parent = emails.get(parent_id)
        if parent is None:
            continue
        test = (Send.objects.filter(email_id=parent_id, broadcast=True, held_from_send_id__isnull=True)
                .order_by("-id").only("id", "status", "started_at", "ab_versions", "ab_result").first())  # fmt: skip
        while test is not None and not test.ab_versions:  # a plain send of the parent: look further back
            test = (Send.objects.filter(email_id=parent_id, broadcast=True, held_from_send_id__isnull=True,
                                        pk__lt=test.pk).order_by("-id").first())  # fmt: skip
        info: dict = {"state": "not_sent", "send_id": None, "started_at": None, "criterion": parent.ab_criterion,
                      "test_hours": parent.ab_test_hours, "winner_id": parent.ab_winner_id, "held": 0,
                      "winner_send_id": None, "winner_send_status": None, "result": None,
                      "arms": {str(e.pk): {"name": e.name, "weight": e.variant_weight, "sent": 0}
                               for e in [parent, *variants]}}  # fmt: skip
        if test is not None:
            info.update(send_id=test.pk, started_at=test.started_at, result=test.ab_result or None)
            sent = dict(Delivery.objects.filter(send_id=test.pk, status=DeliveryStatus.SENT).values("email_id")
                        .annotate(n=Count("id")).values_list("email_id", "n"))  # fmt: skip
            for key, arm in info["arms"].items():
                arm["sent"] = sent.get(int(key), 0)
            info["held"] = held_count(test.pk)
            if test.ab_result:
                info["state"] = "decided"
                info["winner_id"] = test.ab_result.get("winner")
                remainder = Send.objects.filter(held_from_send_id=test.pk).only("id", "status").first()
                if remainder is not None:
                    info.update(winner_send_id=remainder.pk, winner_send_status=remainder.status)
            elif test.status == SendStatus.CANCELLED:
                info["state"] = "cancelled"
            else:
                info["state"] = "testing"
        for email_id in [parent_id, *(v.pk for v in variants)]:
            if email_id in parent_of:
                found[email_id] = info
    return found


def recipients_count(segment_ids: Sequence[int]) -> int:
    """Return how many distinct contacts are members of any of the segments (for a send's total)."""
    if not segment_ids:
        return 0
    if len(segment_ids) == 1:
        return segments_selectors.segment_member_ids(int(segment_ids[0])).count()
    seen: set[int] = set()
    for segment_id in segment_ids:
        seen.update(segments_selectors.segment_member_ids(int(segment_id)))
    return len(seen)


def delivered_contacts(send_id: int, contact_ids: Iterable[int]) -> set[int]:
    """Return which of contact_ids already have a delivery row in the send (whatever its status)."""
    return set(Delivery.objects.filter(send_id=send_id, contact_id__in=list(contact_ids))
               .values_list("contact_id", flat=True))  # fmt: skip


def deliveries_since(email_id: int, since: Mapping[int, datetime.datetime]) -> dict[int, tuple[str, str]]:
    """Return {contact id: (status, reason)} of each contact's Delivery in the first send of email_id to
    contacts (not a broadcast) started at or after since[contact id]; contacts with none are left out.

    What a campaign's email step reads after a crash: a run committed "sending" at since[contact] then
    took that send's Delivery (claimed until the message's fate was recorded).
    """
    if not since:
        return {}
    started = dict(Send.objects.filter(email_id=email_id, broadcast=False, created_at__gte=min(since.values()))
                   .values_list("id", "created_at"))  # fmt: skip
    if not started:
        return {}
    rows = Delivery.objects.filter(send_id__in=sorted(started), contact_id__in=sorted(since))
    found: dict[int, tuple[str, str]] = {}
    for contact_id, send_id, status, reason in sorted(rows.values_list("contact_id", "send_id", "status", "reason"),
                                                      key=lambda row: (started[row[1]], row[1])):  # fmt: skip
        if contact_id not in found and started[send_id] >= since[contact_id]:
            found[contact_id] = (status, reason)
    return found


def claimed_deliveries(send_id: int, *, lane: tuple[int, int] | None = None) -> dict[int, int]:
    """Return {contact id: delivery id} of the send's deliveries still claimed (fate not recorded), of one
    lane (k, n) when given."""
    return dict(Delivery.objects.filter(*in_lane(lane), send_id=send_id, status=DeliveryStatus.CLAIMED)
                .values_list("contact_id", "id"))  # fmt: skip


def transactional_email_ids() -> list[int]:
    return list(Email.objects.filter(transactional=True).values_list("id", flat=True))


def recent_marketing_counts(contact_ids: Iterable[int], *, since: datetime.datetime) -> dict[int, int]:
    """Return {contact id: marketing emails sent to it since} (transactional ones do not count), one query."""
    rows = (Delivery.objects.filter(contact_id__in=list(contact_ids), status=DeliveryStatus.SENT, sent_at__gte=since)
            .exclude(email_id__in=transactional_email_ids()).values("contact_id").annotate(n=Count("id")))  # fmt: skip
    return {row["contact_id"]: row["n"] for row in rows}


def send_progress(send: Send) -> dict:
    """Return what the send page shows: status, total, done so far and the counts by outcome and skip reason."""
    counts = dict(send.counts or {})
    skipped = {key.split(":", 1)[1]: n for key, n in counts.items() if key.startswith("skipped:")}
    done = sum(n for key, n in counts.items() if key in ("sent", "failed", "in_doubt", "held", "deferred"))
    done += sum(skipped.values())
    return {"status": send.status, "total": send.total, "done": done, "sent": counts.get("sent", 0),
            "held": counts.get("held", 0), "deferred": counts.get("deferred", 0),
            "failed": counts.get("failed", 0), "in_doubt": counts.get("in_doubt", 0), "skipped": skipped}  # fmt: skip


def abandoned_sends(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """Return (workspace id, send id) of every running send, in every region, whose runner's lease lapsed.

    Crosses workspaces on purpose, through the one named door for that; ids only.
    """
    from django.db.models import Q
    from django.utils import timezone

    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    now = now or timezone.now()
    lapsed = Q(status=SendStatus.RUNNING) & (Q(lease_until__lt=now) | Q(lease_until__isnull=True))
    with dangerously_sweep_workspaces() as across:
        found = {
            (workspace_id, send_id)
            for rows in across(Send)
            for workspace_id, send_id in rows.filter(lapsed).values_list("workspace_id", "id")
        }
        # A send in lanes (decision 0036): one dead lane while the others still run.
        found.update(
            (workspace_id, send_id)
            for rows in across(Send)
            for workspace_id, send_id, lanes in rows.filter(status=SendStatus.RUNNING).exclude(lanes={})
            .values_list("workspace_id", "id", "lanes")
            if lapsed_lanes(lanes, now)
        )  # fmt: skip
    return sorted(found, key=lambda pair: pair[1])


def lapsed_lanes(lanes: dict, now: datetime.datetime) -> list[int]:
    """Return the lanes of a running send (its lanes field) that are not done and whose lease lapsed."""
    out = []
    for k in range(int((lanes or {}).get("n", 1))):
        state = lanes.get(str(k)) or {}
        lease = state.get("lease")
        if not state.get("done") and (not lease or datetime.datetime.fromisoformat(lease) < now):
            out.append(k)
    return out


def template_email_ids(ids: Iterable[int]) -> set[int]:
    """Return which of ids are template emails of this workspace (what forms and campaigns may send)."""
    return set(Email.objects.filter(pk__in=list(ids), kind=EmailKind.TEMPLATE).values_list("id", flat=True))


def template_email_choices(limit: int = 500) -> list[tuple[str, str]]:
    """Return [(id, name)] of the workspace's template emails by name, for a picker."""
    rows = Email.objects.filter(kind=EmailKind.TEMPLATE).order_by("name", "id").values_list("id", "name")[:limit]
    return [(str(pk), name) for pk, name in rows]
