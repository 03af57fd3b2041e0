"""Reads of the duplicates finder: candidate pairs with their reasons, and the side-by-side merge preview.

Names, emails and phones are encrypted, so candidates are found in SQL through what is not:
the phone and mobile blind indexes (equal numbers have equal indexes: phone and mobile share
one scope, so one contact's phone can match another's mobile), the clear email domain, and
the name-word tokens (ContactSearchToken). What "similar names" catches is therefore exactly
this: two contacts of the same email domain that share a whole first- or last-name word
("Ada Quillfeather" and "A. Quillfeather" at quillfeather.example). A typo ("Quilfeather"),
a nickname ("Bob"/"Robert") or a different domain is not caught, because no word or index
is shared. A custom unique identifier shares the token table with the name words, so an
equal custom identifier in one domain counts as a shared word too. Free-mail domains
(FREE_MAIL_DOMAINS) never count as a shared domain: two people at gmail.com are not alike.

Only the page's pairs are decrypted. The scan walks contacts in id order with EXISTS
probes on the phone, mobile, domain and token indexes (one probe per index: an OR of two
columns in one probe made SQLite scan, 47 s instead of 32 ms at 20,000 contacts) and stops
after the page: a page costs a fixed number of queries, and reads rows until it has found
`limit` contacts with a later partner, which on a workspace with few duplicates means
reading far ahead (the last page reads to the end). Each pair is (lower id, higher id),
listed in that order, and a pair a member dismissed (actions.duplicate_dismiss) never
comes back.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Exists, OuterRef, Q, Subquery

from tidings.contacts.fields import MERGE_RULES, is_empty
from tidings.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactSearchToken,
    DoNotContact,
    DuplicateDismissal,
    Note,
)
from tidings.contacts.selectors import ContactView, contacts_get
from tidings.contacts.selectors_fields import field_definitions
from tidings.pagination import Page, clamp_limit, decode_cursor, encode_cursor

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_SALT = "tidings.contacts.duplicates:pairs"

# Common free-mail and ISP domains: sharing one says nothing about two people.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com",
        "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "icloud.com", "me.com", "mac.com",
        "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
        "mail.com", "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "fastmail.com", "hey.com", "orange.fr",
        "free.fr", "laposte.net", "libero.it", "qq.com", "163.com", "126.com", "naver.com",
    }
)  # fmt: skip

REASONS = {
    "phone": "Same phone",
    "mobile": "Same mobile",
    "phone_mobile": "One's phone is the other's mobile",
    "domain_name": "Same email domain and a name word in common",
}


@dataclass(frozen=True)
class DuplicatePair:
    """Two contacts that may be one person (contact has the lower id), and why they were proposed."""

    contact: ContactView
    other: ContactView
    reasons: tuple[str, ...]  # keys of REASONS

    @property
    def reason_labels(self) -> list[str]:
        return [REASONS[reason] for reason in self.reasons]


def _later_partners():
    """Return contacts with a higher id than the outer contact, leaving out pairs dismissed with it."""
    dismissed = DuplicateDismissal.objects.filter(contact_id=OuterRef(OuterRef("id")), other_id=OuterRef("id"))
    return Contact.objects.filter(id__gt=OuterRef("id")).filter(~Exists(dismissed))


def _company_domain() -> Q:
    return ~Q(email_domain="") & ~Q(email_domain__in=FREE_MAIL_DOMAINS)


def _has_later_partner() -> Q:
    """Return the condition on a contact that it has a later, undismissed partner for some reason."""
    later = _later_partners()
    # Walk the outer contact's domain first (a small index range), then look for a shared word in each
    # partner's few tokens: starting from the word instead reads every contact with a common name word.
    words_of_outer = ContactSearchToken.objects.filter(contact_id=OuterRef(OuterRef(OuterRef("id")))).values("token")
    shares_a_word = Exists(ContactSearchToken.objects.filter(contact_id=OuterRef("id"), token__in=words_of_outer))
    # Exists | Exists is a Q at run time; the stubs only know it as a Combinable.
    return cast(
        Q,
        (
            Exists(later.filter(phone_bidx=OuterRef("phone_bidx")))
            | Exists(later.filter(mobile_bidx=OuterRef("mobile_bidx")))
            | Exists(later.filter(mobile_bidx=OuterRef("phone_bidx")))  # two probes: each one uses an index
            | Exists(later.filter(phone_bidx=OuterRef("mobile_bidx")))
            | (_company_domain() & Exists(later.filter(shares_a_word, email_domain=OuterRef("email_domain"))))
        ),
    )


def duplicate_candidates(limit: Any = DEFAULT_LIMIT, after: str | None = None) -> Page:
    """Return a page of DuplicatePair, in (lower id, higher id) order, after the cursor `after`.

    Reasons: the same phone, the same mobile, one's phone the other's mobile, and the same
    company email domain with a shared name word (see the module docstring for what that does
    and does not catch). Dismissed pairs are left out. Raise InvalidCursor on a bad cursor.
    """
    limit = clamp_limit(limit, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
    start = decode_cursor(after, salt=_SALT, length=2) if after else [0, 0]
    firsts = list(
        Contact.objects.filter(_has_later_partner(), id__gte=start[0])
        .order_by("id")
        .values_list("id", flat=True)[: limit + 1]
    )
    pairs = _pairs_of(firsts, after=(start[0], start[1]), keep=limit)
    shown = pairs[:limit]
    more = len(pairs) > limit or len(firsts) > limit
    views = contacts_get({i for a, b, _ in shown for i in (a, b)})
    items = [DuplicatePair(views[a], views[b], reasons) for a, b, reasons in shown if a in views and b in views]
    next_cursor = encode_cursor(list(shown[-1][:2]), salt=_SALT) if more and shown else None
    return Page(items=items, next_cursor=next_cursor)


def _pairs_of(first_ids: list[int], *, after: tuple[int, int], keep: int) -> list[tuple[int, int, tuple[str, ...]]]:
    """Return (a, b, reasons) for the undismissed partners b > a of each a in first_ids, in (a, b) order.

    Only pairs after the cursor position `after` count, and the list stops once it holds more
    than keep pairs: a contact with thousands of partners (a common word in a big domain) adds
    at most keep + 1. Set-based: five queries whatever the number of contacts.
    """
    if not first_ids:
        return []
    firsts = {
        row[0]: row[1:]
        for row in Contact.objects.filter(id__in=first_ids).values_list(
            "id", "phone_bidx", "mobile_bidx", "email_domain"
        )
    }
    partners: dict[str, dict[int, set[int]]] = {reason: defaultdict(set) for reason in REASONS}
    numbers = {bytes(n) for phone, mobile, _ in firsts.values() for n in (phone, mobile) if n is not None}
    if numbers:
        as_phone: dict[bytes, set[int]] = defaultdict(set)
        as_mobile: dict[bytes, set[int]] = defaultdict(set)
        holders = Contact.objects.filter(Q(phone_bidx__in=list(numbers)) | Q(mobile_bidx__in=list(numbers)))
        for b, b_phone, b_mobile in holders.values_list("id", "phone_bidx", "mobile_bidx"):
            if b_phone is not None:
                as_phone[bytes(b_phone)].add(b)
            if b_mobile is not None:
                as_mobile[bytes(b_mobile)].add(b)
        for a, (phone, mobile, _) in firsts.items():
            if phone is not None:
                partners["phone"][a] |= as_phone[bytes(phone)]
                partners["phone_mobile"][a] |= as_mobile[bytes(phone)]
            if mobile is not None:
                partners["mobile"][a] |= as_mobile[bytes(mobile)]
                partners["phone_mobile"][a] |= as_phone[bytes(mobile)]
    domains = {domain for _, _, domain in firsts.values() if domain and domain not in FREE_MAIL_DOMAINS}
    if domains:
        words: dict[int, set[bytes]] = defaultdict(set)
        for contact_id, token in ContactSearchToken.objects.filter(
            contact_id__in=[a for a, row in firsts.items() if row[2] in domains]
        ).values_list("contact_id", "token"):
            words[contact_id].add(bytes(token))
        domain_of = Contact.objects.filter(id=OuterRef("contact_id")).values("email_domain")[:1]
        sharing = (
            ContactSearchToken.objects.filter(
                token__in=list(set().union(*words.values())), contact_id__gt=min(first_ids)
            )
            .annotate(domain=Subquery(domain_of))
            .filter(domain__in=domains)
            .values_list("contact_id", "token", "domain")
        )
        by_word: dict[tuple[bytes, str], set[int]] = defaultdict(set)
        for b, token, domain in sharing:
            by_word[(bytes(token), domain)].add(b)
        for a, tokens in words.items():
            for token in tokens:
                partners["domain_name"][a] |= by_word.get((token, firsts[a][2]), set())
    dismissed = set(DuplicateDismissal.objects.filter(contact_id__in=first_ids).values_list("contact_id", "other_id"))
    pairs: list[tuple[int, int, tuple[str, ...]]] = []
    for a in sorted(first_ids):
        floor = max(a, after[1]) if a == after[0] else a
        nearest: set[int] = set()
        for by_a in partners.values():
            nearest.update(
                heapq.nsmallest(keep + 1, (b for b in by_a.get(a, ()) if b > floor and (a, b) not in dismissed))
            )
        for b in sorted(nearest)[: keep + 1]:
            pairs.append((a, b, tuple(reason for reason, by_a in partners.items() if b in by_a.get(a, ()))))
        if len(pairs) > keep:
            break
    return pairs


# ==============================================================================================
# The merge preview


@dataclass(frozen=True)
class FieldChoice:
    """One field of a merge preview: both values, which side wins by default, or the rule that combines them."""

    alias: str
    label: str
    winner: Any
    loser: Any
    default: str  # "winner" or "loser"
    rule: str = ""  # set for fields merged by a rule (points...): no choice

    @property
    def differ(self) -> bool:
        return self.winner != self.loser


@dataclass(frozen=True)
class MergePreview:
    winner: ContactView
    loser: ContactView
    fields: list[FieldChoice]
    tags: tuple[str, ...]  # the union the winner will have
    notes: tuple[int, int]  # notes of the winner, of the loser
    companies: tuple[list[str], list[str]]  # company names of each
    dnc: tuple[list[str], list[str]]  # Do-Not-Contact channels of each


def merge_preview(winner_id: int, loser_id: int) -> MergePreview:
    """Return what merging loser into winner would give, field by field, with each field's default winner.

    The default is the winner's value when it has one, else the loser's. rules names the fields
    merged by a rule (MERGE_RULES) have no choice. Raise Contact.DoesNotExist if either id is not
    in this workspace or both are the same contact.
    """
    views = contacts_get([winner_id, loser_id])
    if winner_id == loser_id or winner_id not in views or loser_id not in views:
        raise Contact.DoesNotExist("two different contacts of this workspace are needed")
    winner, loser = views[winner_id], views[loser_id]
    choices = []
    for definition in field_definitions():
        alias = definition.alias
        mine, theirs = winner.fields.get(alias), loser.fields.get(alias)
        if alias in MERGE_RULES:
            choices.append(FieldChoice(alias, definition.label, mine, theirs, "winner", rule=MERGE_RULES[alias]))
            continue
        default = "loser" if is_empty(mine) and not is_empty(theirs) else "winner"
        choices.append(FieldChoice(alias, definition.label, mine, theirs, default))
    ids = [winner_id, loser_id]
    notes = dict.fromkeys(ids, 0)
    for contact_id in Note.objects.filter(contact_id__in=ids).values_list("contact_id", flat=True):
        notes[contact_id] += 1
    links = list(ContactCompany.objects.filter(contact_id__in=ids).values_list("contact_id", "company_id"))
    names = dict(Company.objects.filter(id__in={c for _, c in links}).values_list("id", "name")) if links else {}
    companies: dict[int, list[str]] = {i: [] for i in ids}
    for contact_id, company_id in links:
        companies[contact_id].append(names.get(company_id, ""))
    channels: dict[int, list[str]] = {i: [] for i in ids}
    for contact_id, channel in DoNotContact.objects.filter(contact_id__in=ids).values_list("contact_id", "channel"):
        channels[contact_id].append(channel)
    return MergePreview(
        winner=winner,
        loser=loser,
        fields=choices,
        tags=tuple(sorted(set(winner.tags) | set(loser.tags))),
        notes=(notes[winner_id], notes[loser_id]),
        companies=(sorted(companies[winner_id]), sorted(companies[loser_id])),
        dnc=(sorted(channels[winner_id]), sorted(channels[loser_id])),
    )
