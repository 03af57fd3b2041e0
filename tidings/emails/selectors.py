"""Emails' reads for feedback and statistics: which message a token or Message-ID names, where a click may go,
which addresses are suppressed, and the counts of an email and its variants.

The sending helper's reads live in selectors_sending.py, authoring's in selectors_authoring.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from tidings.emails.links import MessageRef
from tidings.emails.models import (
    CountKind,
    Delivery,
    DeliveryStatus,
    Email,
    EmailCount,
    EmailLink,
    EmailVersion,
    Send,
    Suppression,
    SuppressionReason,
)
from tidings.privacy.vault import Keyring, keyring, normalise_email

SOFT_BOUNCE_LIMIT = 3  # soft bounces of one address before it is suppressed
MAX_MESSAGE_ID = 255


# ==============================================================================================
# Which message


def suppression_index(address: str, ring: Keyring | None = None) -> bytes:
    """Return the keyed hash a Suppression keeps of an address: a scope of its own, never the contacts' blind
    index, so that no blind-index value of an erased person remains once its contact is gone.

    ring: the workspace's keyring when the caller holds it (reading it is a query: a batch passes it once).
    """
    return (ring or keyring()).blind_index("suppression", normalise_email(address))


def delivery_for(ref: MessageRef) -> Delivery | None:
    """Return the delivery a verified message token names in this workspace; None when never sent (skipped)."""
    return (
        Delivery.objects.filter(send_id=ref.send_id, contact_id=ref.contact_id)
        .exclude(status__in=(DeliveryStatus.SKIPPED, DeliveryStatus.FAILED))
        .first()
    )


def _read_message_id(value: str) -> MessageRef | None:
    """The send helper's parser of our Message-ID (`<send.contact.hmac8@domain>`); None until it is merged."""
    try:
        from tidings.emails.headers import read_message_id  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return read_message_id(value)


def delivery_by_message_id(value: object) -> Delivery | None:
    """Return the delivery whose Message-ID is value (with or without angle brackets); None when none here."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_MESSAGE_ID:
        return None
    bare = value.strip("<>")
    ref = _read_message_id(f"<{bare}>")
    if ref is not None:
        found = delivery_for(ref)
        if found is not None:
            return found
    return Delivery.objects.filter(message_id__in={bare, f"<{bare}>"}).order_by("-id").first()


def click_destination(delivery: Delivery, link_id: int) -> str | None:
    """Return the URL of link_id if it is a link of the email version this delivery sent; None otherwise.

    Only an EmailLink of the delivery's own email (and, for the send's own email, its version) qualifies,
    so a click URL can never be turned into a redirect to anywhere else.
    """
    if not isinstance(link_id, int) or isinstance(link_id, bool) or not 0 < link_id < 2**63:
        return None
    links = EmailLink.objects.filter(pk=link_id, email_id=delivery.email_id)
    send = Send.objects.filter(pk=delivery.send_id).only("email_id", "version").first()
    if send is None:
        return None
    if send.email_id == delivery.email_id:
        links = links.filter(version=send.version)
    url = links.values_list("url", flat=True).first()
    if not url or not url.lower().startswith(("https://", "http://")):
        return None
    return url


def version_of(delivery: Delivery) -> EmailVersion | None:
    """Return the email version a delivery sent: the send's version for its own email, else the variant's
    latest version from before the message was sent."""
    send = Send.objects.filter(pk=delivery.send_id).only("email_id", "version").first()
    if send is None:
        return None
    versions = EmailVersion.objects.filter(email_id=delivery.email_id)
    if send.email_id == delivery.email_id:
        return versions.filter(number=send.version).first()
    if delivery.sent_at is not None:
        versions = versions.filter(created_at__lte=delivery.sent_at)
    return versions.order_by("-number").first()


def contact_token_values(contact_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Return a contact's field values and its owner's, as text, for {contactfield=...} / {ownerfield=...}."""
    from tidings.contacts import selectors as contacts_selectors

    contact = contacts_selectors.contacts_get([contact_id]).get(contact_id)
    if contact is None:
        return {}, {}
    values = {alias: str(value) for alias, value in contact.fields.items() if value is not None}
    owner_id = contact.fields.get("owner")
    owner = owner_token_values([owner_id]).get(owner_id, {}) if isinstance(owner_id, int) else {}
    return values, owner


