"""The one pagination module: signed cursors every list shares, keyset and offset pages."""

from __future__ import annotations

import datetime

import pytest
from django.core import signing

from tidings.accounts.models import User
from tidings.pagination import (
    InvalidCursor,
    Page,
    cursor_salt,
    decode_cursor,
    encode_cursor,
    keyset_page,
    offset_page,
)
from tidings.tests.principals import system


@pytest.fixture
def people(make_user):
    """Five people who joined within one millisecond, a microsecond apart."""
    moment = datetime.datetime(2026, 3, 1, 9, 30, 0, 100, tzinfo=datetime.UTC)
    users = [make_user(f"joiner{n}@people.example") for n in range(5)]
    for n, user in enumerate(users):
        User.objects.filter(pk=user.pk).update(date_joined=moment + datetime.timedelta(microseconds=n))
    return User.objects.filter(email__endswith="@people.example")


def test_a_cursor_round_trips_its_position():
    salt = cursor_salt(User, "name")
    assert decode_cursor(encode_cursor(["Ada", 7], salt=salt), salt=salt, length=2) == ["Ada", 7]


def test_an_unsigned_position_is_refused():
    """The contacts lists once wrote bare base64 JSON; a client could edit it. Now only signed positions pass."""
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor("WyJ4IiwxXQ", salt=cursor_salt(User, "name"), length=2)  # base64 of ["x",1]
    assert refused.value.message_dict == {"after": ["not a valid cursor"]}


def test_a_signed_position_of_the_wrong_shape_is_refused():
    salt = cursor_salt(User, "name")
    with pytest.raises(InvalidCursor):
        decode_cursor(signing.dumps([{"a": 1}, 1], salt=salt), salt=salt, length=2)


def test_a_cursor_of_another_order_is_refused(people):
    first = keyset_page(people, ordering="email", limit=2)
    with pytest.raises(InvalidCursor):
        keyset_page(people, ordering="-email", after=first.next_cursor, limit=2)


def test_keyset_pages_keep_microseconds_so_no_row_is_skipped(people):
    seen, after = [], None
    while True:
        page = keyset_page(people, ordering="-date_joined", after=after, limit=1)
        seen.extend(user.pk for user in page.items)
        after = page.next_cursor
        if after is None:
            break
    assert seen == list(people.order_by("-date_joined", "-pk").values_list("pk", flat=True))


def test_an_offset_page_counts_when_asked(people):
    page = offset_page(people, ordering="email", start=1, limit=2, count=True)
    assert (page.total, [u.email for u in page.items]) == (5, ["joiner1@people.example", "joiner2@people.example"])
    assert page.next_cursor is None


def test_an_offset_page_without_count_has_no_total(people):
    assert offset_page(people, ordering="email", limit=1).total is None


def test_contact_pages_refuse_an_edited_cursor(in_acme):
    from django.core.exceptions import ValidationError

    from tidings.contacts import actions, selectors

    for n in range(3):
        actions.contact_create({"email": f"walker{n}@people.example"}, principal=system())
    cursor = selectors.contacts_page(order="id", limit=1).next_cursor
    edited = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    with pytest.raises(ValidationError) as refused:
        selectors.contacts_page(order="id", limit=1, after=edited)
    assert refused.value.message_dict == {"after": ["not a valid cursor"]}


def test_a_contacts_cursor_is_bound_to_its_order(in_acme):
    from tidings.contacts import actions, selectors

    for n in range(3):
        actions.contact_create({"email": f"walker{n}@people.example", "points": n}, principal=system())
    cursor = selectors.contacts_page(order="-id", limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        selectors.contacts_page(order="-points", limit=1, after=cursor)


def test_contacts_offset_and_keyset_pages_share_one_selector(in_acme):
    from tidings.contacts import actions, selectors

    for points in (5, 50, 20):
        actions.contact_create({"email": f"p{points}@people.example", "points": points}, principal=system())
    by_offset = selectors.contacts_page(order="-points", start=1, limit=1)
    by_cursor = selectors.contacts_page(order="-points", limit=1)
    following = selectors.contacts_page(order="-points", limit=1, after=by_cursor.next_cursor)
    assert isinstance(by_offset, Page) and by_offset.next_cursor is None
    assert [v.get("points") for v in by_offset.items] == [v.get("points") for v in following.items] == [20]
