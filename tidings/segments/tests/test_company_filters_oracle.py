"""Company filters against a plain Python evaluation: a contact matches when any linked company matches.

A negation (not_equals, empty) is NOT of its positive across the contact's companies (definition.py):
"industry not equals Software" is "no linked company in Software", which contacts without a company match.
"""

import random

import pytest

from tidings.contacts.actions import companies_link_by_name, company_create, contact_create
from tidings.contacts.conditions import contacts_where
from tidings.segments import selectors
from tidings.tests.principals import system

INDUSTRIES = ["Software", "Retail", "Energy"]
FILTERS = [
    ("companyindustry", "equals", "Software"),
    ("companyindustry", "not_equals", "Software"),
    ("companyindustry", "in", ["Retail", "Energy"]),
    ("companynumber_of_employees", "gte", 500),
    ("companynumber_of_employees", "lt", 50),
    ("companyindustry", "empty", None),
]


@pytest.fixture
def world(in_acme):
    rng = random.Random(5)
    p = system()
    companies = {}
    for n in range(8):
        industry = rng.choice([*INDUSTRIES, ""])
        size = rng.choice([None, 10, 200, 800, 5000])
        values = {"companyname": f"Oracle Co {n}", "companyindustry": industry}
        if size is not None:
            values["companynumber_of_employees"] = size
        company_create(values, principal=p)
        companies[f"Oracle Co {n}"] = (industry, size)
    contacts = {}
    pairs = []
    for n in range(30):
        pk = contact_create({"email": f"co-oracle{n}@oracle.example"}, principal=p).pk
        linked = rng.sample(sorted(companies), rng.choice([0, 1, 1, 2, 3]))
        pairs += [(pk, name) for name in linked]
        contacts[pk] = [companies[name] for name in linked]
    companies_link_by_name(pairs, principal=p)
    return contacts


NEGATIONS = {"not_equals": "equals", "empty": "not_empty"}


def matches(alias, operator, value, industry, size) -> bool:
    field = industry if alias == "companyindustry" else size
    if operator == "equals":
        return field == value
    if operator == "in":
        return field in value
    if operator == "not_empty":
        return field not in ("", None)
    if field is None:
        return False
    return field >= value if operator == "gte" else field < value


@pytest.mark.parametrize("alias,operator,value", FILTERS)
def test_company_filters_match_the_python_evaluation(world, alias, operator, value):
    node = {"kind": "field", "object": "company", "field": alias, "operator": operator, "value": value}
    checked = selectors.definition_check({"match": "all", "filters": [node]})
    got = set(contacts_where(selectors.condition_of(checked)).values_list("id", flat=True))
    positive = NEGATIONS.get(operator, operator)
    having = {pk for pk, linked in world.items() if any(matches(alias, positive, value, *c) for c in linked)}
    want = set(world) - having if operator in NEGATIONS else having
    assert got == want
