"""The duplicates page and the merge preview in Chromium: axe, and a phone's width without sideways scrolling."""

import pytest

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


@pytest.fixture
def twin(showcase, acme):
    """Ada again at her own domain: the finder proposes (Ada, twin)."""
    from tidings.contacts import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        return actions.contact_create(
            {"firstname": "Augusta", "lastname": "Quillfeather", "email": "a.q@analytical.example", "city": "Paris"},
            principal=system(acme),
        )


def _pages(showcase, twin) -> list[str]:
    return ["/w/acme/contacts/duplicates/", f"/w/acme/contacts/{showcase.id}/merge/{twin.id}/"]


def test_the_duplicates_pages_pass_axe(alice_page, showcase, twin):
    for path in _pages(showcase, twin):
        visit(alice_page, path)
        assert_accessible(alice_page)


def test_the_duplicates_pages_fit_a_phone(alice_page, showcase, twin):
    alice_page.set_viewport_size(PHONE)
    for path in _pages(showcase, twin):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)
