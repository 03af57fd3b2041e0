"""Generated contacts for the oracle tests: a few hundred varied contacts of one workspace, built once per module.

Values sit on the edges a filter engine gets wrong: empty and missing values, case and accent
variants, LIKE wildcards in text, numbers at their bounds, dates and instants on the boundaries of
"today" and "the last N days" at NOW, anniversaries around the end of February, custom fields of
every type (indexed and not, encrypted ones), several companies per contact or none, tags, DNC
rows, events of several types and ages (some through an identified visitor), other segments
with manual adds and removes, and campaigns the contacts are in, have walked to the end of, or
left (some in two at once). Made-up people, .example domains.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from tidings.contacts.models import Contact
from tidings.inputs import INT32_MAX, INT32_MIN
from tidings.privacy.categories import DataCategory

UTC = datetime.UTC
# Thirty minutes after midnight of March 1st of a year without February 29th: "today" and
# "yesterday" straddle a month end, and NOW - 1 day is still yesterday.
NOW = datetime.datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
TODAY = NOW.date()
MIDNIGHT = datetime.datetime.combine(TODAY, datetime.time(), tzinfo=UTC)
CONTACTS = 240

CITIES = ["London", "london", "LONDON", "Zürich", "ZÜRICH", "zürich", "São Paulo", "New York", "new york",
          "a%b_c", "Back\\slash", "Paris", "Straße", "STRASSE", "Łódź", "東京", " ", "Londonderry"]  # fmt: skip
POSITIONS = ["CEO", "ceo", "Head of Growth", "growth hacker", "Intern", "Ingénieur", "INGÉNIEUR", "100% remote"]
FIRST = ["Ada", "ada", "Émile", "EMILE", "Grace", "Zoë", "Mary Ann", "O'Neil", "Łukasz", "Brightwater"]
LAST = ["Quillfeather", "Brightwater", "van der Berg", "Núñez", "NUNEZ", "Smith", "smith-jones"]
COUNTRIES = ["DE", "FR", "GB", "US", "CH", "BR", "PL", "JP"]
TAGS = ["vip", "VIP-2", "newsletter", "trial", "churned", "beta"]
PLANS = ["free", "pro", "Pro", "enterprise"]
INTERESTS = ["ai", "crm", "email", "seo"]
NUMBERS = [
    0,
    1,
    -1,
    2,
    3,
    7,
    10,
    42,
    99,
    100,
    2.5,
    -2.5,
    0.1,
    1e-6,
    123456789,
    2**53,
    -(2**53),
    2**63 - 1,
    -(2**63) + 1,
]
POINTS = [0, 1, -1, 5, 10, 100, INT32_MAX, INT32_MIN, 42]
DAY_OFFSETS = [0, -1, 1, -2, -6, -7, -8, -29, -30, -31, -365, -366, 2, 7, 8, 30, 365]
INSTANT_OFFSETS = [
    datetime.timedelta(0),
    datetime.timedelta(microseconds=-1),
    datetime.timedelta(microseconds=1),
    datetime.timedelta(minutes=-31),  # yesterday, 23:59
    datetime.timedelta(minutes=-30),  # midnight of today
    datetime.timedelta(hours=1),
    datetime.timedelta(hours=23, minutes=29),  # the last minute of today
    datetime.timedelta(hours=23, minutes=30),  # tomorrow
]
ANNIVERSARY_DAYS = [datetime.date(2000, 2, 29), datetime.date(1990, 2, 28), datetime.date(1985, 3, 1),
                    datetime.date(1999, 12, 31), datetime.date(2001, 1, 1), datetime.date(2024, 3, 1)]  # fmt: skip
URLS = ["https://shop.example/pricing", "https://shop.example/Pricing/plans", "https://shop.example/blog/ünicode",
        "https://other.example/", "https://shop.example/docs?utm=x", "https://shop.example/a_b%25c"]  # fmt: skip

# Labels of page hits as tracking writes them: "source|medium|campaign" and "device|os|browser|country".
UTM_LABELS = ["google|cpc|spring_sale", "Google|CPC|Spring_Sale", "newsletter|email|", "|email|launch",
              "newsletter||", "a%b|_x_|50%", "Bäckerei|ÄPFEL|zürich", "googlemail|referral|spring",
              "news|email|spring_sale_2"]  # fmt: skip
CTX_LABELS = ["desktop|Windows|Chrome|DE", "mobile|iOS|Mobile_Safari|FR", "Mobile|ios|Chrome_Mobile|",
              "tablet|Android|Chrome|GB", "desktop|Mac_OS_X|Firefox|", "desktop|||US"]  # fmt: skip

# Custom fields: (alias, type, options, indexed, category, unique).
CONTACT_CUSTOM = [
    ("tier", "text", None, True, "", False),
    ("nickname", "text", None, False, "", False),
    ("score", "number", None, True, "", False),
    ("ratio", "number", None, False, "", False),
    ("vip", "boolean", None, False, "", False),
    ("birthday", "date", None, True, "", False),
    ("renewal", "date", None, False, "", False),
    ("seen_at", "datetime", None, False, "", False),
    ("plan", "select", PLANS, True, "", False),
    ("interests", "multiselect", INTERESTS, False, "", False),
    ("homepage", "url", None, False, "", False),
    ("origin", "country", None, False, "", False),
    ("member_no", "text", None, False, DataCategory.UNIQUE_ID, True),
    ("street", "text", None, False, DataCategory.ADDRESS, False),
]
COMPANY_CUSTOM = [
    ("sector_code", "text", None, True, "", False),
    ("revenue", "number", None, False, "", False),
    ("founded", "date", None, False, "", False),
]


@dataclass
class World:
    """What the module's tests know about the generated workspace."""

    workspace: object
    contact_ids: list[int] = field(default_factory=list)
    tag_ids: dict[str, int] = field(default_factory=dict)
    segment_ids: dict[str, int] = field(default_factory=dict)
    company_ids: list[int] = field(default_factory=list)
    values: dict[str, list] = field(default_factory=dict)  # alias -> values written (operand pools)
    purposes: list[str] = field(default_factory=list)  # consent purposes with decisions
    campaign_ids: dict[str, int] = field(default_factory=dict)
    snapshot: Any = None  # the oracle's Snapshot, set by the fixture
    lookups: Any = None


