"""Email authoring: values checked, versions frozen, text made from the HTML, tokens reported, variants."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails import content, selectors_authoring
from tidings.emails.actions import authoring
from tidings.emails.models import Email, EmailVersion, Send, SendStatus
from tidings.tests.principals import system

HTML = (
    "<html><body><h1>Spring news</h1><p>Hello {contactfield=firstname|there}, "
    "<a href='https://acme.example/s'>read on</a>.</p></body></html>"
)


@pytest.fixture
def welcome(in_acme):
    return authoring.email_create(principal=system(), name="Welcome", subject="Welcome aboard", html=HTML,
                                  from_address="news@acme.example", from_name="Acme")  # fmt: skip


def test_create_freezes_version_one_with_text_made_from_the_html(welcome):
    assert welcome.version == 1 and welcome.text == ""
    frozen = selectors_authoring.version_current(welcome)
    assert frozen.number == 1 and frozen.subject == "Welcome aboard"
    assert frozen.text == "Spring news\n\nHello {contactfield=firstname|there}, read on (https://acme.example/s)."


def test_a_content_change_is_a_new_version_and_a_setting_change_is_not(welcome):
    email = authoring.email_update(welcome.pk, principal=system(), name="Welcome (renamed)", published=True)
    assert email.version == 1
    email = authoring.email_update(welcome.pk, principal=system(), subject="Welcome, friend", text="Hi!")
    assert email.version == 2
    assert [v.number for v in selectors_authoring.versions(welcome.pk)] == [2, 1]
    assert selectors_authoring.version_current(email).text == "Hi!"
    assert EmailVersion.objects.get(email_id=welcome.pk, number=1).subject == "Welcome aboard"  # never edited


def test_version_current_only_reads_and_sending_freezes_an_unfrozen_email(welcome):
    from tidings.emails.actions.sending import _version_to_send

    EmailVersion.objects.filter(email_id=welcome.pk).delete()  # an email saved before versions were frozen
    assert selectors_authoring.version_current(welcome) is None
    assert not EmailVersion.objects.filter(email_id=welcome.pk).exists()  # the selector wrote nothing
    assert _version_to_send(welcome).number == 1
    assert selectors_authoring.version_current(welcome).pk == EmailVersion.objects.get(email_id=welcome.pk).pk


def test_builder_emails_render_mjml_to_inlined_html(in_acme):
    email = authoring.email_create(principal=system(), subject="News", editor="builder", theme="newsletter")
    assert email.source.startswith("<mjml>") and "<!doctype html>" in email.html.lower()
    assert 'style="' in email.html and "This month's news" in selectors_authoring.version_current(email).text
    with pytest.raises(ValidationError) as error:
        authoring.email_update(email.pk, principal=system(), source="<mjml><mj-body>")
    assert "source" in error.value.message_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 256}, "subject"),
        ({"subject": "Hi\r\nBcc: eve@evil.example"}, "subject"),
        ({"from_address": "not an address"}, "from_address"),
        ({"reply_to": "eve@"}, "reply_to"),
        ({"from_name": "A\nB"}, "from_name"),
        ({"kind": "spam"}, "kind"),
        ({"purpose_key": "no_such_purpose"}, "purpose_key"),
        ({"segment_ids": [999_999]}, "segment_ids"),
        ({"segment_ids": "1,2"}, "segment_ids"),
        ({"theme": "gothic"}, "theme"),
        ({"variant_weight": 101}, "variant_weight"),
        ({"published": "yes"}, "published"),
        ({"kind": "template", "segment_ids": []}, None),
    ],
)
def test_invalid_values_are_refused_by_attribute(in_acme, values, field):
    values = {"subject": "Hello", **values}
    if field is None:
        assert authoring.email_create(principal=system(), **values).pk
        return
    with pytest.raises(ValidationError) as error:
        authoring.email_create(principal=system(), **values)
    assert field in error.value.message_dict


def test_segments_belong_to_broadcasts_of_this_workspace(in_acme):
    from tidings.segments.actions import segment_create

    segment = segment_create(principal=system(), name="Readers")
    email = authoring.email_create(principal=system(), subject="Hi", kind="list", segment_ids=[segment.pk])
    assert email.segment_ids == [segment.pk]
    with pytest.raises(ValidationError) as error:
        authoring.email_update(email.pk, principal=system(), kind="template")
    assert "segment_ids" in error.value.message_dict


def test_unknown_tokens_and_aliases_are_reported_by_attribute_unless_confirmed(in_acme):
    values = {
        "subject": "Hi {contactfield=shoe_size|friend}",
        "html": "<p>{unsubscribe_link} {contactfield=firstname}</p>",
    }
    with pytest.raises(ValidationError) as error:
        authoring.email_create(principal=system(), **values)
    problems = error.value.message_dict
    assert "shoe_size" in problems["subject"][0] and "{unsubscribe_link}" in problems["html"][0]
    assert "firstname" not in " ".join(problems["html"])
    email = authoring.email_create(principal=system(), tokens_confirmed=True, **values)
    assert selectors_authoring.token_problems(email).keys() == {"subject", "html"}


def test_members_without_emails_edit_are_refused(in_acme, alice):
    from tidings.accounts.permissions import Principal

    viewer = Principal(workspace=in_acme, user=alice, permissions=frozenset({"emails:view"}))
    with pytest.raises(PermissionDenied):
        authoring.email_create(principal=viewer, subject="Hi")


def test_delete_takes_the_variants_and_is_refused_while_a_send_runs(welcome):
    variant = authoring.variant_create(welcome.pk, principal=system(), subject="Welcome!", variant_weight=50,
                                       ab_criterion="open_rate", ab_test_hours=4)  # fmt: skip
    send = Send.objects.create(email_id=variant.pk, version=1, status=SendStatus.RUNNING)
    with pytest.raises(ValidationError):
        authoring.email_delete(welcome.pk, principal=system())
    send.status = SendStatus.FINISHED
    send.save()
    authoring.email_delete(welcome.pk, principal=system())
    assert not Email.objects.filter(pk__in=[welcome.pk, variant.pk]).exists()
    assert not EmailVersion.objects.filter(email_id__in=[welcome.pk, variant.pk]).exists()


def test_variants_copy_the_parent_and_set_its_test(welcome):
    variant = authoring.variant_create(welcome.pk, principal=system(), subject="Welcome!", variant_weight=30,
                                       ab_criterion="click_rate", ab_test_hours=6)  # fmt: skip
    parent = Email.objects.get(pk=welcome.pk)
    assert (parent.ab_criterion, parent.ab_test_hours) == ("click_rate", 6)
    assert (variant.variant_of, variant.variant_weight, variant.html) == (welcome.pk, 30, welcome.html)
    assert selectors_authoring.variants_of(welcome.pk) == [variant]
    with pytest.raises(ValidationError):
        authoring.variant_create(variant.pk, principal=system())
    with pytest.raises(ValidationError):
        authoring.variant_create(welcome.pk, principal=system(), segment_ids=[])


def test_clone_is_an_unpublished_copy_at_version_one(welcome):
    authoring.email_update(welcome.pk, principal=system(), subject="Changed", published=True)
    clone = authoring.email_clone(welcome.pk, principal=system())
    assert (clone.name, clone.version, clone.published, clone.subject) == ("Welcome (copy)", 1, False, "Changed")


def test_actions_are_audited(welcome):
    from tidings.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="email.created", target_type="email", target_id=str(welcome.pk)).exists()


def test_other_workspaces_emails_do_not_exist(welcome, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        with pytest.raises(Email.DoesNotExist):
            authoring.email_update(welcome.pk, principal=system(), subject="Eve")
        with pytest.raises(Email.DoesNotExist):
            selectors_authoring.email_get(welcome.pk)


def test_preview_fills_a_contacts_fields_escaped(welcome, ada):
    values, owner = selectors_authoring.preview_values(ada.id)
    shown = selectors_authoring.preview(welcome, values={**values, "firstname": "<b>Ada</b>"}, owner=owner)
    assert "Hello &lt;b&gt;Ada&lt;/b&gt;," in shown["html"] and "Hello <b>Ada</b>," in shown["text"]
    assert "Hello there," in selectors_authoring.preview(welcome)["html"]


def test_html_to_text_keeps_structure():
    html = "<head><style>p{color:red}</style><title>x</title></head><p>a<br>b</p><ul><li>x</li><li>y</li></ul>"
    assert content.html_to_text(html + "<img alt='Logo'><script>alert(1)</script>") == "a\nb\n\n- x\n- y\n\nLogo"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(
        st.sampled_from(authoring.ATTRIBUTES + ("bogus",)),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.lists(st.integers(), max_size=3)),
        max_size=6,
    )
)
def test_any_values_are_saved_or_refused_by_attribute(in_acme, values):
    try:
        authoring.email_create(principal=system(), **values)
    except ValidationError as error:
        assert error.message_dict


def test_preview_renders_like_the_sender_with_the_owners_tokens_and_nothing_tracked(in_acme, alice):
    """The preview is the sender's own render (owner tokens, date formats, preheader), untracked."""
    from tidings.contacts import actions as contacts_actions

    alice.first_name = "Alys"
    alice.save(update_fields=["first_name"])
    email = authoring.email_create(
        principal=system(), name="Owner note", subject="From {ownerfield=firstname}",
        preheader="Hi {contactfield=firstname}",
        html='<html><body><p>{ownerfield=firstname} writes to {contactfield=firstname|you}.</p>'
             '<a href="https://shop.example/deal">Deal</a></body></html>',
    )  # fmt: skip
    contact = contacts_actions.contact_create({"email": "ody@people.example", "firstname": "Ody", "owner": alice.pk},
                                              principal=system())  # fmt: skip
    values, owner = selectors_authoring.preview_values(contact.id)
    shown = selectors_authoring.preview(email, values=values, owner=owner)
    assert shown["subject"] == "From Alys"
    assert "Alys writes to Ody." in shown["html"] and "Alys writes to Ody." in shown["text"]
    assert 'href="https://shop.example/deal"' in shown["html"]  # not a click redirect
    assert "Hi Ody" in shown["html"]  # the preheader, as the inbox shows it
    assert "/o/" not in shown["html"] and "<img" not in shown["html"]  # no open pixel
