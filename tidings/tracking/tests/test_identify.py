"""Identification through the tracker: public fields only, no takeover of an existing contact, consent first."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.tracking import actions
from tidings.tracking.identify import click_token, contact_for_click_token


def _consent(site, visitor, public, given=True):
    return actions.tracking_consent(site.pk, visitor.pk if visitor else None, {"tracking": given}, ip="203.0.113.9",
                                    source_url="https://shop.example/?email=x", principal=public)  # fmt: skip


def _visitor_contact(visitor_id):
    from tidings.events.selectors import visitor_get

    return visitor_get(visitor_id).contact_id


def test_identify_with_consent_creates_the_contact_and_joins_the_device(site, public, visitor):
    _consent(site, visitor, public)
    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "new@visitor.example", "firstname": "Nia"},
                                       ip="203.0.113.9", principal=public)  # fmt: skip
    assert result.created and result.linked
    assert result.set_fields == ("email", "firstname")
    assert _visitor_contact(visitor.pk) == result.contact_id


def test_identify_without_consent_creates_the_contact_but_never_joins_the_device(site, public, visitor):
    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "shy@visitor.example"}, ip=None,
                                       principal=public)  # fmt: skip
    assert result.created and not result.linked
    assert _visitor_contact(visitor.pk) is None


def test_a_gpc_signal_forbids_joining_even_with_consent(site, public, visitor):
    _consent(site, visitor, public)
    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "gpc@visitor.example"}, ip=None,
                                       principal=public, signal="gpc")  # fmt: skip
    assert not result.linked and _visitor_contact(visitor.pk) is None


def test_takeover_attempt_with_another_contacts_email_links_and_reveals_nothing(site, public, visitor, ada):
    """mallory's device says it is ada: no link to ada's history, ada unchanged, the result empty of her."""
    from tidings.contacts.selectors import contact_get
    from tidings.events.selectors import contact_events

    _consent(site, visitor, public)
    before = contact_get(ada.id)
    history = list(contact_events(ada.id).values_list("id", flat=True))
    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "ada@analytical.example",
                                       "firstname": "Mallory"}, ip="198.51.100.7", principal=public)  # fmt: skip
    assert result.contact_id is None and not result.linked and not result.created and result.set_fields == ()
    assert _visitor_contact(visitor.pk) is None
    after = contact_get(ada.id)
    assert after.fields == before.fields
    assert list(contact_events(ada.id).values_list("id", flat=True)) == history
    assert "ada" not in repr(result).lower() and str(ada.id) not in repr(result)


def test_the_takeover_answer_is_the_answer_of_an_unknown_email_without_consent(site, public, ada):
    """Neither result carries anything that depends on whether the email is a contact's."""
    known = actions.tracking_identify(site.pk, None, {"email": "ada@analytical.example"}, ip=None, principal=public)
    assert (known.linked, known.set_fields, known.ignored, known.refused) == (False, (), (), ())


def test_a_device_already_identified_as_the_contact_updates_it(site, public, visitor):
    _consent(site, visitor, public)
    first = actions.tracking_identify(site.pk, visitor.pk, {"email": "own@visitor.example"}, ip=None,
                                      principal=public)  # fmt: skip
    again = actions.tracking_identify(site.pk, visitor.pk, {"email": "own@visitor.example", "city": "Lyon"}, ip=None,
                                      principal=public)  # fmt: skip
    assert again.contact_id == first.contact_id and not again.created and again.set_fields == ("city", "email")


def test_only_publicly_updatable_fields_are_set_others_named_without_values(site, public, visitor):
    from tidings.contacts.actions import field_create
    from tidings.contacts.selectors import contact_get
    from tidings.tests.principals import system

    field_create(label="Loyalty tier", alias="tier", type="text", principal=system())
    result = actions.tracking_identify(
        site.pk, visitor.pk, {"email": "fields@visitor.example", "tier": "platinum", "points": 99999,
                              "no-such-field": "x", "firstname": {"nested": 1}},
        ip=None, principal=public,
    )  # fmt: skip
    assert result.set_fields == ("email",)
    assert set(result.ignored) == {"tier", "points"}
    assert result.unknown == 1 and result.refused == ("firstname",)
    contact = contact_get(result.contact_id)
    assert contact.fields.get("tier") in (None, "")
    assert "platinum" not in repr(result)


def test_the_sensitive_data_guard_drops_flagged_values_under_the_reject_policy(site, public):
    from tidings.contacts.actions import contact_settings_update
    from tidings.tests.principals import system

    contact_settings_update(guard_policy="reject", principal=system())
    result = actions.tracking_identify(site.pk, None, {"email": "card@visitor.example",
                                       "firstname": "4111 1111 1111 1111"}, ip=None, principal=public)  # fmt: skip
    assert result.flagged == ("firstname",) and "firstname" in result.refused
    assert result.set_fields == ("email",)
    assert "4111" not in repr(result)


def test_identify_needs_the_tracking_record_permission(site, in_acme):
    from tidings.accounts.permissions import Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    weak = Principal(workspace=workspace_by_id(site.workspace_id), user=None, permissions=frozenset({"consent:record"}),
                     via=Via.PUBLIC_KEY)  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.tracking_identify(site.pk, None, {"email": "x@visitor.example"}, ip=None, principal=weak)


def test_identify_of_a_site_of_another_workspace_is_not_found(site, public, make_user):
    from tidings.accounts.actions import workspace_create
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system
    from tidings.tracking.models import Site

    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("mallory@initech.example"))
    with use_workspace(initech):
        theirs = actions.site_create(name="Initech site", domains=["initech.example"], principal=system())
    with pytest.raises(Site.DoesNotExist):
        actions.tracking_identify(theirs.pk, None, {"email": "x@visitor.example"}, ip=None, principal=public)