def _maybe(rng: random.Random, values, none: float = 0.25):
    return None if rng.random() < none else rng.choice(values)


def _instant(rng: random.Random) -> datetime.datetime:
    return MIDNIGHT + datetime.timedelta(days=rng.choice(DAY_OFFSETS)) + rng.choice(INSTANT_OFFSETS)


def build(workspace, principal) -> World:
    """Create the generated data in workspace (the current one) and return what the tests need to know."""
    from tidings.contacts.actions import (
        company_create,
        company_link,
        contact_create,
        dnc_add,
        field_create,
        field_index_set,
        tag_create,
    )
    from tidings.events import actions as event_actions
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow
    from tidings.segments import actions as segment_actions

    rng = random.Random(9)
    world = World(workspace=workspace)
    for alias, type, options, indexed, category, unique in CONTACT_CUSTOM:
        row = field_create(
            alias=alias, label=alias.title(), type=type, options=options, category=category,
            is_unique_identifier=unique, principal=principal,
        )  # fmt: skip
        if indexed:
            field_index_set(row.pk, principal=principal)
    for alias, type, _options, indexed, _category, _unique in COMPANY_CUSTOM:
        row = field_create(alias=alias, label=alias.title(), type=type, object="company", principal=principal)
        if indexed:
            field_index_set(row.pk, principal=principal)
    for name in TAGS:
        world.tag_ids[name] = tag_create(name, principal=principal).pk

    industries = ["Retail", "retail", "Software", "Bäckerei", ""]
    for index in range(6):
        company: dict = {
            "companyname": f"Company {index} {rng.choice(['GmbH', 'Ltd', 'Inc'])}",
            "companycity": rng.choice(CITIES[:8]),
            "companyindustry": rng.choice(industries),
            "companynumber_of_employees": _maybe(rng, [0, 1, 10, 500, 2**31 - 1]),
            "companycountry": _maybe(rng, COUNTRIES),
            "sector_code": _maybe(rng, ["A1", "a1", "B2", "C%3"]),
            "revenue": _maybe(rng, NUMBERS),
            "founded": _maybe(rng, [(TODAY + datetime.timedelta(days=d)).isoformat() for d in DAY_OFFSETS]),
        }
        world.company_ids.append(company_create({k: v for k, v in company.items() if v is not None},
                                                principal=principal).pk)  # fmt: skip

    pools: dict[str, list] = {}
    for index in range(CONTACTS):
        values: dict = {
            "email": None if index % 7 == 0 else f"{rng.choice(['Ann', 'ann', 'Bo', 'Chi'])}.{index}@Mixed.Example",
            "firstname": _maybe(rng, FIRST),
            "lastname": _maybe(rng, LAST),
            "phone": _maybe(rng, ["+44 20 7946 0000", "0044 20 7946 0001", "(555) 010-0199", "555.010.0200"]),
            "mobile": _maybe(rng, ["+1 555 0100", "+33 6 00 00 00 01"], none=0.6),
            "company": _maybe(rng, ["Acme", "acme", "ACME Corp", "Łódź Works"]),
            "position": _maybe(rng, POSITIONS),
            "city": _maybe(rng, CITIES),
            "state": _maybe(rng, ["Bavaria", "bavaria", "Île-de-France"]),
            "zipcode": _maybe(rng, ["10115", "75001", "SW1A 1AA", "sw1a 1aa"]),
            "country": _maybe(rng, COUNTRIES),
            "timezone": _maybe(rng, ["Europe/London", "America/New_York", "Asia/Tokyo"]),
            "preferred_locale": _maybe(rng, ["en", "de", "pt_BR", "fr_FR"]),
            "website": _maybe(rng, ["https://ann.example", "https://BO.example/Home", "http://chi.example/a_b"]),
            "tier": _maybe(rng, ["gold", "Gold", "GOLD", "silver", "bronze", "ölig", "ÖLIG", "50%", "x_y"]),
            "nickname": _maybe(rng, ["Bo", "bo", "Bob", "Zoë", "ZOË", "42", "a\\b"]),
            "score": _maybe(rng, NUMBERS),
            "ratio": _maybe(rng, [0.5, 1.5, -0.25, 3, 0, 1e-9]),
            "vip": _maybe(rng, [True, False]),
            "birthday": _maybe(rng, ANNIVERSARY_DAYS + [TODAY + datetime.timedelta(days=d) for d in DAY_OFFSETS]),
            "renewal": _maybe(rng, [TODAY + datetime.timedelta(days=d) for d in DAY_OFFSETS]),
            "seen_at": _maybe(rng, [_instant(rng).isoformat(), "2026-02-28T23:30:00-02:00"]),
            "plan": _maybe(rng, PLANS),
            "interests": _maybe(rng, [["ai"], ["crm", "seo"], INTERESTS]),
            "homepage": _maybe(rng, ["https://zoe.example/Über", "https://zoe.example/about"]),
            "origin": _maybe(rng, COUNTRIES),
            "member_no": None if index % 3 else f"M-{index:04d}",
            "street": _maybe(rng, ["1 Long Road", "2 Short Lane"]),
        }
        tags = rng.sample(TAGS, rng.choice([0, 0, 1, 2, 3]))
        written = {k: v for k, v in values.items() if v is not None}
        contact = contact_create(written, tags=tags, principal=principal)
        world.contact_ids.append(contact.pk)
        for alias, value in written.items():
            pools.setdefault(alias, []).append(value)
        columns = {
            "created_at": _instant(rng) if index % 4 else MIDNIGHT.replace(year=rng.choice([2020, 2024, 2025])),
            "last_active": None if index % 5 == 0 else _instant(rng),
            "date_identified": None if index % 3 == 0 else _instant(rng),
            "owner_id": _maybe(rng, [1, 2, 3], none=0.4),
            "stage_id": _maybe(rng, [10, 11], none=0.5),
            "points": rng.choice(POINTS),
        }
        if index % 11 == 0:
            columns["created_at"] = datetime.datetime.combine(rng.choice(ANNIVERSARY_DAYS), datetime.time(12), UTC)
        Contact.objects.filter(pk=contact.pk).update(**columns)
        for column, value in columns.items():
            pools.setdefault(column, []).append(value)
        for company_id in rng.sample(world.company_ids, rng.choice([0, 0, 1, 1, 2, 3])):
            company_link(contact.pk, company_id, principal=principal)
        if rng.random() < 0.3:
            channel = rng.choice(["email", "email", "sms"])
            dnc_add(contact.pk, channel=channel, reason=rng.choice(["unsubscribed", "bounced", "manual"]),
                    principal=principal)  # fmt: skip
    world.values = pools

    events = []
    page_hit, opened, clicked, submitted = (code_for(n) for n in ("page.hit", "email.opened", "email.clicked",
                                                                  "form.submitted"))  # fmt: skip
    for contact_id in world.contact_ids:
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            kind = rng.choice([page_hit, opened, clicked, submitted])
            at = _instant(rng)
            data: dict = {  # type: ignore[assignment]  # the chosen maker's result
                page_hit: lambda: {"url": rng.choice(URLS), "page": rng.choice([1, 2])},
                opened: lambda: {"email_id": rng.choice([1, 2, 3]), "send_id": rng.choice([5, 6])},
                clicked: lambda: {"email_id": rng.choice([1, 2]), "url": rng.choice(URLS)},
                submitted: lambda: {"form_id": rng.choice([7, 8])},
            }[kind]()
            events.append(EventRow(type=kind, contact_id=contact_id, at=at, data=data))
    for contact_id in rng.sample(world.contact_ids, 12):  # pages seen before the visitor was identified
        visitor = event_actions.visitor_create(principal=principal)
        event_actions.visitor_identify(visitor.pk, contact_id, principal=principal)
        for _ in range(rng.choice([1, 2, 4])):
            events.append(EventRow(type=page_hit, visitor_id=visitor.pk, at=_instant(rng),
                                   data={"url": rng.choice(URLS), "page": 3}))  # fmt: skip
    anonymous = event_actions.visitor_create(principal=principal)  # never identified: nobody's events
    events.append(EventRow(type=page_hit, visitor_id=anonymous.pk, at=NOW, data={"url": URLS[0]}))
    event_actions.events_record(events, principal=principal)

    _traffic_and_consent(world, principal)
    _campaigns(world, principal)

    londoners = segment_actions.segment_create(
        principal=principal, name="Londoners",
        definition={"filters": [{"kind": "field", "field": "city", "operator": "contains", "value": "london"}]},
    )  # fmt: skip
    members = list(londoners_members(londoners.pk))
    outsiders = [c for c in world.contact_ids if c not in set(members)]
    segment_actions.segment_members_add(londoners.pk, outsiders[:3], principal=principal)
    segment_actions.segment_members_remove(londoners.pk, members[:2], principal=principal)
    empty = segment_actions.segment_create(principal=principal, name="Nobody", definition={"filters": []})
    segment_actions.segment_members_add(empty.pk, world.contact_ids[5:7], principal=principal)
    world.segment_ids = {"londoners": londoners.pk, "nobody": empty.pk}
    return world