def owner_token_values(owner_ids: Iterable[object]) -> dict[int, dict[str, str]]:
    """Return {owner id: {email, firstname, lastname, signature}} for those ids that are members of the workspace.

    The one reading of an owner's tokens: the sender (per send), the web view and the preview use it.
    """
    from tidings.accounts.selectors import members_by_id
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.selectors import workspace_by_id

    wanted = {int(i) for i in owner_ids if isinstance(i, int | float) and not isinstance(i, bool)}
    if not wanted:
        return {}
    found: dict[int, dict[str, str]] = {}
    for owner_id, user in members_by_id(workspace_by_id(require_workspace().id), wanted).items():
        name = " ".join(part for part in (user.first_name, user.last_name) if part)
        found[owner_id] = {"email": user.email, "firstname": user.first_name, "lastname": user.last_name,
                           "signature": name}  # fmt: skip
    return found


# ==============================================================================================
# Suppression


def _suppressing() -> Q:
    """The rows that suppress: every reason except soft bounces still under the limit."""
    return ~Q(reason=SuppressionReason.SOFT_BOUNCES) | Q(soft_bounces__gte=SOFT_BOUNCE_LIMIT)


def suppressed_indexes(indexes: Iterable[bytes]) -> set[bytes]:
    """Return those of the blind indexes that no email may go to (the sending engine's eligibility asks)."""
    wanted = {bytes(index) for index in indexes}
    if not wanted:
        return set()
    rows = Suppression.objects.filter(_suppressing(), email_index__in=list(wanted)).values_list(
        "email_index", flat=True
    )
    return {bytes(row) for row in rows}


def erased_addresses(normalised: list[str]) -> set[str]:
    """Return those normalised addresses whose person asked to be erased (suppression reason "erased").

    Contacts asks this (tidings.contacts.admission) before creating a contact, so an import or a
    member does not bring an erased person back. Bounces and complaints do not refuse a contact: the
    address is kept from mail by the suppression itself, as Mautic keeps Do-Not-Contact (decision 0030).
    """
    ring = keyring()
    index_of = {suppression_index(address, ring): address for address in normalised}
    if not index_of:
        return set()
    rows = Suppression.objects.filter(reason=SuppressionReason.ERASED, email_index__in=list(index_of)).values_list(
        "email_index", flat=True
    )
    return {index_of[bytes(row)] for row in rows}


def suppression_for(address: str) -> Suppression | None:
    return Suppression.objects.filter(email_index=suppression_index(address)).first()


def suppressions(*, limit: int = 50, after_id: int | None = None) -> list[Suppression]:
    """Return suppressions newest first (id order), limit at a time; soft bounces under the limit are not listed."""
    rows = Suppression.objects.filter(_suppressing()).order_by("-id")
    if after_id is not None:
        rows = rows.filter(id__lt=after_id)
    return list(rows[:limit])


def suppression_get(suppression_id: int) -> Suppression:
    """Return a suppression of this workspace; raise Suppression.DoesNotExist otherwise."""
    return Suppression.objects.get(pk=suppression_id)


# ==============================================================================================
# Statistics


def email_name(email_id: int) -> str:
    """Return an email's name; raise Email.DoesNotExist for one not in this workspace."""
    return Email.objects.values_list("name", flat=True).get(pk=email_id)


@dataclass(frozen=True)
class Counts:
    """What came of an email's messages. opens/clicks: every one counted (aggregate, consent or not);
    opened/clicked: the recipients known to have opened or clicked (only those who allow tracking);
    replied: the recipients who replied (whatever their consent: decision 0040)."""

    sent: int = 0
    delivered: int = 0
    opens: int = 0
    clicks: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    replied: int = 0
    bounced: int = 0
    hard_bounced: int = 0
    complained: int = 0
    failed: int = 0
    in_doubt: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def open_rate(self) -> float:
        return self.opened / self.delivered if self.delivered else 0.0

    @property
    def click_rate(self) -> float:
        return self.clicked / self.delivered if self.delivered else 0.0


@dataclass(frozen=True)
class VariantStats:
    email_id: int
    name: str
    counts: Counts


@dataclass(frozen=True)
class EmailStats:
    email_id: int
    total: Counts
    variants: list[VariantStats]


