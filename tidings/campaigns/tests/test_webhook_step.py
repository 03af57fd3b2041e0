"""The webhook step: a transfer through the privacy centre, POSTed to a loopback receiver, signed, retried, once.

The receiver is a real HTTP server on 127.0.0.1; TIDINGS_CAMPAIGN_WEBHOOK_ALLOW_PRIVATE lets the step call
it (in production loopback and private addresses are refused, tested on the guard itself).
"""

from __future__ import annotations

import http.server
import json
import logging
import threading

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.campaigns.tests.conftest import add, graph, later, make_contact, publish, run, runs
from tidings.campaigns.tests.conftest import system as system_principal

EMAIL, NAME = "user.contact.email", "user.name"


class Receiver:
    """A loopback HTTP server answering the statuses queued in `answers` (then 200), keeping what it got."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes, dict]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((json.loads(body), body, dict(self.headers)))
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.TIDINGS_CAMPAIGN_WEBHOOK_ALLOW_PRIVATE = True
    settings.TIDINGS_CAMPAIGN_WEBHOOK_TIMEOUT_SECONDS = 2
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def hooks(in_acme):
    from tidings.privacy_centre.actions import recipient_create

    return recipient_create(principal=system_principal(), name="Hooks Inc", kind="webhook", country="Germany",
                            safeguard="none_needed", purposes=["marketing_email"],
                            categories=[EMAIL, NAME])  # fmt: skip


def _step(recipient, url, **extra):
    return {"id": 1, "kind": "call_webhook", "url": url, "recipient_id": recipient.pk, "purpose": "marketing_email",
            "fields": ["email", "firstname"], "next": 2, **extra}  # fmt: skip


TAG = {"id": 2, "kind": "add_tags", "tags": ["hooked"]}


# ---------------------------------------------------------------------------------------------
# The guard and the graph


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example/in", ""),
        ("https://93.184.215.14/in", ""),
        ("http://hooks.example/in", "not_https"),
        ("https://127.0.0.1/in", "private_address"),
        ("https://[::1]/in", "private_address"),
        ("https://10.1.2.3/in", "private_address"),
        ("https://192.168.0.9/in", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "private_address"),
        ("https://[::ffff:127.0.0.1]/in", "private_address"),
        ("https://localhost/in", "private_address"),
        ("https://db.internal/in", "private_address"),
        ("https://user:pw@hooks.example/in", "invalid_url"),
        ("file:///etc/passwd", "not_https"),
        ("https://hooks.example:99999/in", "invalid_url"),
    ],
)
def test_the_guard_refuses_what_is_not_a_public_https_address(url, problem):
    from tidings.campaigns.webhooks import url_problem

    assert url_problem(url, resolve=False) == problem


def test_a_name_resolving_to_a_private_address_is_refused_when_called(monkeypatch):
    import socket

    from tidings.campaigns import webhooks

    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.5", 443))])
    assert webhooks.url_problem("https://hooks.example/in", resolve=True) == "private_address"
    reply = webhooks.post("https://hooks.example/in", {}, secret=b"k")
    assert (reply.ok, reply.retry, reply.reason) == (False, False, "webhook_private_address")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), st.from_regex(r"https?://[^\s]{0,60}", fullmatch=True), st.none(),
                 st.integers()))  # fmt: skip
def test_the_guard_answers_a_code_for_any_input(raw):
    from tidings.campaigns.webhooks import url_problem

    assert url_problem(raw, resolve=False) in ("", "invalid_url", "not_https", "private_address")


def test_the_graph_wants_an_https_public_url_a_registered_recipient_and_fields():
    from tidings.campaigns import graph as graphs

    raw = graph({"id": 1, "kind": "call_webhook", "url": "http://127.0.0.1/x", "recipient_id": 4, "fields": []})
    with pytest.raises(ValidationError) as caught:
        graphs.check(raw, recipients=lambda ids: set())
    assert set(caught.value.message_dict) == {"steps.0.url", "steps.0.purpose", "steps.0.fields"}
    raw["steps"][0].update(url="https://hooks.example/in", purpose="marketing_email", fields=["email"])
    with pytest.raises(ValidationError) as caught:
        graphs.check(raw, recipients=lambda ids: set())
    assert caught.value.message_dict == {"steps.0.recipient_id": ["an active recipient in this workspace's privacy "
                                                                  "register"]}  # fmt: skip
    clean = graphs.check(raw)
    assert graphs.check(clean) == clean


# ---------------------------------------------------------------------------------------------
# The engine


def test_allowed_contacts_chosen_fields_are_posted_once_signed_and_logged_as_a_transfer(in_acme, hooks, receiver):
    from tidings.campaigns.webhooks import SIGNATURE_HEADER, signature, step_secret
    from tidings.privacy_centre.models import Transfer
    from tidings.tenancy.context import require_workspace

    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada", "city": "London"})
    bea = make_contact({"email": "bea@nowhere.example", "firstname": "Bea"}, consent=False)
    campaign = publish(_step(hooks, receiver.url), TAG)
    add(campaign, ada, bea)
    run()
    assert len(receiver.requests) == 1
    payload, body, headers = receiver.requests[0]
    assert payload == {"campaign_id": campaign.pk, "step_id": 1,
                       "contacts": [{"id": ada.id, "email": "ada@analytical.example", "firstname": "Ada"}]}  # fmt: skip
    assert headers[SIGNATURE_HEADER] == signature(step_secret(require_workspace().id, campaign.pk, 1), body)
    assert runs(campaign, ada) == [(1, "done", "", ""), (2, "done", "", "")]
    assert runs(campaign, bea) == [(1, "skipped", "", "not_allowed"), (2, "done", "", "")]
    transfer = Transfer.objects.get()
    assert (transfer.recipient_id, transfer.contacts, transfer.refused) == (hooks.pk, 1, 1)
    assert sorted(transfer.categories) == sorted([EMAIL, NAME])
    run()
    assert len(receiver.requests) == 1


def test_a_5xx_is_retried_with_backoff_and_its_reason_kept_then_succeeds(readers, hooks, receiver):
    from tidings.campaigns.models import StepRun

    ada, _ = readers
    receiver.answers = [503, 502]
    campaign = publish(_step(hooks, receiver.url), TAG)
    add(campaign, ada)
    run()
    assert runs(campaign, ada) == [(1, "pending", "retry", "webhook_5xx")]
    first = StepRun.objects.get().due_at
    with later(seconds=31):
        run()
    second = StepRun.objects.get().due_at
    assert (second - first).total_seconds() >= 55  # the wait doubled
    with later(seconds=100):
        run()
    assert len(receiver.requests) == 3
    assert runs(campaign, ada) == [(1, "done", "", ""), (2, "done", "", "")]


def test_a_receiver_that_keeps_failing_is_skipped_with_its_reason_and_nothing_personal_is_logged(
    readers, hooks, receiver, caplog
):
    ada, _ = readers
    receiver.answers = [500] * 10
    campaign = publish(_step(hooks, receiver.url), TAG)
    add(campaign, ada)
    caplog.set_level(logging.DEBUG)
    for minutes in (0, 1, 3, 7, 15):
        with later(minutes=minutes, seconds=5):
            run()
    assert len(receiver.requests) == 4
    assert runs(campaign, ada) == [(1, "skipped", "", "webhook_5xx"), (2, "done", "", "")]
    for value in ("ada@analytical.example", "Ada", "127.0.0.1"):
        assert value not in caplog.text


def test_a_redirect_is_not_followed(readers, hooks, receiver):
    ada, _ = readers
    receiver.answers = [302]
    campaign = publish(_step(hooks, receiver.url), TAG)
    add(campaign, ada)
    run()
    assert len(receiver.requests) == 1
    assert runs(campaign, ada)[0] == (1, "skipped", "", "webhook_redirect")


def test_an_unreachable_receiver_is_retried_as_a_timeout_is(readers, hooks, receiver):
    ada, _ = readers
    campaign = publish(_step(hooks, "http://127.0.0.1:1/hook"), TAG)  # nothing listens on port 1
    add(campaign, ada)
    run()
    assert runs(campaign, ada) == [(1, "pending", "retry", "webhook_unreachable")]


def test_a_crash_after_the_post_never_posts_again(readers, hooks, receiver):
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash

    ada, _ = readers
    campaign = publish(_step(hooks, receiver.url), TAG)
    add(campaign, ada)
    with pytest.raises(SimulatedCrash):
        run(crash_after="send")
    lease_expire_now(principal=system_principal())
    run()
    assert len(receiver.requests) == 1
    assert runs(campaign, ada) == [(1, "skipped", "", "in_doubt"), (2, "done", "", "")]


def test_a_private_address_is_refused_in_production(readers, hooks, receiver, settings):
    ada, _ = readers
    campaign = publish(_step(hooks, receiver.url), TAG)
    settings.TIDINGS_CAMPAIGN_WEBHOOK_ALLOW_PRIVATE = False
    add(campaign, ada)
    run()
    assert receiver.requests == []
    assert runs(campaign, ada)[0] == (1, "skipped", "", "webhook_not_https")
