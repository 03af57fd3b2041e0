"""The client's address: X-Forwarded-For only as far as TIDINGS_BEHIND_PROXY trusts it, the same for every consumer."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tidings import conf
from tidings.tenancy.network import client_ip

PROXY = "10.0.0.2"  # the reverse proxy's own address, as Tidings sees it
CLIENT = "198.51.100.7"
SPOOFED = "203.0.113.66"


def request_from(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_x_forwarded_for_is_ignored_by_default(settings):
    assert settings.TIDINGS_BEHIND_PROXY == 0
    assert client_ip(request_from(remote=CLIENT, forwarded=SPOOFED)) == CLIENT


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TIDINGS_BEHIND_PROXY = 1
    assert client_ip(request_from(forwarded=CLIENT)) == CLIENT


def test_behind_one_proxy_hops_the_client_wrote_itself_are_ignored(settings):
    settings.TIDINGS_BEHIND_PROXY = 1
    assert client_ip(request_from(forwarded=f"{SPOOFED}, 192.0.2.1, {CLIENT}")) == CLIENT


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.TIDINGS_BEHIND_PROXY = 2
    assert client_ip(request_from(forwarded=f"{SPOOFED}, {CLIENT}, 10.0.0.1")) == CLIENT


def test_with_fewer_entries_than_trusted_proxies_the_leftmost_is_taken(settings):
    settings.TIDINGS_BEHIND_PROXY = 2
    assert client_ip(request_from(forwarded=CLIENT)) == CLIENT


def test_behind_a_proxy_without_the_header_the_peer_address_is_used(settings):
    settings.TIDINGS_BEHIND_PROXY = 1
    assert client_ip(request_from(remote=CLIENT)) == CLIENT


def test_an_entry_that_is_not_an_address_falls_back_to_the_peer(settings):
    settings.TIDINGS_BEHIND_PROXY = 1
    assert client_ip(request_from(forwarded="unknown")) == PROXY


@pytest.mark.parametrize(
    ("entry", "expected"),
    [("198.51.100.7:51234", "198.51.100.7"), ("[2001:db8::7]:443", "2001:db8::7"), ("2001:DB8::7", "2001:db8::7")],
)
def test_ports_and_brackets_that_proxies_write_are_removed(settings, entry, expected):
    settings.TIDINGS_BEHIND_PROXY = 1
    assert client_ip(request_from(forwarded=entry)) == expected


@pytest.mark.parametrize(("value", "hops"), [(None, 0), ("false", 0), ("0", 0), ("true", 1), ("1", 1), ("3", 3)])
def test_the_setting_reads_false_true_or_a_number_of_proxies(monkeypatch, value, hops):
    if value is None:
        monkeypatch.delenv("TIDINGS_BEHIND_PROXY", raising=False)
    else:
        monkeypatch.setenv("TIDINGS_BEHIND_PROXY", value)
    assert conf.proxy_hops() == hops


@pytest.mark.parametrize("value", ["maybe", "-1", "²", "99"])
def test_a_setting_that_is_no_number_of_proxies_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("TIDINGS_BEHIND_PROXY", value)
    with pytest.raises(RuntimeError, match="TIDINGS_BEHIND_PROXY"):
        conf.proxy_hops()


# Every consumer asks the same helper.


def test_the_audit_log_truncates_the_forwarded_client_address_when_trusted(settings, db):
    from tidings.audit.actions import audit_record

    settings.TIDINGS_BEHIND_PROXY = 1
    entry = audit_record("test.probe", request=request_from(forwarded=f"{SPOOFED}, {CLIENT}"))
    assert entry.ip_prefix == "198.51.100.0/24"


def test_the_audit_log_ignores_x_forwarded_for_by_default(db):
    from tidings.audit.actions import audit_record

    entry = audit_record("test.probe", request=request_from(remote=CLIENT, forwarded=SPOOFED))
    assert entry.ip_prefix == "198.51.100.0/24"


def test_anonymous_api_rate_limits_count_per_forwarded_client_when_trusted(settings):
    from tidings.api.auth import rate_key

    settings.TIDINGS_BEHIND_PROXY = 1
    assert rate_key(None, request_from(forwarded=f"{SPOOFED}, {CLIENT}")) == f"ip:{CLIENT}"


def test_sign_in_lockout_counts_per_forwarded_client_when_trusted(settings):
    from axes.helpers import get_client_ip_address

    settings.TIDINGS_BEHIND_PROXY = 1
    assert get_client_ip_address(request_from(forwarded=f"{SPOOFED}, {CLIENT}")) == CLIENT


def test_sign_in_lockout_ignores_x_forwarded_for_by_default():
    from axes.helpers import get_client_ip_address

    assert get_client_ip_address(request_from(remote=CLIENT, forwarded=SPOOFED)) == CLIENT
