"""The data of the segments benchmark (issue 9): a workspace of made-up contacts with their events, and activity.

    from harness import django_setup
    from segments_data import generate, mutate

    django_setup()
    data = generate(contacts=1_000_000)      # a fresh EU workspace; data.seconds says where the time went
    ...                                      # build 20 segments, rebuild them all (cold)
    changes = mutate(data, fraction=0.01)    # 1% of the contacts change as real activity changes them
    ...                                      # refresh the segments for changes.contact_ids

    python bench/segments_data.py --contacts 100000 [--database postgresql]   # time the generator alone

generate() writes through the paths imports and tracking use, at their speed: contacts_bulk_upsert
(encrypted profile, blind indexes, tags, the contact.imported event, an audit entry per batch),
companies_link_by_name, events_record (checked, URLs in the dictionary), and tenancy.bulk for
what has no bulk action (companies with their industry and size, creation dates back in time,
Do-Not-Contact rows, identified visitors). Everything is deterministic for a seed: the same seed
gives the same contacts in the same order, with the same events (ids differ between engines).

What the contacts look like (the spread segments filter on):
- created_at over three years, more of them recently (a growing list), ids in creation order;
- 30 countries (a long tail) with their cities; owner: 8 members (70% of contacts owned);
  stage: 6 ids (60% staged); points from their activity (hit +1, download +5, click +2, form +10);
  last_active: their latest activity event (none for about 7%: emails sent to them at most);
- custom fields: score (number), renewal_date (date, half of the contacts, a year either way),
  plan (select of 5, skewed), source_campaign (clear text, 40 values: contains/starts-with filters);
- 30 tags, Zipf-skewed, 0 to 4 per contact; companies for 40% (one company per 25 contacts,
  big ones more often; industry of 15, size from 1 to 50,000); Do-Not-Contact for 3%
  (email mostly, sms some; unsubscribed, bounced, complaint, manual);
- events, EVENTS_PER_CONTACT on average (heavy-tailed: most contacts do little, some a lot):
  page hits on ~400 URLs (/, /pricing, /blog/..., /docs/..., /features/...; Zipf), email sent,
  opened and clicked (80 emails over the three years, each contact receiving those sent after it
  arrived), form submissions (12 forms), asset downloads (25 assets), and, for a tenth of the
  active contacts, hits made before they were identified (visitor_id only, the visitor since
  linked to the contact). Events are written batch of contacts by batch (sorted by time within a
  batch), not in one global time order as live tracking would.

mutate() changes a fraction of the contacts through the actions real activity goes through
(events_record, contacts_bulk_upsert, contact_update, contacts_tag, contact_points_change,
dnc_add), so any change detection hooked on them sees every change; it returns the changed ids.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import Stopwatch, bench_workspace, databases, django_setup, engine, load, region_connection

EVENTS_PER_CONTACT = 7.0  # the average; see the docstring for the mix
YEARS = 3
CHUNK = 5000  # contacts generated and written per round (bounded memory at any size)
SITE = "https://www.northwind-tools.example"

COUNTRIES = {  # code: cities; listed most common first (the weights below fall off)
    "US": ["New York", "Austin", "Chicago", "Seattle", "Denver"], "GB": ["London", "Manchester", "Leeds", "Bristol"],
    "DE": ["Berlin", "Munich", "Hamburg", "Cologne"], "FR": ["Paris", "Lyon", "Lille", "Nantes"],
    "CA": ["Toronto", "Montreal", "Vancouver"], "NL": ["Amsterdam", "Rotterdam", "Utrecht"],
    "ES": ["Madrid", "Barcelona", "Valencia"], "IT": ["Milan", "Rome", "Turin"], "AU": ["Sydney", "Melbourne"],
    "SE": ["Stockholm", "Gothenburg"], "IE": ["Dublin", "Cork"], "BE": ["Brussels", "Antwerp"],
    "CH": ["Zurich", "Geneva"], "AT": ["Vienna", "Graz"], "PL": ["Warsaw", "Krakow"], "DK": ["Copenhagen", "Aarhus"],
    "NO": ["Oslo", "Bergen"], "FI": ["Helsinki", "Espoo"], "PT": ["Lisbon", "Porto"], "BR": ["Sao Paulo", "Rio"],
    "MX": ["Mexico City", "Guadalajara"], "IN": ["Bangalore", "Mumbai"], "JP": ["Tokyo", "Osaka"],
    "SG": ["Singapore"], "NZ": ["Auckland"], "ZA": ["Cape Town", "Johannesburg"], "CZ": ["Prague", "Brno"],
    "GR": ["Athens"], "HU": ["Budapest"], "RO": ["Bucharest", "Cluj"],
}  # fmt: skip
FIRST = ["Ada", "Grace", "Alan", "Mary", "Charles", "Emmy", "Hedy", "Katherine", "Edsger", "Barbara", "Donald",
         "Frances", "Tim", "Radia", "Ken", "Sophie", "Niklaus", "Lynn", "John", "Margaret"]  # fmt: skip
LAST = ["Quillfeather", "Brightwater", "Thornbury", "Ashdown", "Cogsworth", "Fenwright", "Marlowe", "Okonkwo",
        "Vandermeer", "Lindqvist", "Hartigan", "Pemberton", "Rasmussen", "Delacroix", "Moreau",
        "Castellano"]  # fmt: skip
FREEMAIL = [f"mail{n}.example" for n in range(40)]
TAGS = ["newsletter", "customer", "trial", "lead", "webinar-2025", "prospect", "partner", "event-attendee",
        "ebook-download", "product-a", "product-b", "enterprise", "smb", "churn-risk", "vip", "beta", "developer",
        "marketing", "sales-qualified", "nurture", "referral", "conference-2024", "conference-2025", "survey",
        "support", "reseller", "agency", "nonprofit", "education", "inactive"]  # fmt: skip
PLANS = ["free", "starter", "pro", "business", "enterprise"]
PLAN_WEIGHTS = [45, 25, 18, 8, 4]
INDUSTRIES = ["Software", "Retail", "Manufacturing", "Healthcare", "Finance", "Education", "Media", "Logistics",
              "Energy", "Hospitality", "Construction", "Telecom", "Agriculture", "Government", "Nonprofit"]  # fmt: skip
CAMPAIGNS = [f"{kind}-{year}-{n:02d}" for kind in ("webinar", "ppc-google", "ppc-linkedin", "ebook")
             for year in (2024, 2025) for n in range(1, 6)]  # fmt: skip
OWNERS = 8
STAGES = 6
EMAILS = 80
FORMS = 12
ASSETS = 25
BLANK_COMPANY_COLUMNS = ["email", "phone", "address1", "address2", "state", "zipcode", "description"]
DNC_REASONS = (["unsubscribed", "bounced", "complaint", "manual"], [60, 25, 5, 10])


def _zipf(count: int, exponent: float = 1.0) -> list[float]:
    """Return cumulative weights of a Zipf law over count items (the first the most frequent)."""
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(count)))


def site_urls() -> list[str]:
    """Return the ~400 page URLs of the made-up site, the most visited first (/, /pricing, features...)."""
    pages = ["/", "/pricing", "/features", "/demo", "/pricing/enterprise", "/contact", "/about", "/careers"]
    pages += [f"/features/{name}" for name in ("email", "automation", "segments", "forms", "reports", "api",
                                                "integrations", "landing-pages", "scoring", "privacy")]  # fmt: skip
    words = ["guide", "tips", "email", "growth", "privacy", "segments", "launch", "case-study", "news", "how-to"]
    pages += [f"/blog/{2023 + n % 4}/{words[n % 10]}-{words[(n * 7) % 10]}-{n}" for n in range(300)]
    pages += [f"/docs/{section}/{n}" for section in ("start", "api", "tracking") for n in range(20)]
    pages += [f"/customers/{n}" for n in range(20)]
    return [SITE + page for page in pages]


@dataclass
class SegmentsData:
    """What generate() made: the workspace and the values segments can filter on, with counts and timings."""

    workspace: Any
    owner: Any  # the workspace's owner (a User)
    seed: int
    now: datetime.datetime
    contact_ids: list[int]  # in generation order: contact_ids[i] is the i-th generated contact
    tag_ids: dict[str, int]
    owner_ids: list[int]  # user ids of the members owning contacts
    stage_ids: list[int]
    company_ids: list[int]
    urls: list[str]
    email_ids: list[int]
    form_ids: list[int]
    asset_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def principal(self):
        from tidings.accounts.permissions import system_principal

        return system_principal(self.workspace, reason="command:bench_segments")


@dataclass
class _Contact:
    row: dict
    created_at: datetime.datetime
    company: str | None
    dnc: tuple[str, str] | None
    visitor: bool
    events: list[tuple[int, datetime.datetime, dict]]  # (type, at, data); contact or visitor decided at write


# A contact's names, email and company are pure functions of (seed, index), not draws: mutate() finds
# a contact again by its email (the identifier imports match on) without keeping a million of them.


def _names(seed: int, index: int) -> tuple[str, str]:
    mixed = (index * 2654435761 + seed * 40503) & 0xFFFFFFFF
    return FIRST[mixed % len(FIRST)], LAST[(mixed >> 8) % len(LAST)]


def company_count(contacts: int) -> int:
    return max(10, contacts // 25)


def _company_of(seed: int, index: int, contacts: int) -> int | None:
    """Return the company number of the index-th contact, or None (60%); big (low) numbers more often."""
    mixed = (index * 2246822519 + seed * 3266489917) & 0xFFFFFFFF
    if mixed % 100 >= 40:
        return None
    return int(((mixed >> 8) / (1 << 24)) ** 2 * company_count(contacts))


def contact_email(seed: int, index: int, contacts: int) -> str:
    """Return the email of the index-th of contacts generated with seed: at its company's domain, if it has one."""
    first, last = _names(seed, index)
    company = _company_of(seed, index, contacts)
    domain = company_domain(company) if company is not None else FREEMAIL[(index * 40503 + seed) % len(FREEMAIL)]
    return f"{first.lower()}.{last.lower()}.{index}@{domain}"


