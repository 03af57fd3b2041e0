"""Transient refusals (SMTP 4xx, no connection) are retried with backoff, never sent twice; 5xx fails at once."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tidings.emails.tests.conftest import make_contact, make_email, make_segment, run, system

GRACE = "grace@navy.example"


def _start(mail):
    from tidings.emails.actions.sending import send_start

    return send_start(mail.pk, principal=system())


def _retry(send, *, later: datetime.timedelta = datetime.timedelta(0)):
    """Move the deferred messages' time forward by `later`, then run the retry as the task would."""
    from tidings.emails.actions.sending import send_retry_deferred
    from tidings.emails.models import Delivery

    for delivery in Delivery.objects.filter(send_id=send.pk, retry_at__isnull=False):
        Delivery.objects.filter(pk=delivery.pk).update(retry_at=delivery.retry_at - later)
    return send_retry_deferred(send.pk, principal=system())


def test_a_4xx_is_deferred_and_retried_after_its_backoff_once(newsletter, smtp):
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import RETRY_BACKOFF

    smtp.defer[GRACE] = 1
    send = _start(newsletter)
    run(send)
    grace = Delivery.objects.get(send_id=send.pk, status="deferred")
    assert (grace.reason, grace.attempts) == ("smtp_451", 1)
    assert grace.retry_at > timezone.now() + RETRY_BACKOFF[0] - datetime.timedelta(minutes=1)
    assert Send.objects.get(pk=send.pk).counts == {"sent": 1, "deferred": 1}
    assert _retry(send) == {}  # not due yet
    assert _retry(send, later=RETRY_BACKOFF[0]) == {"sent": 1}
    assert _retry(send, later=RETRY_BACKOFF[1]) == {}  # nothing left: never twice
    assert len(smtp.to(GRACE)) == 1 and len(smtp.messages) == 2
    grace.refresh_from_db()
    assert (grace.status, grace.retry_at) == ("sent", None)
    assert Send.objects.get(pk=send.pk).counts == {"sent": 2, "deferred": 0}


def test_three_transient_refusals_fail_with_their_reason(newsletter, smtp):
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import RETRY_BACKOFF

    smtp.defer[GRACE] = 5
    send = _start(newsletter)
    run(send)
    assert _retry(send, later=RETRY_BACKOFF[0]) == {"deferred": 1}
    assert _retry(send, later=RETRY_BACKOFF[1]) == {"failed": 1}
    grace = Delivery.objects.get(send_id=send.pk, contact_id=grace_id(send))
    assert (grace.status, grace.reason, grace.attempts, grace.retry_at) == ("failed", "smtp_451", 3, None)
    assert not smtp.to(GRACE)
    assert Send.objects.get(pk=send.pk).counts == {"sent": 1, "deferred": 0, "failed": 1}


def grace_id(send) -> int:
    from tidings.emails.models import Delivery

    return next(d.contact_id for d in Delivery.objects.filter(send_id=send.pk) if d.status != "sent")


def test_a_5xx_fails_at_once_and_is_never_retried(newsletter, smtp):
    from tidings.emails.models import Delivery

    smtp.refuse.add(GRACE)
    send = _start(newsletter)
    run(send)
    assert Delivery.objects.get(send_id=send.pk, status="failed").retry_at is None
    assert _retry(send, later=datetime.timedelta(days=1)) == {}


def test_no_connection_is_deferred_and_a_contact_who_withdrew_meanwhile_is_skipped(in_acme, smtp, settings):
    from tidings.consent.actions import consent_record
    from tidings.emails.models import Delivery
    from tidings.emails.sender import RETRY_BACKOFF

    people = [make_contact({"email": f"reader{i}@example.example"}) for i in range(2)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # nothing listens: no transaction begins
    send = _start(mail)
    run(send)
    assert set(Delivery.objects.filter(send_id=send.pk).values_list("status", "reason")) == {("deferred", "connect")}
    consent_record(purpose="marketing_email", given=False, method="form", contact_id=people[1].id, principal=system())
    settings.EMAIL_PORT = port
    counts = _retry(send, later=RETRY_BACKOFF[0])
    assert counts["sent"] == 1 and sum(n for key, n in counts.items() if key.startswith("skipped:")) == 1
    assert [str(m["To"]) for m in smtp.parsed()] == ["reader0@example.example"]
    assert Delivery.objects.get(send_id=send.pk, contact_id=people[1].id).status == "skipped"


def test_a_retry_that_died_is_settled_from_its_journal_and_not_sent_again(newsletter, smtp):
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import RETRY_BACKOFF, Journal

    smtp.defer[GRACE] = 1
    send = _start(newsletter)
    run(send)
    grace = Delivery.objects.get(send_id=send.pk, status="deferred")
    # A retry claimed it, the server took it, and the worker died before recording it.
    Delivery.objects.filter(pk=grace.pk).update(status="claimed", retry_at=timezone.now() - RETRY_BACKOFF[0])
    Send.objects.filter(pk=send.pk).update(lease_until=None)
    journal = Journal(send.workspace_id, send.pk)
    journal.open()
    journal.write(f"a {grace.contact_id}")
    journal.write(f"s {grace.contact_id} 1700000000.000 {'00' * 32} <x@acme.example>")
    journal.close()
    from tidings.emails.selectors_sending import sends_with_deferred_due

    assert (send.workspace_id, send.pk) in sends_with_deferred_due()  # the sweep finds the dead retry
    assert _retry(send) == {}
    grace.refresh_from_db()
    assert (grace.status, grace.retry_at) == ("sent", None)
    assert len(smtp.to(GRACE)) == 0  # only the journal's acceptance: nothing sent again


def test_the_periodic_job_queues_a_retry_per_send_due(newsletter, smtp):
    from tidings.emails.tasks import retry_deferred_deliveries

    smtp.defer[GRACE] = 1
    send = _start(newsletter)
    run(send)
    assert retry_deferred_deliveries.call() == 0  # nothing due yet
    from tidings.emails.models import Delivery

    Delivery.objects.filter(send_id=send.pk, status="deferred").update(retry_at=timezone.now())
    assert retry_deferred_deliveries.call() == 1
