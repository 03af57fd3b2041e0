"""Page actions: permissions, sanitising, slugs, redirects; preference actions act for their own contact only.

alice owns Acme; arun is an analyst there (pages:view, no pages:edit).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.accounts.selectors import principal_for_user
from tidings.pages import actions, selectors
from tidings.pages.models import LandingPage
from tidings.subject_requests.actions import request_receive
from tidings.tests.principals import system


@pytest.fixture
def arun(in_acme, make_user):
    from tidings.accounts.actions import membership_create

    user = make_user("arun@acme.example")
    membership_create(workspace=in_acme, user=user, role="analyst", principal=system(in_acme))
    return principal_for_user(user, in_acme)


@pytest.fixture
def alice_principal(in_acme, alice):
    return principal_for_user(alice, in_acme)


def test_a_member_who_can_edit_creates_a_page_with_sanitised_content(alice_principal):
    page = actions.page_create(principal=alice_principal, title="Spring sale",
                               content='<p onclick="x()">Hi<script>bad()</script></p>')  # fmt: skip
    assert page.slug == "spring-sale" and page.content == "<p>Hi</p>" and not page.is_published
    assert page.created_by == alice_principal.user.pk


def test_an_analyst_sees_pages_but_cannot_create_change_or_delete_them(arun, in_acme):
    page = actions.page_create(principal=system(), title="Existing")
    assert arun.can("pages:view")
    with pytest.raises(PermissionDenied):
        actions.page_create(principal=arun, title="Mine")
    with pytest.raises(PermissionDenied):
        actions.page_update(page.pk, principal=arun, title="Changed")
    with pytest.raises(PermissionDenied):
        actions.page_delete(page.pk, principal=arun)
    assert LandingPage.objects.get(pk=page.pk).title == "Existing"


def test_a_slug_is_unique_in_the_workspace(in_acme):
    actions.page_create(principal=system(), title="Sale", slug="sale")
    with pytest.raises(ValidationError) as caught:
        actions.page_create(principal=system(), title="Other", slug="sale")
    assert "slug" in caught.value.message_dict


def test_the_same_slug_may_exist_in_another_workspace(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    actions.page_create(principal=system(), title="Sale", slug="sale")
    with use_workspace(globex):
        assert actions.page_create(principal=system(globex), title="Sale", slug="sale").slug == "sale"


@pytest.mark.parametrize("slug", ["preferences", "p", "Bad Slug", "x" * 200])
def test_reserved_or_malformed_slugs_are_refused_without_repeating_them(in_acme, slug):
    with pytest.raises(ValidationError) as caught:
        actions.page_create(principal=system(), title="T", slug=slug)
    assert "slug" in caught.value.message_dict
    assert len(slug) < 3 or slug not in str(caught.value)


def test_a_redirect_needs_an_http_address(in_acme):
    with pytest.raises(ValidationError) as caught:
        actions.page_create(principal=system(), title="T", redirect_type="301")
    assert "redirect_url" in caught.value.message_dict
    with pytest.raises(ValidationError):
        actions.page_create(principal=system(), title="T", redirect_type="301", redirect_url="javascript:alert(1)")
    page = actions.page_create(principal=system(), title="T", redirect_type="302", redirect_url="https://acme.example/")
    assert page.redirect_type == "302"


def test_an_unknown_attribute_is_refused(in_acme):
    page = actions.page_create(principal=system(), title="T")
    with pytest.raises(ValidationError):
        actions.page_update(page.pk, principal=system(), workspace_id=2)


def test_another_workspaces_page_is_missing(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        theirs = actions.page_create(principal=system(globex), title="Theirs")
    with pytest.raises(LandingPage.DoesNotExist):
        actions.page_update(theirs.pk, principal=system(), title="Mine")
    with pytest.raises(LandingPage.DoesNotExist):
        selectors.page_get(theirs.pk)


def test_page_actions_are_audited_with_ids_only(alice_principal):
    from tidings.audit.models import AuditEntry

    page = actions.page_create(principal=alice_principal, title="Secret launch", content="<p>Secret words</p>")
    entry = AuditEntry.objects.filter(action="page.created").latest("id")
    assert entry.target_id == str(page.pk) and "Secret" not in str(entry.data)


def test_preference_actions_refuse_members_the_system_and_another_contacts_link(in_acme, alice_principal, ada, grace):
    with pytest.raises(PermissionDenied):
        actions.preferences_save(ada.id, principal=alice_principal, subscriptions=[], unsubscribe_all=True, consents={})
    with pytest.raises(PermissionDenied):
        request_receive("erasure", source="preference_centre", contact_id=ada.id, principal=system())
    graces_link = selectors.preference_principal(in_acme, grace.id)
    with pytest.raises(PermissionDenied):
        actions.preferences_save(ada.id, principal=graces_link, subscriptions=[], unsubscribe_all=True, consents={})
    with pytest.raises(PermissionDenied):
        request_receive("access", source="preference_centre", contact_id=ada.id, principal=graces_link)