def company_domain(number: int) -> str:
    return f"company{number}.example"


class _Generator:
    """Draws contacts one after another from one seeded random source (so the order fixes every value)."""

    def __init__(self, seed: int, contacts: int, events_per_contact: float, now: datetime.datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (made-up people, not secrets)
        self.seed = seed
        self.contacts = contacts
        self.companies = company_count(contacts)
        self.scale = events_per_contact / EVENTS_PER_CONTACT
        self.now = now
        self.start = now - datetime.timedelta(days=365 * YEARS)
        self.span = (now - self.start).total_seconds()
        self.urls = site_urls()
        self.url_weights = _zipf(len(self.urls), 1.1)
        self.tag_weights = _zipf(len(TAGS), 0.9)
        self.countries = list(COUNTRIES)
        self.country_weights = _zipf(len(self.countries), 1.2)
        self.campaign_weights = _zipf(len(CAMPAIGNS), 0.7)
        # Emails were sent every ~two weeks over the three years; a contact gets those sent after it arrived.
        self.email_times = [
            self.start + datetime.timedelta(seconds=self.span * (k + 0.5) / EMAILS) for k in range(EMAILS)
        ]
        self.form_weights = _zipf(FORMS)
        self.asset_weights = _zipf(ASSETS)

    def _when(self, created: datetime.datetime) -> datetime.datetime:
        """Return a moment between created and now, more often recent."""
        window = (self.now - created).total_seconds()
        return self.now - datetime.timedelta(seconds=window * self.rng.random() ** 1.5)

    def _count(self, mean: float) -> int:
        return int(self.rng.expovariate(1.0) * mean + self.rng.random())  # mean about mean + 0.5 - 0.5

    def contact(self, index: int, ids: dict) -> _Contact:
        rng = self.rng
        # A growing list: the density of creations rises linearly, so t ~ sqrt(u).
        created = self.start + datetime.timedelta(seconds=self.span * math.sqrt((index + rng.random()) / self.contacts))
        company = _company_of(self.seed, index, self.contacts)
        country = rng.choices(self.countries, cum_weights=self.country_weights)[0]
        activity = min(rng.paretovariate(2.0) / 2.0, 20.0) * self.scale  # mean about 1: most little, a few a lot
        events: list[tuple[int, datetime.datetime, dict]] = []
        points, last = 0, None
        for _ in range(self._count(3.0 * activity)):
            url = rng.choices(self.urls, cum_weights=self.url_weights)[0]
            events.append(
                (ids["page.hit"], self._when(created), {"url": url, "ip": f"198.51.{index % 256}.{rng.randrange(256)}"})
            )
            points += 1
        received = [k for k, sent in enumerate(self.email_times) if sent >= created]
        engagement = min(0.9, 0.15 + 0.25 * activity)
        for k in rng.sample(received, min(len(received), self._count(2.5 * self.scale))):
            sent = self.email_times[k] + datetime.timedelta(seconds=rng.randrange(3600))
            events.append((ids["email.sent"], sent, {"email_id": k + 1}))
            if rng.random() < engagement:
                opened = sent + datetime.timedelta(seconds=rng.randrange(3 * 86400))
                events.append((ids["email.opened"], min(opened, self.now), {"email_id": k + 1}))
                if rng.random() < 0.3:
                    clicked = min(opened + datetime.timedelta(seconds=rng.randrange(600)), self.now)
                    url = rng.choices(self.urls, cum_weights=self.url_weights)[0]
                    events.append((ids["email.clicked"], clicked, {"email_id": k + 1, "url": url}))
                    points += 2
        for _ in range(self._count(0.25 * activity)):
            form = rng.choices(range(1, FORMS + 1), cum_weights=self.form_weights)[0]
            events.append((ids["form.submitted"], self._when(created), {"form_id": form}))
            points += 10
        for _ in range(self._count(0.2 * activity)):
            asset = rng.choices(range(1, ASSETS + 1), cum_weights=self.asset_weights)[0]
            events.append((ids["asset.download"], self._when(created), {"asset_id": asset}))
            points += 5
        active = [at for code, at, _ in events if code != ids["email.sent"]]
        if active:
            last = max(active)
        firstname, lastname = _names(self.seed, index)
        tags = {
            rng.choices(TAGS, cum_weights=self.tag_weights)[0]
            for _ in range(rng.choices(range(5), [30, 35, 20, 10, 5])[0])
        }
        row: dict[str, Any] = {
            "email": contact_email(self.seed, index, self.contacts),
            "company": company_name(company) if company is not None else None,  # as an import's company column
            "firstname": firstname,
            "lastname": lastname,
            "country": country,
            "city": rng.choice(COUNTRIES[country]),
            "points": points,
            "last_active": last,
            "owner": ids["owners"][int(rng.random() ** 1.5 * OWNERS)] if rng.random() < 0.7 else None,
            "stage": ids["stages"][min(int(rng.expovariate(0.6)), STAGES - 1)] if rng.random() < 0.6 else None,
            "score": int(rng.paretovariate(1.5) * 20) if rng.random() < 0.8 else None,
            "renewal_date": (self.now + datetime.timedelta(days=rng.randrange(-365, 366))).date()
            if rng.random() < 0.5
            else None,
            "plan": rng.choices(PLANS, PLAN_WEIGHTS)[0],
            "source_campaign": rng.choices(CAMPAIGNS, cum_weights=self.campaign_weights)[0]
            if rng.random() < 0.6
            else None,
            "tags": sorted(tags),
        }  # fmt: skip
        dnc = None
        if rng.random() < 0.03:
            dnc = (("email" if rng.random() < 0.9 else "sms"), rng.choices(*DNC_REASONS)[0])
        visitor = bool(events) and rng.random() < 0.1
        return _Contact(row, created, None if company is None else company_name(company), dnc, visitor, events)


def company_name(number: int) -> str:
    return f"Northwind Client {number:06d}"


def _setup(workspace, owner, principal) -> dict:
    """Create the members owning contacts, the custom fields and the tags; return their ids by name."""
    from tidings.accounts.actions import membership_create, user_create
    from tidings.accounts.permissions import Role
    from tidings.accounts.selectors import principal_for_user
    from tidings.contacts import actions
    from tidings.contacts.models import FieldType
    from tidings.events.registry import code_for

    owner_principal = principal_for_user(owner, workspace)
    owners = [owner.id]
    for n in range(1, OWNERS):
        user = user_create(email=f"owner{n}-{workspace.slug}@bench.example", password="correct horse battery staple")
        membership_create(workspace=workspace, user=user, role=Role.MARKETER, principal=owner_principal)
        owners.append(user.id)
    for alias, label, kind, options in (
        ("score", "Score", FieldType.NUMBER, None),
        ("renewal_date", "Renewal date", FieldType.DATE, None),
        ("plan", "Plan", FieldType.SELECT, [{"label": p.title(), "value": p} for p in PLANS]),
        ("source_campaign", "Source campaign", FieldType.TEXT, None),
    ):
        actions.field_create(alias=alias, label=label, type=kind, options=options, principal=principal)
    tag_ids = {name: actions.tag_create(name, principal=principal).id for name in TAGS}
    ids: dict[str, Any] = {
        name: code_for(name)
        for name in ("page.hit", "email.sent", "email.opened", "email.clicked", "form.submitted", "asset.download")
    }
    ids.update(owners=owners, stages=list(range(1, STAGES + 1)), tags=tag_ids)
    return ids


def _companies(count: int, seed: int) -> list[tuple]:
    """Return the companies' rows (name, industry, size, country, city, website), the first the biggest."""
    rng = random.Random(seed + 1)  # noqa: S311
    rows = []
    industry_weights = _zipf(len(INDUSTRIES), 0.8)
    for number in range(count):
        country = rng.choice(list(COUNTRIES)[:12])
        size = max(1, min(50_000, int(rng.lognormvariate(3.5, 1.6))))
        industry = rng.choices(INDUSTRIES, cum_weights=industry_weights)[0]
        rows.append(
            (company_name(number), industry, size, country, COUNTRIES[country][0], f"https://{company_domain(number)}")
        )
    return rows  # fmt: skip


def generate(
    contacts: int = 1_000_000, *, events_per_contact: float = EVENTS_PER_CONTACT, seed: int = 7, progress=None
) -> SegmentsData:
    """Create a fresh EU workspace holding contacts made-up contacts with their events; return what was made.

    Call after harness.django_setup(). Deterministic for seed. progress, if given, is called with
    (contacts done, seconds so far) after each round of CHUNK contacts.
    """
    from django.db import transaction
    from django.utils import timezone

    from tidings.contacts import actions
    from tidings.contacts.fields import normalise_company_name
    from tidings.contacts.models import Company, Contact, DoNotContact, EventType
    from tidings.events.actions import events_record
    from tidings.events.models import Visitor
    from tidings.events.store import EventRow
    from tidings.tenancy import bulk
    from tidings.tenancy.context import use_workspace

    watch = Stopwatch()
    now = timezone.now().replace(microsecond=0)
    with watch("workspace, members, fields, tags"):
        owner, workspace = bench_workspace("bench-segments")
        principal_reason = "command:bench_segments"
        from tidings.accounts.permissions import system_principal

        principal = system_principal(workspace, reason=principal_reason)
        with use_workspace(workspace):
            ids = _setup(workspace, owner, principal)
    generator = _Generator(seed, contacts, events_per_contact, now)
    counts = dict.fromkeys(("contacts", "events", "companies", "company_links", "dnc", "visitors", "tag_links"), 0)
    contact_ids: list[int] = []
    vid_rng = random.Random(seed + 2)  # noqa: S311 (visitor ids: random, as tracking draws them)
    with use_workspace(workspace):
        with watch("companies"):
            rows = _companies(generator.companies, seed)
            blank = [""] * len(BLANK_COMPANY_COLUMNS)
            with transaction.atomic(using=workspace.db_alias):
                bulk.insert(
                    Company,
                    ["workspace_id", "name", "industry", "number_of_employees", "country", "city", "website", "custom",
                     "created_at", "updated_at", *BLANK_COMPANY_COLUMNS],
                    [(workspace.id, *row, {}, generator.start, generator.start, *blank) for row in rows],
                )  # fmt: skip
            known = dict(Company.objects.values_list("name", "id"))
            company_ids = [known[row[0]] for row in rows]
            known = {normalise_company_name(name): pk for name, pk in known.items()}
            counts["companies"] = len(rows)
        started = time.perf_counter()
        for first in range(0, contacts, CHUNK):
            with watch("draw (python)"):
                people = [generator.contact(index, ids) for index in range(first, min(first + CHUNK, contacts))]
            with watch("contacts_bulk_upsert"):
                result = actions.contacts_bulk_upsert(
                    [p.row for p in people], lawful_basis="legitimate_interests", return_ids=True, principal=principal
                )
                assert result.created == len(people) and not result.errors, result.errors[:3]
            chunk_ids = [int(i) for i in result.contact_ids if i is not None]
            contact_ids.extend(chunk_ids)
            counts["tag_links"] += sum(len(p.row["tags"]) for p in people)
            with watch("created_at (bulk.update)"), transaction.atomic(using=workspace.db_alias):
                bulk.update(
                    Contact, ["created_at"], [(p.created_at, cid) for p, cid in zip(people, chunk_ids, strict=True)]
                )
            with watch("companies_link_by_name"):
                pairs = [(cid, p.company) for p, cid in zip(people, chunk_ids, strict=True) if p.company]
                counts["company_links"] += actions.companies_link_by_name(
                    pairs, known=known, principal=principal
                ).linked
            with watch("dnc, visitors (bulk.insert)"), transaction.atomic(using=workspace.db_alias):
                # Marked half-way between arrival and now; the dnc_added event below carries the same time.
                dnc_at = {
                    cid: p.created_at + (now - p.created_at) / 2 for p, cid in zip(people, chunk_ids, strict=True)
                }
                dnc = [(workspace.id, cid, p.dnc[0], p.dnc[1], dnc_at[cid])
                       for p, cid in zip(people, chunk_ids, strict=True) if p.dnc]  # fmt: skip
                bulk.insert(DoNotContact, ["workspace_id", "contact_id", "channel", "reason", "created_at"], dnc)
                counts["dnc"] += len(dnc)
                visitors = {
                    cid: vid_rng.getrandbits(62) + 1 for p, cid in zip(people, chunk_ids, strict=True) if p.visitor
                }
                bulk.insert(Visitor, ["workspace_id", "id", "contact_id", "created_at", "identified_at"],
                            [(workspace.id, vid, cid, now, now) for cid, vid in visitors.items()])  # fmt: skip
                counts["visitors"] += len(visitors)
            with watch("events_record"):
                page_hit = ids["page.hit"]
                batch: list[EventRow] = []
                for p, cid in zip(people, chunk_ids, strict=True):
                    vid = visitors.get(cid)
                    for n, (code, at, data) in enumerate(p.events):
                        if vid is not None and code == page_hit and n % 2 == 0:
                            batch.append(EventRow(type=code, visitor_id=vid, at=at, data=data))  # before identification
                        else:
                            batch.append(EventRow(type=code, contact_id=cid, at=at, data=data))
                    if p.dnc:
                        dnc_data = {"channel": p.dnc[0], "reason": p.dnc[1]}
                        batch.append(EventRow(type=EventType.DNC_ADDED, contact_id=cid, at=dnc_at[cid], data=dnc_data))
                batch.sort(key=lambda row: row.at)
                counts["events"] += events_record(batch, principal=principal)
            counts["contacts"] += len(people)
            if progress:
                progress(counts["contacts"], time.perf_counter() - started)
    return SegmentsData(
        workspace=workspace,
        owner=owner,
        seed=seed,
        now=now,
        contact_ids=contact_ids,
        tag_ids=ids["tags"],
        owner_ids=ids["owners"],
        stage_ids=ids["stages"],
        company_ids=company_ids,
        urls=generator.urls,
        email_ids=list(range(1, EMAILS + 1)),
        form_ids=list(range(1, FORMS + 1)),
        asset_ids=list(range(1, ASSETS + 1)),
        counts=counts,
        seconds=dict(watch.seconds),
    )


# ----------------------------------------------------------------------------------------------
# Activity


@dataclass
class Mutation:
    """What mutate() did: the contacts it changed (sorted ids), how many by kind of change, and its seconds."""

    contact_ids: list[int]
    kinds: dict[str, int]
    seconds: float


# Kind of change: share of the changed contacts. Activity (hits, email engagement, forms) also moves last_active.
MUTATIONS = {
    "page hits": 0.40,
    "email opened/clicked": 0.20,
    "fields by import/API batch": 0.15,
    "fields one by one": 0.05,
    "tags": 0.10,
    "form submitted (+tag)": 0.04,
    "points": 0.03,
    "do not contact": 0.03,
}


def _split(items: Sequence[int], shares: dict[str, float]) -> dict[str, list[int]]:
    parts, start = {}, 0
    for n, (kind, share) in enumerate(shares.items()):
        end = len(items) if n == len(shares) - 1 else start + round(share * len(items))
        parts[kind] = list(items[start:end])
        start = end
    return parts


def mutate(data: SegmentsData, fraction: float = 0.01, *, seed: int = 11) -> Mutation:
    """Change fraction of data's contacts as real activity does, through the normal actions; return what changed.

    Each changed contact gets one kind of change (MUTATIONS): new page hits (a third on /pricing)
    or email opens and clicks recorded with events_record, with last_active moved to now through
    contacts_bulk_upsert; field changes (city and country, plan, score, stage) through
    contacts_bulk_upsert as an import or API batch would, or through contact_update one by one
    (owner, renewal date); tags added and removed with contacts_tag; a form submission (event and
    tag); points through contact_points_change; an unsubscribe through dnc_add. Deterministic for
    (data, fraction, seed); calling it again with another seed changes other contacts.
    """
    from django.utils import timezone

    from tidings.contacts import actions
    from tidings.events.actions import events_record
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow
    from tidings.tenancy.context import use_workspace

    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311
    principal = data.principal()
    total = len(data.contact_ids)
    chosen = rng.sample(range(total), max(1, round(total * fraction)))
    parts = _split(chosen, MUTATIONS)
    now = timezone.now()

    def email(index: int) -> str:
        return contact_email(data.seed, index, total)

    def cid(index: int) -> int:
        return data.contact_ids[index]

    def recent() -> datetime.datetime:
        return now - datetime.timedelta(seconds=rng.randrange(3600))

    pricing = next(url for url in data.urls if url.endswith("/pricing"))
    with use_workspace(data.workspace):
        events: list[EventRow] = []
        hit = code_for("page.hit")
        for index in parts["page hits"]:
            for n in range(rng.randint(1, 5)):
                url = pricing if n == 0 and rng.random() < 0.33 else rng.choice(data.urls)
                events.append(EventRow(type=hit, contact_id=cid(index), at=recent(), data={"url": url}))
        for index in parts["email opened/clicked"]:
            email_id = rng.choice(data.email_ids[-4:])
            events.append(
                EventRow(type=code_for("email.opened"), contact_id=cid(index), at=recent(), data={"email_id": email_id})
            )
            if rng.random() < 0.4:
                events.append(EventRow(type=code_for("email.clicked"), contact_id=cid(index), at=recent(),
                                       data={"email_id": email_id, "url": rng.choice(data.urls)}))  # fmt: skip
        for index in parts["form submitted (+tag)"]:
            events.append(EventRow(type=code_for("form.submitted"), contact_id=cid(index), at=recent(),
                                   data={"form_id": rng.choice(data.form_ids)}))  # fmt: skip
        events.sort(key=lambda row: row.at)
        events_record(events, principal=principal)

        active = parts["page hits"] + parts["email opened/clicked"] + parts["form submitted (+tag)"]
        rows = [{"email": email(index), "last_active": now} for index in active]
        for index in parts["fields by import/API batch"]:
            country = rng.choice(list(COUNTRIES))
            change = rng.choice(["place", "plan", "score", "stage"])
            row: dict[str, Any] = {"email": email(index)}
            if change == "place":
                row.update(country=country, city=rng.choice(COUNTRIES[country]))
            elif change == "plan":
                row["plan"] = rng.choice(PLANS)
            elif change == "score":
                row["score"] = rng.randrange(0, 1000)
            else:
                row["stage"] = rng.choice(data.stage_ids)
            rows.append(row)
        result = actions.contacts_bulk_upsert(rows, lawful_basis="legitimate_interests", principal=principal)
        assert result.updated == len(rows) and not result.created and not result.errors, result
        for index in parts["fields one by one"]:
            values: dict[str, Any] = {"owner": rng.choice(data.owner_ids)}
            if rng.random() < 0.5:
                values["renewal_date"] = (now + datetime.timedelta(days=rng.randrange(1, 365))).date()
            actions.contact_update(cid(index), values, principal=principal)
        tagged = parts["tags"]
        for tags, group in (
            (["webinar-2026"], tagged[: len(tagged) // 2]),
            (["customer", "-trial"], tagged[len(tagged) // 2 :]),
            (["form-lead"], parts["form submitted (+tag)"]),
        ):
            if group:
                actions.contacts_tag([cid(index) for index in group], tags, principal=principal)
        for index in parts["points"]:
            actions.contact_points_change(cid(index), "plus", rng.randint(1, 50), principal=principal)
        for index in parts["do not contact"]:
            actions.dnc_add(cid(index), reason="unsubscribed", principal=principal)
    return Mutation(
        contact_ids=sorted(cid(index) for index in chosen),
        kinds={kind: len(indexes) for kind, indexes in parts.items()},
        seconds=time.perf_counter() - started,
    )


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events-per-contact", type=float, default=EVENTS_PER_CONTACT)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mutate", type=float, default=0.01, help="fraction of the contacts mutate() changes after")
    from harness import add_database_arguments

    add_database_arguments(parser)
    args = parser.parse_args()
    with databases(args, prefix="bench_segments"):
        django_setup()
        connection = region_connection()
        print(f"# segments data: {args.contacts:,} contacts on {engine(connection)}; {load()}")

        def progress(done: int, seconds: float) -> None:
            if done % 100_000 == 0 or done == args.contacts:
                print(
                    f"  {done:>9,} contacts  {seconds:7.1f} s  {done / seconds:7,.0f} contacts/s   {load()}", flush=True
                )

        started = time.perf_counter()
        data = generate(args.contacts, events_per_contact=args.events_per_contact, seed=args.seed, progress=progress)
        total = time.perf_counter() - started
        print(f"generated in {total:.1f} s: " + ", ".join(f"{name} {count:,}" for name, count in data.counts.items()))
        for step, seconds in data.seconds.items():
            print(f"  {step:34s} {seconds:8.1f} s  {seconds / total:5.1%}")
        changes = mutate(data, fraction=args.mutate)
        print(f"mutate({args.mutate}): {len(changes.contact_ids):,} contacts in {changes.seconds:.1f} s: "
              + ", ".join(f"{kind} {count:,}" for kind, count in changes.kinds.items()))  # fmt: skip
        print(f"# {load()}")


if __name__ == "__main__":
    main()
