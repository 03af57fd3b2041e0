"""The describer registry: each domain's sentences for its event types, names resolved once per page."""

import pytest

from tidings.events import descriptions
from tidings.events.registry import label

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

CODE = 5  # contact.tag_added, registered by contacts


@pytest.fixture
def registry(monkeypatch):
    """An empty describer registry for the test (contacts' own registrations are restored after)."""
    monkeypatch.setattr(descriptions, "_DESCRIBERS", {})
    monkeypatch.setattr(descriptions, "_LOADERS", {})
    return descriptions


def test_a_type_without_a_describer_reads_as_its_label(registry):
    assert registry.describe([(CODE, {"tag_id": 1})]) == [descriptions.Description(label(CODE), "info")]


def test_a_describer_gets_the_names_of_its_ids(registry):
    registry.register_names("tag_id", lambda ids: {i: f"tag{i}" for i in ids})
    registry.register_description(CODE, lambda data, names: f"Tag {names['tag_id']} added", icon="tags")

    assert registry.describe([(CODE, {"tag_id": 7})]) == [descriptions.Description("Tag tag7 added", "tags")]


def test_names_are_loaded_once_for_the_whole_page(registry):
    calls = []
    registry.register_names("tag_id", lambda ids: calls.append(set(ids)) or {i: "x" for i in ids})
    registry.register_description(CODE, lambda data, names: names["tag_id"])

    registry.describe([(CODE, {"tag_id": 1}), (CODE, {"tag_id": 2}), (CODE, {"tag_id": 1})])

    assert calls == [{1, 2}]


def test_an_id_without_a_name_is_left_out_of_the_names(registry):
    registry.register_names("tag_id", lambda ids: {})
    registry.register_description(CODE, lambda data, names: names.get("tag_id", f"#{data['tag_id']}"))

    assert registry.describe([(CODE, {"tag_id": 9})])[0].text == "#9"


def test_a_describer_failing_on_old_data_falls_back_to_the_label(registry):
    registry.register_description(CODE, lambda data, names: f"Tag #{data['tag_id']} added")

    assert registry.describe([(CODE, {})])[0].text == label(CODE)


def test_an_unregistered_code_reads_as_its_number(registry):
    assert registry.describe([(9999, {})])[0].text == "9999"
