"""A form's definition is checked on every save, with errors keyed by what is wrong; actions check permissions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.forms import actions
from tidings.forms.tests.conftest import newsletter_fields
from tidings.tests.principals import system


def _errors(**values) -> dict:
    values.setdefault("name", "Probe")
    with pytest.raises(ValidationError) as caught:
        actions.form_create(principal=system(), **values)
    return caught.value.message_dict


def test_a_form_gets_an_alias_field_ids_and_clean_html(in_acme):
    html = {"kind": "freehtml", "html": '<p onclick="x()">Hi<script>alert(1)</script></p>'}
    form = actions.form_create(name="Spring Fair", principal=system(), fields=[*newsletter_fields(), html])
    assert form.alias == "spring-fair"
    assert [f["id"] for f in form.fields] == [1, 2, 3, 4, 5] and form.next_field_id == 6
    assert form.fields[-1]["html"] == "<p>Hi</p>"
    assert form.fields[2]["options"] == [{"value": "maths", "label": "maths"}, {"value": "poetry", "label": "Poetry"}]


def test_field_errors_are_keyed_and_never_repeat_the_value(in_acme):
    errors = _errors(fields=[
        {"kind": "rocket", "label": "x"},
        {"kind": "text", "label": "Email", "maps_to": "no_such_field_zz"},
        {"kind": "select", "label": "Pick", "options": []},
        {"kind": "text", "label": "Code", "rules": {"pattern": "([unclosed"}},
        {"kind": "consent", "label": "OK?", "purpose": "no_such_purpose_zz"},
        {"kind": "text", "label": "Dup", "alias": "dup"}, {"kind": "text", "label": "Dup", "alias": "dup"},
    ])  # fmt: skip
    assert {"fields.0.kind", "fields.1.maps_to", "fields.2.options", "fields.3.rules.pattern", "fields.4.purpose",
            "fields.6.alias"} <= set(errors)  # fmt: skip
    text = " ".join(" ".join(m) for m in errors.values())
    assert "no_such_field_zz" not in text and "no_such_purpose_zz" not in text and "unclosed" not in text


def test_actions_are_checked(in_acme):
    errors = _errors(fields=newsletter_fields(), actions=[
        {"kind": "segment_add", "segment_id": 987654}, {"kind": "points", "delta": 0}, {"kind": "remove_dnc"},
        {"kind": "notify", "member_ids": [987654]}, {"kind": "tags_add", "tags": []}])  # fmt: skip
    expected = {"actions.0.segment_id", "actions.1.delta", "actions.3.member_ids", "actions.4.tags", "actions"}
    assert expected <= set(errors)
    no_email = _errors(fields=[{"kind": "consent", "label": "OK", "purpose": "marketing_email"}],
                       actions=[{"kind": "double_opt_in"}])  # fmt: skip
    assert "actions.0.kind" in no_email


def test_the_alias_is_unique_in_the_workspace(in_acme):
    actions.form_create(name="Once", alias="once", principal=system())
    assert "alias" in _errors(name="Twice", alias="once")


@pytest.mark.parametrize("role", ["analyst"])
def test_an_analyst_may_not_build_forms_nor_read_results(in_acme, role):
    from tidings.accounts.permissions import Principal, Via, role_permissions
    from tidings.tenancy.selectors import workspace_by_id

    analyst = Principal(workspace=workspace_by_id(in_acme.id), user=None, permissions=role_permissions(role),
                        via=Via.MEMBER)  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.form_create(name="No", principal=analyst)
    form = actions.form_create(name="Yes", principal=system())
    with pytest.raises(PermissionDenied):
        actions.form_update(form.pk, name="No", principal=analyst)
    with pytest.raises(PermissionDenied):
        actions.submissions_export(form.pk, principal=analyst)
    with pytest.raises(PermissionDenied):
        actions.form_delete(form.pk, principal=analyst)


def test_marketers_see_results_and_analysts_do_not():
    from tidings.accounts.permissions import PUBLIC_DOOR_ONLY, Role, role_permissions

    assert "forms:results" in role_permissions(Role.MARKETER)
    assert "forms:results" not in role_permissions(Role.ANALYST)
    assert "forms:submit" in PUBLIC_DOOR_ONLY and "forms:submit" not in role_permissions(Role.OWNER)


def test_a_backtracking_pattern_is_matched_in_linear_time_and_back_references_are_refused(in_acme):
    """RE2 (tidings.patterns): Python's re would take for ever on "(a|aa)+$" against a long crafted answer."""
    from tidings.forms.answers import read_answers

    form = actions.form_create(name="Codes", principal=system(),
                               fields=[{"kind": "text", "label": "Code", "rules": {"pattern": "(a|aa)+"}}])  # fmt: skip
    alias = form.fields[0]["alias"]
    assert read_answers(form.fields, {alias: ["a" * 400 + "b"]}, set()).errors[alias]
    assert not read_answers(form.fields, {alias: ["a" * 400]}, set()).errors
    errors = _errors(fields=[{"kind": "text", "label": "Twice", "rules": {"pattern": r"(a)\1"}},
                             {"kind": "text", "label": "Ahead", "rules": {"pattern": "a(?=b)"}}])  # fmt: skip
    assert {"fields.0.rules.pattern", "fields.1.rules.pattern"} <= set(errors)
