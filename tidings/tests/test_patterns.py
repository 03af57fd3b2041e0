"""User-written regular expressions run on RE2: linear time, on forms and on SQLite's REGEXP."""

from django.db import connections

from tidings.conf import region_alias
from tidings.patterns import PatternError, full_match, linear, sqlite_regexp


def test_re2_refuses_what_needs_backtracking_without_echoing_the_pattern():
    for pattern in (r"(a)\1", "a(?=b)", "(?<!x)y", "(["):
        try:
            linear(pattern)
        except PatternError as error:
            assert pattern not in str(error)
        else:  # pragma: no cover
            raise AssertionError("refused pattern compiled")


def test_a_pathological_pattern_finishes():
    assert not full_match("(a|aa)+", "a" * 100_000 + "b")
    assert sqlite_regexp("(x+x+)+y", "x" * 100_000) is False
    assert sqlite_regexp(None, "x") is None and sqlite_regexp("x", None) is None
    assert sqlite_regexp("(?i)^AB", "abc") is True and sqlite_regexp("1", 21) is True


def test_sqlite_connections_use_re2_for_regexp(in_acme):
    connection = connections[region_alias("eu")]
    if connection.vendor != "sqlite":
        return  # PostgreSQL matches with its own engine
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s REGEXP %s", ["a" * 50_000 + "b", "(a|aa)+$"])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT 'aa' REGEXP %s", [r"(a)\1"])  # RE2 cannot read it: matches nothing
        assert cursor.fetchone()[0] == 0
