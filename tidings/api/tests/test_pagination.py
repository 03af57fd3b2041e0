"""Cursor pagination: complete, ordered, tamper-proof, and never OFFSET."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tidings.accounts.models import User
from tidings.api.errors import BadRequest
from tidings.api.pagination import paginate_keyset


@pytest.fixture
def people(make_user):
    # Two people share a first name so the id must break the tie.
    names = ["Ada", "Ben", "Ben", "Cleo", "Dara", "Eli", "Fay"]
    return [make_user(f"p{index}@people.example", first_name=name) for index, name in enumerate(names)]


def _walk(queryset, ordering, limit):
    seen, cursor = [], None
    while True:
        page = paginate_keyset(queryset, ordering=ordering, limit=limit, cursor=cursor)
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("ordering", ["first_name", "-first_name", "id", "-id", "-date_joined"])
def test_walking_the_pages_visits_every_row_once_in_order(people, ordering):
    queryset = User.objects.filter(email__endswith="@people.example")
    walked = _walk(queryset, ordering, limit=2)
    field = ordering.lstrip("-")
    expected = list(queryset.order_by(ordering, ("-" if ordering.startswith("-") else "") + "pk"))
    assert [u.pk for u in walked] == [u.pk for u in expected]
    assert len({u.pk for u in walked}) == len(people)
    assert field


def test_a_page_query_never_uses_offset(people):
    queryset = User.objects.filter(email__endswith="@people.example")
    first = paginate_keyset(queryset, ordering="first_name", limit=3)
    with CaptureQueriesContext(connections["default"]) as captured:
        paginate_keyset(queryset, ordering="first_name", limit=3, cursor=first["next_cursor"])
    sql = " ".join(query["sql"].upper() for query in captured.captured_queries)
    assert "OFFSET" not in sql


def test_a_cursor_made_for_another_ordering_is_refused(people):
    queryset = User.objects.filter(email__endswith="@people.example")
    cursor = paginate_keyset(queryset, ordering="first_name", limit=2)["next_cursor"]
    with pytest.raises(BadRequest):
        paginate_keyset(queryset, ordering="-first_name", limit=2, cursor=cursor)


def test_the_limit_is_capped(people):
    page = paginate_keyset(User.objects.all(), ordering="id", limit=10_000)
    assert len(page["items"]) <= 200
