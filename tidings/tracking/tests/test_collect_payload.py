"""Parsing of the collect payloads: what is accepted, and every malformed payload is a PayloadError naming no value."""

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tracking.collect import payload
from tidings.tracking.collect.payload import PayloadError, parse_body, parse_mautic, parse_pixel

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

KEY = "eu_abcdefghijklmnopqrstuvwx"
ID = "abcdefghijklmnop"


def body(**fields):
    return json.dumps({"k": KEY, "id": ID, "u": "https://shop.example/a?utm_source=news", **fields}).encode()


def test_one_pageview_is_parsed_with_its_url_whole_for_the_utm_tags():
    (hit,) = parse_body(body(r="https://search.example/?q=x", l="en-GB", tz="Europe/London", sc="1920x1080"))

    assert (hit.key, hit.id, hit.kind, hit.url) == (KEY, ID, "pageview", "https://shop.example/a?utm_source=news")
    assert (hit.language, hit.time_zone, hit.screen, hit.host) == (
        "en-GB",
        "Europe/London",
        "1920x1080",
        "shop.example",
    )


def test_a_batch_shares_its_key_and_may_not_name_two_sites():
    hits = [
        {"id": ID, "u": "https://shop.example/"},
        {"id": ID + "x", "t": "event", "n": "signup", "u": "https://shop.example/"},
    ]
    parsed = parse_body(json.dumps({"k": KEY, "hits": hits}).encode())
    assert [h.key for h in parsed] == [KEY, KEY]
    hits[1]["k"] = "eu_another"
    with pytest.raises(PayloadError, match="one site"):
        parse_body(json.dumps({"k": KEY, "hits": hits}).encode())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "short"}, "id"),
        ({"id": "has spaces in it!!"}, "id"),
        ({"u": "javascript:alert(1)"}, "u must be an http"),
        ({"u": "ftp://shop.example/"}, "u must be an http"),
        ({"u": 5}, "u must be a string"),
        ({"t": "purchase"}, "t must be"),
        ({"t": "event"}, "the event name"),
        ({"t": "event", "n": "bad name"}, "n has"),
        ({"gpc": 2}, "gpc"),
        ({"sc": "big"}, "sc"),
        ({"t": "consent", "c": {"tracking": "yes"}}, "c values"),
        ({"t": "identify", "f": {"email": ["a"]}}, "f values"),
    ],
)
def test_a_malformed_field_is_named_in_the_error(fields, message):
    with pytest.raises(PayloadError, match=message):
        parse_body(body(**fields))


def test_a_referrer_that_is_not_a_web_page_is_dropped_not_refused():
    (hit,) = parse_body(body(r="android-app://com.example.app"))
    assert hit.referrer == ""


def test_a_body_over_16_kib_or_with_too_many_hits_is_refused():
    with pytest.raises(PayloadError, match="larger than"):
        parse_body(b" " * (payload.MAX_BODY + 1))
    hits = [{"id": f"{ID}{i:03d}", "u": "https://shop.example/"} for i in range(51)]
    with pytest.raises(PayloadError, match="more than 50"):
        parse_body(json.dumps({"k": KEY, "hits": hits}).encode())


def test_the_pixel_takes_the_same_keys_but_no_identify():
    hit = parse_pixel(f"k={KEY}&id={ID}&u=https%3A%2F%2Fshop.example%2F&gpc=1")
    assert hit.gpc and hit.url == "https://shop.example/"
    with pytest.raises(PayloadError):
        parse_pixel(f"k={KEY}&id={ID}&t=identify")


def test_mautic_parameters_become_a_hit_with_fields_and_utm_tags():
    hit = parse_mautic({
        "page_url": "https://shop.example/", "page_title": "Shop", "email": "ada@analytical.example",
        "utm_source": "newsletter", "do_not_track": "unspecified", "mautic_device_id": "", "resolution": "800x600",
    })  # fmt: skip
    assert hit.key == "" and len(hit.id) >= 16 and not hit.dnt
    assert hit.fields == {"email": "ada@analytical.example"}
    assert hit.utm == ("newsletter", "", "")


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SECRET = "Zq9-secret-value-Xy"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(
        st.sampled_from(["k", "id", "t", "u", "r", "n", "p", "f", "c", "v", "gpc", "sc", "hits"]), VALUES
    )
)
def test_any_json_parses_or_fails_with_a_payload_error_naming_no_value(data):
    data = {key: (SECRET if isinstance(value, str) and value else value) for key, value in data.items()}
    try:
        parse_body(json.dumps(data).encode())
    except PayloadError as error:
        assert SECRET not in str(error)


@settings(max_examples=150)
@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_or_fail_with_a_payload_error(raw):
    with contextlib.suppress(PayloadError):
        parse_body(raw)


@settings(max_examples=150)
@given(query=st.text(max_size=300))
def test_any_query_string_parses_or_fails_with_a_payload_error(query):
    for parse in (parse_pixel, lambda q: parse_mautic(payload.query_params(q))):
        with contextlib.suppress(PayloadError):
            parse(query)
