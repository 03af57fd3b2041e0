"""The committed OpenAPI document (docs/api/openapi.json) is the live one, so an API change shows in review."""

import difflib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings.api import openapi

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

MAX_DIFF_LINES = 80


def test_the_committed_openapi_document_matches_the_api():
    committed = openapi.COMMITTED.read_text(encoding="utf-8") if openapi.COMMITTED.exists() else ""
    live = openapi.render()

    if committed != live:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(), live.splitlines(), "docs/api/openapi.json (committed)", "live", lineterm=""
            )
        )
        shown = "\n".join(diff[:MAX_DIFF_LINES])
        if len(diff) > MAX_DIFF_LINES:
            shown += f"\n... {len(diff) - MAX_DIFF_LINES} more lines"
        pytest.fail(
            f"The native API changed but docs/api/openapi.json did not. If the change is intended, run\n"
            f"    {openapi.REGENERATE}\nand commit the file with it.\n\n{shown}",
            pytrace=False,
        )


def test_the_document_is_rendered_with_sorted_keys_and_a_final_newline():
    text = openapi.render()

    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_write_then_check_agree(tmp_path):
    target = tmp_path / "openapi.json"
    call_command("openapi", write=True, output=target, verbosity=0)

    out = io.StringIO()
    call_command("openapi", check=True, output=target, stdout=out)

    assert "up to date" in out.getvalue()


def test_check_names_the_command_that_regenerates_a_stale_file(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")

    with pytest.raises(CommandError, match="run `tidings openapi --write`"):
        call_command("openapi", check=True, output=stale, stdout=io.StringIO())