def _traffic_and_consent(world: World, principal) -> None:
    """Page hits with UTM and device labels, and consent decisions (a generator of its own: the draws above stay).

    Labels as tracking writes them ("source|medium|campaign", "device|os|browser|country", parts
    possibly empty, "|" never inside one), with case variants, LIKE wildcards and accents; decisions
    given and withdrawn over time, some by a device identified as the contact, on purposes under
    consent, under legitimate interest and inactive.
    """
    from tidings.consent.actions import consent_record, purpose_create, purpose_update
    from tidings.events import actions as event_actions
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow

    rng = random.Random(23)
    page_hit, events = code_for("page.hit"), []
    for contact_id in world.contact_ids:
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            data = {"url": rng.choice(URLS), "utm": _maybe(rng, UTM_LABELS, none=0.3),
                    "ctx": _maybe(rng, CTX_LABELS, none=0.2)}  # fmt: skip
            events.append(EventRow(type=page_hit, contact_id=contact_id, at=_instant(rng),
                                   data={k: v for k, v in data.items() if v is not None}))  # fmt: skip
    for contact_id in rng.sample(world.contact_ids, 8):  # hits before the device was identified
        visitor = event_actions.visitor_create(principal=principal)
        event_actions.visitor_identify(visitor.pk, contact_id, principal=principal)
        data = {"url": URLS[0], "utm": rng.choice(UTM_LABELS), "ctx": rng.choice(CTX_LABELS)}
        events.append(EventRow(type=page_hit, visitor_id=visitor.pk, at=_instant(rng), data=data))
    event_actions.events_record(events, principal=principal)

    purpose_create(key="partner_offers", name="Partner offers", lawful_basis="legitimate_interests",
                   principal=principal)  # fmt: skip
    retired = purpose_create(key="retired", name="Retired purpose", principal=principal)
    world.purposes = ["marketing_email", "profiling", "partner_offers", "retired"]
    for contact_id in world.contact_ids:
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            at = MIDNIGHT - datetime.timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86399))
            consent_record(purpose=rng.choice(world.purposes), given=rng.random() < 0.6, method="form",
                           contact_id=contact_id, recorded_at=at, principal=principal)  # fmt: skip
    for contact_id in rng.sample(world.contact_ids, 10):  # a device's decisions count for its contact
        visitor = event_actions.visitor_create(principal=principal)
        at = MIDNIGHT - datetime.timedelta(hours=rng.randint(1, 48))
        consent_record(purpose="marketing_email", given=rng.random() < 0.5, method="tracker", visitor_id=visitor.pk,
                       recorded_at=at, principal=principal)  # fmt: skip
        event_actions.visitor_identify(visitor.pk, contact_id, principal=principal)
    purpose_update(retired.pk, active=False, principal=principal)  # its decisions stay, it allows nobody


