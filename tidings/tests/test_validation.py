"""tidings.validation: every shape of ValidationError read as {field: [messages]}, for every surface."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from tidings.validation import error_fields, error_message, error_text, form_add_errors

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent


class NameForm(forms.Form):
    name = forms.CharField()


def test_messages_keyed_by_field_stay_by_field():
    error = ValidationError({"email": ["another contact already has this email"], "points": ["a whole number"]})
    assert error_fields(error) == {"email": ["another contact already has this email"], "points": ["a whole number"]}


def test_a_plain_error_goes_under_the_non_field_key():
    assert error_fields(ValidationError("This invitation has expired.")) == {
        NON_FIELD_ERRORS: ["This invitation has expired."]
    }


def test_a_list_of_plain_errors_goes_under_the_non_field_key():
    error = ValidationError([ValidationError("First."), ValidationError("Second.")])
    assert error_fields(error, non_field_key="request") == {"request": ["First.", "Second."]}


def test_the_non_field_key_is_renamed_to_the_surfaces_own():
    error = ValidationError({NON_FIELD_ERRORS: ["Both ids are the same."], "other": ["not found"]})
    assert error_fields(error, non_field_key="request") == {
        "request": ["Both ids are the same."],
        "other": ["not found"],
    }


def test_parameters_are_filled_in():
    error = ValidationError("at most %(limit)s tags", params={"limit": 100})
    assert error_fields(error) == {NON_FIELD_ERRORS: ["at most 100 tags"]}


def test_one_line_names_fields_and_leaves_the_rest_unnamed():
    error = ValidationError({NON_FIELD_ERRORS: ["Not now."], "email": ["taken", "too long"]})
    assert error_text(error) == "Not now.; email: taken too long"
    assert error_text(ValidationError("Not now.")) == "Not now."


def test_one_sentence_for_a_flash_message():
    assert error_message(ValidationError({"name": ["Too long."], "slug": ["Taken."]})) == "Too long. Taken."


def test_a_form_shows_each_message_beside_its_field_and_the_rest_at_the_top():
    form = NameForm({"name": "Acme"})
    assert form.is_valid()
    form_add_errors(form, ValidationError({"name": ["Taken."], "slug": ["Reserved."], NON_FIELD_ERRORS: ["Not now."]}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["Reserved.", "Not now."]


def test_a_form_takes_a_plain_error_at_the_top():
    form = NameForm({"name": "Acme"})
    assert form.is_valid()
    form_add_errors(form, ValidationError("Not now."))
    assert form.non_field_errors() == ["Not now."]
