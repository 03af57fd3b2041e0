"""One helper lists the region databases (tidings.tenancy.context.region_aliases); one function names them."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from tidings.tenancy.context import region_aliases

pytestmark = pytest.mark.django_db(databases=[])

PACKAGE = Path(__file__).resolve().parents[2]
NAMER = PACKAGE / "conf.py"  # conf.region_alias, which DATABASES and region_db_alias both use


def _alias_literals(path: Path) -> list[int]:
    """Return the lines of path holding a region alias ("region_eu") or the prefix that builds one ("region_").

    Other words that happen to start so (boto3's "region_name") name no alias.
    """
    aliases = {f"region_{region}" for region in settings.TIDINGS_REGIONS}
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr) and node.values:
            node = node.values[0]
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (node.value in aliases or node.value == "region_")
        ):
            lines.append(node.lineno)
    return lines


def test_region_aliases_lists_every_region_database_of_the_settings():
    assert region_aliases() == sorted(alias for alias in settings.DATABASES if alias != "default")


def test_no_module_spells_a_region_alias_itself():
    spelled = {
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if "tests" not in path.parts and path != NAMER
        for line in _alias_literals(path)
    }

    assert spelled == set(), "use tidings.tenancy.context.region_aliases() or region_db_alias(region)"
