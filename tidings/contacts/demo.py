"""Demo data for the contacts pages: ~200 made-up people on .example domains, companies, tags, notes, events.

Registered in tidings.demo.SEEDERS; runs inside the demo workspace and does nothing when
the workspace already has contacts, so `tidings demo` can be run again.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions, selectors
from tidings.contacts.models import EventType, NoteType
from tidings.privacy.models import LawfulBasis

DEMO_CONTACTS = 200
FIRST = [
    "Ada",
    "Bram",
    "Chiara",
    "Dmitri",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Lars",
    "Mila",
    "Nuno",
    "Olga",
    "Pim",
    "Quinn",
    "Rosa",
]
LAST = [
    "Abernathy",
    "Brightwater",
    "Castellan",
    "Dunmore",
    "Eastwick",
    "Fairhaven",
    "Glasswell",
    "Holloway",
    "Ironside",
    "Juniper",
]
COMPANIES = [
    ("Northwind Analytics", "northwind.example", "Software", "NL"),
    ("Bluebell Bakeries", "bluebell.example", "Food", "FR"),
    ("Copperline Freight", "copperline.example", "Logistics", "DE"),
    ("Lumen Studios", "lumen.example", "Media", "ES"),
    ("Quarry & Vale", "quarryvale.example", "Construction", "IE"),
]
TAGS = ["newsletter", "webinar-2025", "trial", "customer", "event-lead", "partner"]
CITIES = [("Amsterdam", "NL"), ("Lyon", "FR"), ("Leipzig", "DE"), ("Valencia", "ES"), ("Cork", "IE"), ("Ghent", "BE")]
WEB_EVENTS = [EventType.PAGE_HIT, EventType.FORM_SUBMITTED, EventType.EMAIL_OPENED, EventType.EMAIL_CLICKED]


def seed_demo_contacts(workspace) -> None:
    """Fill the demo workspace (the current one) with contacts, companies, tags, notes and events, once."""
    if selectors.contacts_count():
        return
    principal = system_principal(workspace, reason="command:demo")
    rng = random.Random(20250101)  # the same demo every time  # noqa: S311 (made-up data, not security)
    companies = [
        actions.company_create(
            {
                "companyname": name,
                "companywebsite": f"https://{domain}",
                "companyindustry": industry,
                "companycountry": country,
            },
            principal=principal,
        )  # fmt: skip
        for name, domain, industry, country in COMPANIES
    ]
    rows = []
    for number in range(DEMO_CONTACTS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company_index = number % (len(COMPANIES) + 1)
        domain = COMPANIES[company_index][1] if company_index < len(COMPANIES) else "mail.example"
        city, country = rng.choice(CITIES)
        rows.append(
            {
                "email": f"{first.lower()}.{last.lower()}{number}@{domain}",
                "firstname": first,
                "lastname": last,
                "city": city,
                "country": country,
                "points": rng.randrange(0, 120),
                "last_active": timezone.now() - datetime.timedelta(hours=rng.randrange(1, 24 * 90)),
                "tags": "|".join(rng.sample(TAGS, rng.randrange(0, 3))),
            }
        )
    result = actions.contacts_bulk_upsert(rows, lawful_basis=LawfulBasis.CONSENT, return_ids=True, principal=principal)
    ids = [contact_id for contact_id in result.contact_ids if contact_id is not None]
    for contact_id, row_index in zip(ids, range(len(rows)), strict=False):
        company_index = row_index % (len(COMPANIES) + 1)
        if company_index < len(COMPANIES):
            actions.company_link(contact_id, companies[company_index].id, is_primary=True, principal=principal)
    for contact_id in ids[:20]:
        actions.note_add(
            contact_id,
            "Met at the spring trade fair; interested in the team plan.",
            type=NoteType.MEETING,
            principal=principal,
        )
    for contact_id in ids[::25]:
        actions.dnc_add(
            contact_id, reason="unsubscribed", comment="Unsubscribed from the newsletter", principal=principal
        )
    now = timezone.now()
    events = [
        {
            "contact_id": contact_id,
            "type": (kind := rng.choice(WEB_EVENTS)),
            "at": now - datetime.timedelta(hours=rng.randrange(1, 2000)),
            # Each type's data schema (tidings.contacts.events): an email open names the email, the rest a page.
            "data": {"email_id" if kind == EventType.EMAIL_OPENED else "page": rng.randrange(1, 40)},
        }  # fmt: skip
        for contact_id in ids
        for _ in range(rng.randrange(1, 8))
    ]
    actions.events_append(events, principal=principal)