def _counts(email_ids: list[int]) -> dict[int, Counts]:
    sent_like = (DeliveryStatus.SENT, DeliveryStatus.IN_DOUBT)
    rows = (
        Delivery.objects.filter(email_id__in=email_ids)
        .values("email_id")
        .annotate(
            n_sent=Count("id", filter=Q(status__in=sent_like)),
            n_failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
            n_in_doubt=Count("id", filter=Q(status=DeliveryStatus.IN_DOUBT)),
            n_opened=Count("id", filter=Q(opened_at__isnull=False)),
            n_clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            n_unsubscribed=Count("id", filter=Q(unsubscribed=True)),
            n_replied=Count("id", filter=Q(replied_at__isnull=False)),
            n_bounced=Count("id", filter=~Q(bounced="")),
            n_hard_bounced=Count("id", filter=Q(bounced="hard")),
            n_complained=Count("id", filter=Q(complained=True)),
        )
    )
    base = {row["email_id"]: {name.removeprefix("n_"): value for name, value in row.items()} for row in rows}
    skipped: dict[int, dict[str, int]] = {}
    for row in (
        Delivery.objects.filter(email_id__in=email_ids, status=DeliveryStatus.SKIPPED)
        .values("email_id", "reason")
        .annotate(n=Count("id"))
    ):
        skipped.setdefault(row["email_id"], {})[row["reason"] or "unknown"] = row["n"]
    totals: dict[tuple[int, str], int] = {}
    for row in EmailCount.objects.filter(email_id__in=email_ids).values("email_id", "kind").annotate(n=Sum("count")):
        totals[(row["email_id"], row["kind"])] = row["n"] or 0
    out = {}
    for email_id in email_ids:
        row = base.get(email_id, {})
        sent, bounced = row.get("sent", 0), row.get("bounced", 0)
        out[email_id] = Counts(
            sent=sent,
            delivered=max(sent - bounced, 0),
            opens=totals.get((email_id, CountKind.OPENED), 0),
            clicks=totals.get((email_id, CountKind.CLICKED), 0),
            opened=row.get("opened", 0),
            clicked=row.get("clicked", 0),
            unsubscribed=row.get("unsubscribed", 0),
            replied=row.get("replied", 0),
            bounced=bounced,
            hard_bounced=row.get("hard_bounced", 0),
            complained=row.get("complained", 0),
            failed=row.get("failed", 0),
            in_doubt=row.get("in_doubt", 0),
            skipped=dict(sorted(skipped.get(email_id, {}).items())),
        )
    return out


def _sum(counts: Iterable[Counts]) -> Counts:
    items = list(counts)
    skipped: dict[str, int] = {}
    for item in items:
        for reason, n in item.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    names = [name for name in Counts.__dataclass_fields__ if name != "skipped"]
    return Counts(
        **{name: sum(getattr(item, name) for item in items) for name in names}, skipped=dict(sorted(skipped.items()))
    )


def email_stats(email_id: int) -> EmailStats:
    """Return the counts of an email and of each of its A/B variants (Emails whose variant_of is email_id).

    Raise Email.DoesNotExist for an email not in this workspace.
    """
    email = Email.objects.only("id", "name").get(pk=email_id)
    variants = list(Email.objects.filter(variant_of=email.pk).order_by("id").values_list("id", "name"))
    ids = [email.pk] + [pk for pk, _ in variants]
    counts = _counts(ids)
    per_variant = [VariantStats(email.pk, email.name, counts[email.pk])] if variants else []
    per_variant += [VariantStats(pk, name, counts[pk]) for pk, name in variants]
    return EmailStats(email_id=email.pk, total=_sum(counts.values()), variants=per_variant)


@dataclass(frozen=True)
class DayCounts:
    day: datetime.date
    opens: int
    clicks: int
    replies: int = 0


def email_stats_series(email_id: int, *, days: int = 30, today: datetime.date | None = None) -> list[DayCounts]:
    """Return opens, clicks and replies of an email and its variants per day, the last `days` days (oldest first,
    zeros kept).

    Raise Email.DoesNotExist for an email not in this workspace.
    """
    email = Email.objects.only("id").get(pk=email_id)
    days = max(1, min(int(days), 366))
    last = today or timezone.localdate()
    first = last - datetime.timedelta(days=days - 1)
    ids = [email.pk, *Email.objects.filter(variant_of=email.pk).values_list("id", flat=True)]
    found: dict[tuple[datetime.date, str], int] = {}
    for row in (
        EmailCount.objects.filter(email_id__in=ids, day__gte=first, day__lte=last)
        .values("day", "kind")
        .annotate(n=Sum("count"))
    ):
        found[(row["day"], row["kind"])] = row["n"] or 0
    series = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        series.append(DayCounts(day, found.get((day, CountKind.OPENED), 0), found.get((day, CountKind.CLICKED), 0),
                                found.get((day, CountKind.REPLIED), 0)))  # fmt: skip
    return series