# ==============================================================================================
# Consent through the tracker


def test_consent_without_a_device_gives_one_on_a_consent_site(site, public):
    result = _consent(site, None, public)
    assert result.profiled and result.visitor_id is not None and result.recorded == ("tracking",)


def test_a_withdrawal_takes_the_device_id_back(site, public, visitor):
    _consent(site, visitor, public)
    result = _consent(site, visitor, public, given=False)
    assert not result.profiled and result.visitor_id is None


def test_a_signal_is_recorded_once_and_outweighs_a_given_choice(site, public, visitor):
    kwargs = {"ip": None, "source_url": "https://shop.example/", "principal": public, "signal": "gpc"}
    first = actions.tracking_consent(site.pk, visitor.pk, {"tracking": True}, **kwargs)
    second = actions.tracking_consent(site.pk, visitor.pk, {"tracking": True}, **kwargs)
    assert first.recorded == ("tracking",) and second.recorded == () and not second.profiled


def test_a_signal_alone_is_recorded_as_a_withdrawal(site, public, visitor):
    from tidings.tracking import consent_adapter

    _consent(site, visitor, public)
    result = actions.tracking_consent(site.pk, visitor.pk, {}, signal="dnt", ip=None, source_url="", principal=public)
    assert result.recorded == ("tracking",) and result.visitor_id is None
    assert consent_adapter.visitor_decisions(visitor.pk) == {"tracking": False}


def test_legitimate_interest_profiles_until_the_visitor_objects(site, public, visitor):
    from tidings.tests.principals import system
    from tidings.tracking import consent_adapter

    site = actions.site_update(site.pk, consent_mode="legitimate_interest", principal=system())
    assert consent_adapter.may_profile(site, visitor.pk)
    actions.tracking_consent(site.pk, visitor.pk, {"tracking": False}, ip=None, source_url="", principal=public)
    assert not consent_adapter.may_profile(site, visitor.pk)
    assert not consent_adapter.may_profile(site, None, signal="dnt")


@pytest.mark.parametrize("choices", [{}, {"tracking": "yes"}, {"Bad Key!": True}, [("tracking", True)],
                                     {f"p{i}": True for i in range(30)}])  # fmt: skip
def test_bad_choices_are_refused_without_quoting_them(site, public, choices):
    with pytest.raises(ValidationError) as caught:
        actions.tracking_consent(site.pk, None, choices, ip=None, source_url="", principal=public)
    assert "Bad Key" not in str(caught.value) and "yes" not in str(caught.value)


# ==============================================================================================
# Click tokens


def test_a_click_token_names_its_contact_in_its_workspace_only(ada, acme, globex):
    from tidings.tenancy.context import use_workspace

    token = click_token(ada.id, workspace=acme)
    assert contact_for_click_token(token) == ada.id
    assert contact_for_click_token(token + "x") is None
    assert contact_for_click_token(token, max_age=-1) is None
    with use_workspace(globex):
        assert contact_for_click_token(token) is None


def test_a_click_joins_a_consenting_device_to_its_contact(site, public, visitor, ada, acme):
    _consent(site, visitor, public)
    assert actions.tracking_identify_click(site.pk, visitor.pk, click_token(ada.id, workspace=acme), principal=public)
    assert _visitor_contact(visitor.pk) == ada.id


def test_a_click_without_consent_joins_nothing(site, public, visitor, ada, acme):
    token = click_token(ada.id, workspace=acme)
    assert not actions.tracking_identify_click(site.pk, visitor.pk, token, principal=public)
    assert _visitor_contact(visitor.pk) is None


def test_a_joined_devices_past_visits_reach_behaviour_segments_at_the_next_refresh(site, public, visitor):
    """Identification marks the contact changed, so "visited a page" segments take its anonymous past at once."""
    from tidings.events import store
    from tidings.segments import actions as segments
    from tidings.segments.selectors import segment_member_ids
    from tidings.tests.principals import system
    from tidings.tracking.event_types import PAGE_HIT

    visitors = segments.segment_create(principal=system(), name="Pricing visitors", definition={
        "match": "all", "filters": [{"kind": "event", "event": "page.hit", "operator": "has",
                                     "data": {"url__contains": "pricing"}}]})  # fmt: skip
    segments.segments_refresh_changed(principal=system())  # the watermark passes everything written so far
    _consent(site, visitor, public)
    store.write(
        [{"type": PAGE_HIT, "visitor_id": visitor.pk, "data": {"site": site.pk, "url": "https://shop.example/pricing"}}]
    )
    segments.segments_refresh_changed(principal=system())
    assert set(segment_member_ids(visitors.pk)) == set()  # an anonymous device is nobody's yet

    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "nia@visitor.example"}, ip=None, principal=public)
    segments.segments_refresh_changed(principal=system())

    assert result.linked
    assert set(segment_member_ids(visitors.pk)) == {result.contact_id}


def test_identify_with_an_erased_persons_address_writes_and_links_nothing(site, public, visitor):
    """Decision 0030: the erased address is refused, and so is the rest of the call (no contact of her other values)."""
    from tidings.contacts.models import Contact
    from tidings.emails.actions.feedback import suppression_add
    from tidings.tests.principals import system

    suppression_add("zoe.erased@people.example", reason="erased", principal=system())
    _consent(site, visitor, public)
    before = Contact.objects.count()
    result = actions.tracking_identify(site.pk, visitor.pk, {"email": "Zoe.Erased@People.example",
                                       "firstname": "Zoe"}, ip="203.0.113.9", principal=public)  # fmt: skip
    assert result.contact_id is None and not result.created and not result.linked and result.set_fields == ()
    assert Contact.objects.count() == before
    assert _visitor_contact(visitor.pk) is None