def _campaigns(world: World, principal) -> None:
    """Campaigns with enrolments active, finished and exited, run by the engine (a generator of its own).

    "Nurture" and "Welcome" keep their contacts waiting (a one-day delay), some of Nurture's then
    taken out by hand (exited); "Sorting" keeps its vip contacts waiting and walks the others to its
    end at once (finished); "Goodbye" ends in an exit step (exited); "Draft" was never published
    (nobody in it). The samples overlap: contacts active in two campaigns, active in one and done
    with another.
    """
    from tidings.campaigns.actions import (
        campaign_contacts_add,
        campaign_contacts_remove,
        campaign_create,
        campaign_publish,
        campaigns_run,
    )

    rng = random.Random(31)
    wait = {"kind": "delay", "mode": "interval", "seconds": 86400}

    def published(name: str, *steps: dict) -> int:
        graph = {"sources": [{"kind": "manual"}], "start": steps[0]["id"], "steps": list(steps)}
        draft = campaign_create(principal=principal, name=name, graph=graph)
        return campaign_publish(draft.pk, principal=principal).pk

    nurture = published("Nurture", {"id": 1, **wait})
    sorting = published("Sorting", {"id": 1, "kind": "condition", "test": "tag", "tag": "vip", "yes": 2, "no": None},
                        {"id": 2, **wait})  # fmt: skip
    welcome = published("Welcome", {"id": 1, **wait})
    goodbye = published("Goodbye", {"id": 1, "kind": "exit"})
    draft = campaign_create(principal=principal, name="Draft").pk
    nurtured = rng.sample(world.contact_ids, 60)
    campaign_contacts_add(nurture, nurtured, principal=principal)
    campaign_contacts_add(sorting, rng.sample(world.contact_ids, 60), principal=principal)
    campaign_contacts_add(welcome, rng.sample(nurtured, 20) + rng.sample(world.contact_ids, 20), principal=principal)
    campaign_contacts_add(goodbye, rng.sample(world.contact_ids, 20), principal=principal)
    campaigns_run(principal=principal)
    campaign_contacts_remove(nurture, rng.sample(nurtured, 15), principal=principal)
    world.campaign_ids = dict(nurture=nurture, welcome=welcome, sorting=sorting, goodbye=goodbye, draft=draft)


def londoners_members(segment_id: int):
    from tidings.segments.selectors import segment_member_ids

    return segment_member_ids(segment_id)
