"""The sending engine: walk a broadcast's recipients in batches and send each the message once.

One batch, in the send's workspace (decision 0023):

1. the next recipients after Send.checkpoint_contact_id, in contact-id order (the union of the email's
   segments), less those the send already has a Delivery row for;
2. eligibility for the whole batch (tidings.emails.eligibility): the skipped get a Delivery row with their
   reason, the others a row in status "claimed" — committed before any message leaves, and unique per
   (send, contact), so no later run can claim them again;
3. the messages go out through several SMTP connections in parallel (each reused for the whole send),
   personalised from the version prepared once; around each SMTP transaction the worker appends to the
   send's journal, a local append-only file: "a <contact>" before, "c <contact>" just before the data and its
   final "." leave (the server takes nothing before that line), "s <contact> <time> <hash> <message-id>" once the server
   accepted it, "f <contact> <reason>" when it refused it. A write() to a file outlives the process that
   made it, so SIGKILL loses nothing the journal was told;
4. the batch's outcome is committed in one transaction (deliveries sent/failed, email.sent events, counts,
   the checkpoint), then the journal is emptied.

A run that starts on a send with claimed rows (its previous runner died) replays the journal first:
accepted -> sent, refused -> failed, data ended with no answer ("c") -> in_doubt (never sent again), not
attempted or stopped before the data's end ("a") -> the claim is dropped and the walk sends it. When the
journal cannot be trusted to be complete (another machine wrote it, or the machine restarted since: the
boot id in its header differs, so the kernel's unwritten pages may be lost) every claimed row without an
acceptance becomes in_doubt.

A/B test (decision 0026): a send whose ab_versions names the parent and its variants gives each recipient
an arm from a hash of (send id, contact id) — the parent and each variant get their weight in percent of
the audience, the rest are held (a Delivery row in status "held", which the walk passes like any other).
The Delivery row's email_id is the arm sent, so a resumed run never splits anyone again. The winner's
send (held_from_send_id) walks the held rows of the test send instead of the segments.

Transient refusals: a server that answers 4xx (to MAIL, RCPT or DATA: it did not take the message) or
that cannot be reached before the transaction begins leaves the delivery "deferred" ("d <contact> <reason>"
in the journal), to be tried again after RETRY_BACKOFF (retries.retry_deferred, queued every minute by
emails.tasks.retry_deferred_deliveries); after MAX_ATTEMPTS it fails with its reason. A deferred row is
claimed again before each retry, like any message, so a retry never sends twice. 5xx stays a hard failure;
a connection lost mid-message stays in doubt (the server may have taken it).

Pause, resume and cancel are read between batches. A runner holds a lease on the send, renewed every
batch; a lapsed lease on a running send is how the periodic job knows its worker died.

Lanes (decision 0036): a broadcast started with TIDINGS_EMAIL_SEND_LANES = n > 1 is sent by n runners at
once (one task each, so n worker processes use n cores), lane k walking the recipients whose contact id
% n == k. Each lane has its own lease, checkpoint and journal in Send.lanes; a dead lane is recovered from
its own journal by the next runner of that lane only; the send finishes when the last lane does. The
runners' leases, checkpoints and counts, in one lane or several, are kept by tidings.emails.lanes.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import queue
import smtplib
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils import timezone

from tidings.emails import eligibility, headers, lanes, links, message, selectors, selectors_sending, smtp
from tidings.emails.event_types import EMAIL_FAILED, EMAIL_SENT
from tidings.emails.journal import Journal
from tidings.emails.lanes import LEASE, atomic, bump_counts
from tidings.emails.models import Delivery, DeliveryStatus, Email, Send, SendingBackend, SendingSettings, SendStatus
from tidings.emails.render import Prepared, number_links, personalise, prepare
from tidings.events import store
from tidings.pages import selectors as pages_selectors
from tidings.privacy.vault import keyring
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# Waits before the 2nd and 3rd attempt of a transiently refused message: three attempts over about an hour.
RETRY_BACKOFF = (datetime.timedelta(minutes=10), datetime.timedelta(minutes=50))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
ESP_BACKENDS = {
    SendingBackend.AMAZON_SES: "anymail.backends.amazon_ses.EmailBackend",
    SendingBackend.MAILGUN: "anymail.backends.mailgun.EmailBackend",
    SendingBackend.POSTMARK: "anymail.backends.postmark.EmailBackend",
    SendingBackend.SENDGRID: "anymail.backends.sendgrid.EmailBackend",
    SendingBackend.BREVO: "anymail.backends.brevo.EmailBackend",
    SendingBackend.SPARKPOST: "anymail.backends.sparkpost.EmailBackend",
}


# ==============================================================================================
# Connections


class RateLimiter:
    """At most `per_second` messages a second across the threads (0: no limit)."""

    def __init__(self, per_second: int):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            at = max(self._next, now)
            self._next = at + self.interval
        if at > now:
            time.sleep(at - now)


def backend_path(sending: SendingSettings) -> str:
    """Return the Django mail backend of the workspace: its ESP's anymail backend, else the installation's."""
    return ESP_BACKENDS.get(sending.backend, django_settings.EMAIL_BACKEND)  # type: ignore[call-overload]


def connection_options(sending: SendingSettings) -> dict:
    """Return get_connection()'s keyword arguments with the workspace's own credentials ({} when it set none:
    the installation's settings apply). Opened in memory here; never logged."""
    if not sending.credential_parts:
        return {}
    from tidings.emails import credentials

    return credentials.connection_options(credentials.open_parts(keyring(), sending), str(sending.backend))


@dataclass
class Outcome:
    contact_id: int
    status: str
    message_id: str = ""
    tokens_hash: bytes | None = None
    sent_at: datetime.datetime | None = None
    reason: str = ""
    email_id: int = 0  # the email (A/B arm) sent; 0: the send's


@dataclass
class Job:
    """What a worker needs to send one message; built in the thread that reads the database."""

    contact_id: int
    address: str
    values: Mapping[str, str]
    owner: Mapping[str, str]
    preference_url: str = ""
    extra: Mapping[str, str] | None = None
    context: Context | None = None  # the A/B arm's context; None: the send's


@dataclass
class Context:
    """What every message of a send shares."""

    workspace_id: int
    workspace_slug: str
    send_id: int
    email: Email
    prepared: Prepared
    from_header: str
    envelope_from: str
    reply_to: str
    domain: str
    marketing: bool
    dkim: tuple[str, str, bytes] | None = None  # (selector, domain, private key)
    today: str = ""


def open_connection(sending: SendingSettings):
    """Return (a connection of the workspace's backend, whether it is Django's SMTP one: raw bytes are sent)."""
    connection = get_connection(backend_path(sending), fail_silently=False, **connection_options(sending))
    return connection, isinstance(connection, SmtpBackend)


class Workers:
    """Threads that each hold one reused connection of the backend and send the messages they are given."""

    def __init__(self, context: Context, *, count: int, backend: str, journal: Journal | None, rate: int,
                 options: dict | None = None):  # fmt: skip
        self.context, self.journal, self.backend = context, journal, backend
        self.options = options or {}  # the workspace's credentials (connection_options), in memory only
        self.limiter = RateLimiter(rate)
        self.jobs: queue.Queue = queue.Queue()
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"sender-{i}") for i in range(count)]
        for thread in self._threads:
            thread.start()

    def start(self, jobs: Iterable[Job]) -> None:
        """Hand the jobs to the threads (they start at once); wait() returns their outcomes."""
        self.outcomes = []
        for job in jobs:
            self.jobs.put(job)

    def wait(self) -> list[Outcome]:
        self.jobs.join()
        return self.outcomes

    def send_all(self, jobs: Iterable[Job]) -> list[Outcome]:
        """Send every job (in parallel); return their outcomes once all are done."""
        self.start(jobs)
        return self.wait()

    def close(self) -> None:
        for _ in self._threads:
            self.jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
            connection = get_connection(self.backend, fail_silently=False, **self.options)
        except Exception:  # a backend this installation cannot load: every message fails, none hangs
            log.exception("send %s: the mail backend could not be loaded", self.context.send_id)
            connection = None
        raw = isinstance(connection, SmtpBackend)
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    self.jobs.task_done()
                    return
                try:
                    if connection is None:
                        outcome = Outcome(job.contact_id, DeliveryStatus.FAILED, reason="backend")
                    else:
                        outcome = self._send(connection, raw, job)
                except Exception:  # never lose a thread: the job's fate is what the journal says
                    log.exception("send %s: a message could not be prepared", self.context.send_id)
                    outcome = Outcome(job.contact_id, DeliveryStatus.FAILED, reason="render")
                with self._lock:
                    self.outcomes.append(outcome)
                self.jobs.task_done()
        finally:
            try:
                if connection is not None:
                    connection.close()
            except Exception:  # a connection that will not close is dropped with the thread
                log.debug("send %s: a connection did not close cleanly", self.context.send_id)

    def _send(self, connection, raw: bool, job: Job) -> Outcome:
        return send_one(job.context or self.context, connection, raw, job, journal=self.journal, limiter=self.limiter)


def send_one(c: Context, connection, raw: bool, job: Job, *, journal: Journal | None = None,
             limiter: RateLimiter | None = None) -> Outcome:  # fmt: skip
    """Personalise and send one message over connection (raw: Django's SMTP backend, else its send()).

    Journal lines around the SMTP transaction when a journal is given. Return the message's Outcome.
    """
    token = links.message_token(c.workspace_id, c.send_id, job.contact_id)
    rendered = personalise(c.prepared, values=job.values, owner=job.owner, token=token,
                           workspace_slug=c.workspace_slug, preference_url=job.preference_url, extra=job.extra,
                           today=c.today)  # fmt: skip
    extra_headers = headers.message_headers(
        send_id=c.send_id, contact_id=job.contact_id, email_id=c.email.pk, email_name=c.email.name,
        marketing=c.marketing, token=token, workspace_slug=c.workspace_slug, domain=c.domain,
        workspace_id=c.workspace_id,
    )  # fmt: skip
    try:
        to_header = message.encode_address("", job.address)
    except message.UnsendableAddress:
        return Outcome(job.contact_id, DeliveryStatus.FAILED, reason="address", email_id=c.email.pk)
    if limiter is not None:
        limiter.wait()
    if raw and connection.connection is None:
        try:
            connection.open()
        except (OSError, smtplib.SMTPException):
            # No transaction began: the message certainly did not leave, so it is tried again later.
            connection.connection = None
            if journal is not None:
                journal.write(f"d {job.contact_id} connect")
            return Outcome(job.contact_id, DeliveryStatus.DEFERRED, reason="connect", email_id=c.email.pk)
    if journal is not None:
        journal.write(f"a {job.contact_id}")
    ended: list[bool] = []  # whether the data's final "." may have left (raw SMTP only)

    def committing() -> None:
        if journal is not None:
            journal.write(f"c {job.contact_id}")
        ended.append(True)

    try:
        if raw:
            data = message.build(from_header=c.from_header, to_header=to_header, subject=rendered.subject,
                                 text=rendered.text, html=rendered.html, reply_to=c.reply_to,
                                 headers=extra_headers)  # fmt: skip
            if c.dkim is not None:
                selector, domain, key = c.dkim
                data = headers.dkim_signature(data, selector=selector, domain=domain, private_key_pem=key) + data
            smtp.send(connection, c.envelope_from, message.envelope_address(job.address), data, committing)
        else:
            django_message = message.as_django_message(
                from_header=c.from_header, to=to_header, subject=rendered.subject, text=rendered.text,
                html=rendered.html, reply_to=c.reply_to, headers=extra_headers, connection=connection,
            )  # fmt: skip
            django_message.send()
    except smtplib.SMTPResponseException as error:
        # A reply to MAIL FROM or DATA: the server did not take the message; 4xx is "not now".
        return _refused(journal, c, job, int(error.smtp_code), f"smtp_{error.smtp_code}")
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()] or [550]
        code = int(codes[0]) if all(400 <= int(c) < 500 for c in codes) else 550
        return _refused(journal, c, job, code, f"smtp_{code}" if code < 500 else "refused")
    except Exception as error:
        log.warning("send %s: connection lost mid-message (%s)", c.send_id, type(error).__name__)
        connection.close()
        if raw:
            connection.connection = None
            if not ended:  # broken before the data's final ".": the server took nothing, so it is tried again
                return _refused(journal, c, job, 421, "connection")
        # Broken after it (or inside a backend we cannot see into): the server may have taken the message.
        return Outcome(job.contact_id, DeliveryStatus.IN_DOUBT, reason="connection", email_id=c.email.pk)
    sent_at = timezone.now()
    if journal is not None:
        journal.write(
            f"s {job.contact_id} {sent_at.timestamp():.3f} {rendered.tokens_hash.hex()} {extra_headers['Message-ID']}"
        )
    return Outcome(job.contact_id, DeliveryStatus.SENT, extra_headers["Message-ID"], rendered.tokens_hash, sent_at,
                   email_id=c.email.pk)  # fmt: skip


def _refused(journal: Journal | None, c: Context, job: Job, code: int, reason: str) -> Outcome:
    """The outcome of a message the server refused: deferred for a 4xx (retried later), else failed."""
    kind, status = ("d", DeliveryStatus.DEFERRED) if 400 <= code < 500 else ("f", DeliveryStatus.FAILED)
    if journal is not None:
        journal.write(f"{kind} {job.contact_id} {reason}")
    return Outcome(job.contact_id, status, reason=reason, email_id=c.email.pk)


# ==============================================================================================
# Preparing a send's context and a batch's jobs


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower() or "tidings.invalid"


def build_context(send: Send, email: Email, sending: SendingSettings, *, version_number: int | None = None) -> Context:
    """Return what all messages of send share: the prepared version, sender, domain, DKIM key (opened once).

    version_number: the version of email to send (an A/B arm's); the send's own by default.
    """
    workspace = require_workspace()
    version = selectors_sending.version_of(email, version_number or send.version)
    if version is None:
        raise LookupError("the send's email version is gone")
    number_links(version)  # versions frozen before links were numbered at freeze time
    prepared = prepare(version)
    from_address = prepared.from_address or sending.from_address or _default_from()[1]
    from_name = prepared.from_name or sending.from_name or _default_from()[0]
    dkim_key = None
    if sending.dkim_configured and sending.backend == SendingBackend.SMTP:
        wrapped, sealed = bytes(sending.dkim_key_wrapped or b""), bytes(sending.dkim_key_sealed or b"")
        pem = headers.open_dkim_key(keyring(), int(sending.dkim_key_version or 0), wrapped, sealed)
        dkim_key = (sending.dkim_selector, sending.dkim_domain, pem)
    return Context(
        workspace_id=workspace.id, workspace_slug=workspace.slug, send_id=send.pk, email=email, prepared=prepared,
        from_header=message.encode_address(from_name, from_address),
        envelope_from=message.envelope_address(from_address),
        reply_to=prepared.reply_to, domain=sending.dkim_domain or _domain_of(from_address),
        marketing=not email.transactional, dkim=dkim_key, today=datetime.date.today().isoformat(),
    )  # fmt: skip


def _default_from() -> tuple[str, str]:
    from email.utils import parseaddr

    return parseaddr(str(django_settings.DEFAULT_FROM_EMAIL))


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class Owners:
    """The owners' fields ({ownerfield=...}, {signature}), read once per owner for a whole send."""

    def __init__(self) -> None:
        self._known: dict[int, dict[str, str]] = {}

    def of(self, contacts: Iterable) -> dict[int, dict[str, str]]:
        wanted = {c.fields.get("owner") for c in contacts} - {None} - set(self._known)
        wanted = {int(i) for i in wanted if isinstance(i, int | float)}
        if wanted:
            found = selectors.owner_token_values(wanted)
            for owner_id in wanted:
                self._known[owner_id] = found.get(owner_id, {})
        return self._known


def jobs_for(contacts: list, context: Context, owners: Owners, *, extra: Mapping[str, str] | None = None) -> list[Job]:
    """Return one Job per contact: the values its tokens need, read here (the workers touch no database)."""
    known = owners.of(contacts) if (context.prepared.owner_fields or "signature" in context.prepared.uses) else {}
    fields = context.prepared.fields
    preference = "preference_url" in context.prepared.uses
    jobs = []
    for contact in contacts:
        values = {alias: _as_text(contact.fields.get(alias)) for alias in fields}
        owner_id = contact.fields.get("owner")
        jobs.append(Job(
            contact_id=contact.id, address=str(contact.email), values=values,
            owner=known.get(int(owner_id), {}) if isinstance(owner_id, int | float) else {},
            preference_url=pages_selectors.preference_link(contact.id) if preference else "", extra=extra,
        ))  # fmt: skip
    return jobs


# ==============================================================================================
# Recording outcomes


def record_outcomes(send: Send, outcomes: list[Outcome], ids: Mapping[int, int] | None = None) -> dict[str, int]:
    """Write the outcomes on the claimed deliveries and the email.sent / email.failed events; return the counts.

    ids: {contact id: delivery id} when the caller knows them. Call inside a transaction.
    """
    if not outcomes:
        return {}
    if ids is None:
        ids = dict(Delivery.objects.filter(send_id=send.pk, contact_id__in=[o.contact_id for o in outcomes])
                   .values_list("contact_id", "id"))  # fmt: skip
    arms: dict[int, int] = {}
    if send.ab_versions and any(not o.email_id for o in outcomes):  # settled from a journal: the row knows its arm
        arms = dict(Delivery.objects.filter(send_id=send.pk, contact_id__in=[o.contact_id for o in outcomes])
                    .values_list("contact_id", "email_id"))  # fmt: skip
    outcomes = _settle_deferrals(outcomes, ids)
    rows = [(o.status, o.reason[:32], o.message_id, o.tokens_hash, o.sent_at, ids[o.contact_id])
            for o in outcomes if o.contact_id in ids]  # fmt: skip
    bulk.update(Delivery, ["status", "reason", "message_id", "tokens_hash", "sent_at"], rows)
    events: list[dict] = []
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        email_id = o.email_id or arms.get(o.contact_id) or send.email_id
        if o.status == DeliveryStatus.SENT:
            events.append({"type": EMAIL_SENT, "contact_id": o.contact_id, "at": o.sent_at,
                           "data": {"email_id": email_id, "send_id": send.pk}})  # fmt: skip
        elif o.status == DeliveryStatus.FAILED:
            data = {"email_id": email_id, "send_id": send.pk, "code": o.reason[:64] or "error"}
            events.append({"type": EMAIL_FAILED, "contact_id": o.contact_id, "data": data})
    store.write(events)
    return counts


def _settle_deferrals(outcomes: list[Outcome], ids: Mapping[int, int]) -> list[Outcome]:
    """Count an attempt on each deferred outcome and set its next try; past MAX_ATTEMPTS it fails instead."""
    deferred = [o for o in outcomes if o.status == DeliveryStatus.DEFERRED and o.contact_id in ids]
    if not deferred:
        return outcomes
    tried = dict(Delivery.objects.filter(pk__in=[ids[o.contact_id] for o in deferred]).values_list("id", "attempts"))
    now = timezone.now()
    rows: list[tuple[int, datetime.datetime | None, int]] = []
    settled: dict[int, Outcome] = {}
    for o in deferred:
        attempts = int(tried.get(ids[o.contact_id], 0)) + 1
        if attempts >= MAX_ATTEMPTS:
            settled[o.contact_id] = Outcome(o.contact_id, DeliveryStatus.FAILED, reason=o.reason, email_id=o.email_id)
            rows.append((attempts, None, ids[o.contact_id]))
        else:
            rows.append((attempts, now + RETRY_BACKOFF[attempts - 1], ids[o.contact_id]))
    bulk.update(Delivery, ["attempts", "retry_at"], rows)
    return [settled.get(o.contact_id, o) for o in outcomes]


def recover(send: Send, lane: int | None = None) -> dict[str, int]:
    """Settle the deliveries a dead runner left claimed, from its journal (see the module docstring).

    lane: only that lane's claims, from its own journal (a send in lanes). A send in lanes without a lane
    (a retry, once the walk is over) is settled from every journal of the send.
    """
    part, journals = lanes.journals(send, lane)
    claimed = selectors_sending.claimed_deliveries(send.pk, lane=part)
    if not claimed:
        return {}
    trusted, lines = lanes.read_journals(journals)
    outcomes: list[Outcome] = []
    dropped: list[int] = []
    for contact_id, delivery_id in claimed.items():
        line = lines.get(contact_id)
        if line is not None and line[0] == "s":
            at = datetime.datetime.fromtimestamp(float(line[1]), tz=datetime.UTC) if len(line) > 1 else timezone.now()
            digest = bytes.fromhex(line[2]) if len(line) > 2 else None
            outcomes.append(Outcome(contact_id, DeliveryStatus.SENT, line[3] if len(line) > 3 else "", digest, at))
        elif line is not None and line[0] == "f":
            outcomes.append(Outcome(contact_id, DeliveryStatus.FAILED, reason=line[1] if len(line) > 1 else "error"))
        elif line is not None and line[0] == "d":
            outcomes.append(Outcome(contact_id, DeliveryStatus.DEFERRED, reason=line[1] if len(line) > 1 else "error"))
        elif trusted and (line is None or line[0] == "a"):
            dropped.append(delivery_id)  # never attempted, or stopped before its data's end: claimed again
        else:
            outcomes.append(Outcome(contact_id, DeliveryStatus.IN_DOUBT, reason="interrupted"))
    with atomic():
        counts = record_outcomes(send, outcomes)
        if dropped:
            # A retry of a deferred message (attempts > 0) goes back to deferred: the walk is past it.
            Delivery.objects.filter(pk__in=dropped, status=DeliveryStatus.CLAIMED, attempts__gt=0).update(
                status=DeliveryStatus.DEFERRED, retry_at=timezone.now()
            )
            Delivery.objects.filter(pk__in=dropped, status=DeliveryStatus.CLAIMED).delete()
        bump_counts(send.pk, counts)
    for journal in journals:
        journal.path.unlink(missing_ok=True)
    log.info("send %s: recovered %s claimed deliveries (%s)", send.pk, len(claimed), counts)
    return counts


# ==============================================================================================
# The run


@dataclass
class RunResult:
    status: str
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Batch:
    """One batch read, checked and claimed, waiting to be sent."""

    ids: list[int]
    skipped: dict[str, int]
    jobs: list[Job]
    delivery_ids: dict[int, int]  # contact id -> its delivery row (claimed or skipped)


def ab_bucket(send_id: int, contact_id: int) -> int:
    """Return the contact's bucket (0-99) in an A/B test send: the same on every run of the send."""
    digest = hashlib.blake2b(f"{send_id}:{contact_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def ab_arms(email: Email, versions: Mapping[str, int]) -> list[tuple[int, int]]:
    """Return [(email id, weight)] of an A/B test: the parent first, then its variants by id."""
    weights = dict(Email.objects.filter(pk__in=[int(i) for i in versions]).values_list("id", "variant_weight"))
    order = [email.pk] + sorted(int(i) for i in versions if int(i) != email.pk)
    return [(i, int(weights.get(i, 0))) for i in order]


def ab_arm(arms: list[tuple[int, int]], bucket: int) -> int | None:
    """Return the email id whose share holds bucket, or None: the contact is held for the winner."""
    upper = 0
    for email_id, weight in arms:
        upper += weight
        if bucket < upper:
            return email_id
    return None


def _claim(send: Send, verdict: eligibility.Verdict, arm_of: Mapping[int, int], held: list[int]) -> dict[int, int]:
    """Insert the batch's delivery rows (skipped with their reason, held, the others claimed); return their ids.

    arm_of: {contact id: email id sent} (the send's email unless an A/B test chose a variant).
    """
    contacts = [(c, DeliveryStatus.SKIPPED, r) for c, r in verdict.skipped.items()]
    contacts += [(c, DeliveryStatus.HELD, "") for c in held]
    contacts += [(c.id, DeliveryStatus.CLAIMED, "") for c in verdict.allowed]
    ids = bulk.allocate_ids(Delivery, len(contacts)) if contacts else []
    workspace_id = require_workspace().id
    rows = [(pk, workspace_id, send.pk, arm_of.get(c, send.email_id), c, status, reason, "", 0, 0, "", False, False,
             0) for pk, (c, status, reason) in zip(ids, contacts, strict=True)]  # fmt: skip
    bulk.insert(Delivery, ["id", "workspace_id", "send_id", "email_id", "contact_id", "status", "reason",
                           "message_id", "open_count", "click_count", "bounced", "complained", "unsubscribed",
                           "attempts"], rows)  # fmt: skip
    return {c: pk for pk, (c, _, _) in zip(ids, contacts, strict=True)}


@dataclass
class Plan:
    """What a run sends: the send's context, and one per A/B arm with the test's weights."""

    context: Context
    contexts: dict[int, Context] = field(default_factory=dict)  # email id -> its context (A/B test send)
    arms: list[tuple[int, int]] = field(default_factory=list)


def plan_for(send: Send, email: Email, sending: SendingSettings) -> Plan:
    context = build_context(send, email, sending)
    if not send.ab_versions:
        return Plan(context)
    contexts = {email.pk: context}
    for key, number in send.ab_versions.items():
        arm_id = int(key)
        if arm_id != email.pk:
            variant = Email.objects.get(pk=arm_id)
            contexts[arm_id] = build_context(send, variant, sending, version_number=int(number))
    return Plan(context, contexts, ab_arms(email, send.ab_versions))


def _prepare(send: Send, email: Email, sending: SendingSettings, ring, plan: Plan, owners: Owners,
             after: int, batch_size: int, part: tuple[int, int] | None = None) -> Batch:  # fmt: skip
    """Read the next recipients after `after` (of lane part = (k, n)), decide who may get the email, claim
    them (committed)."""
    if send.held_from_send_id is not None:
        ids = selectors_sending.held_after(send.held_from_send_id, after, batch_size, lane=part)
    else:
        ids = selectors_sending.recipients_after(send.segment_ids, after, batch_size, lane=part)
    if not ids:
        return Batch([], {}, [], {})
    done = selectors_sending.delivered_contacts(send.pk, ids)
    pending = [i for i in ids if i not in done]
    arm_of: dict[int, int] = {}
    held: list[int] = []
    if plan.arms:
        for contact_id in pending:
            arm = ab_arm(plan.arms, ab_bucket(send.pk, contact_id))
            if arm is None:
                held.append(contact_id)
            else:
                arm_of[contact_id] = arm
        pending = [i for i in pending if i in arm_of]
    verdict = eligibility.check(pending, email=email, settings=sending, ring=ring)
    skipped: dict[str, int] = {}
    for reason in verdict.skipped.values():
        skipped[f"skipped:{reason}"] = skipped.get(f"skipped:{reason}", 0) + 1
    if held:
        skipped["held"] = len(held)
    with atomic():
        delivery_ids = _claim(send, verdict, arm_of, held)
        bump_counts(send.pk, skipped)
    if not plan.arms:
        return Batch(ids, skipped, jobs_for(verdict.allowed, plan.context, owners), delivery_ids)
    jobs: list[Job] = []
    for arm_id, arm_context in plan.contexts.items():
        group = [c for c in verdict.allowed if arm_of.get(c.id) == arm_id]
        for job in jobs_for(group, arm_context, owners):
            job.context = arm_context
            jobs.append(job)
    return Batch(ids, skipped, jobs, delivery_ids)


def _release(send: Send, batch: Batch) -> None:
    """Undo the claims of a batch that was prepared but not sent (the send was paused or cancelled meanwhile)."""
    if not batch.delivery_ids:
        return
    with atomic():
        Delivery.objects.filter(pk__in=list(batch.delivery_ids.values()),
                                status__in=[DeliveryStatus.CLAIMED, DeliveryStatus.SKIPPED,
                                            DeliveryStatus.HELD]).delete()  # fmt: skip
        bump_counts(send.pk, {key: -n for key, n in batch.skipped.items()})


def run_send(send_id: int, *, batch_size: int = BATCH_SIZE, stop_after: int | None = None,
             lane: int | None = None) -> RunResult:  # fmt: skip
    """Run send_id in the current workspace until it is done, paused, cancelled or another runner holds it.

    The caller checked emails:send (the actions) or is the system (the task). stop_after: stop after that
    many batches (tests). lane: run only that lane of a send in lanes (its task); without one, a send in
    lanes has each of its lanes run here in turn. Return the status the run left the send in (LANE_DONE:
    this lane is done, others still run; LANE_BUSY: another runner holds the lane).
    """
    if lane is None:
        send = selectors_sending.send_get(send_id)
        n = lanes.lane_total(send)
        if n > 1:
            total = RunResult(status=lanes.LANE_BUSY)
            for k in range(n):
                one = run_send(send_id, batch_size=batch_size, stop_after=stop_after, lane=k)
                total.batches += one.batches
                for key, count in one.counts.items():
                    total.counts[key] = total.counts.get(key, 0) + count
                if one.status not in (lanes.LANE_DONE, lanes.LANE_BUSY) and total.status != SendStatus.FINISHED:
                    total.status = one.status
            if total.status in (lanes.LANE_DONE, lanes.LANE_BUSY):
                total.status = selectors_sending.send_get(send_id).status
            return total
    runner = uuid.uuid4().hex
    if lane is None:
        if not lanes.take(send_id, runner):
            return RunResult(status=selectors_sending.send_get(send_id).status)
    else:
        taken = lanes.take_lane(send_id, runner, lane)
        if taken != "taken":
            return RunResult(status=taken)
    send = selectors_sending.send_get(send_id)
    part = (lane, lanes.lane_total(send)) if lane is not None else None
    recover(send, lane)
    email = Email.objects.get(pk=send.email_id)
    sending = selectors_sending.sending_settings()
    plan = plan_for(send, email, sending)
    context = plan.context
    ring = keyring()
    owners = Owners()
    journal = Journal(send.workspace_id, send.pk, lane)
    journal.open()
    workers = Workers(context, count=max(1, min(int(sending.connections or 1), 16)), backend=backend_path(sending),
                      journal=journal, rate=int(sending.rate_per_second or 0),
                      options=connection_options(sending))  # fmt: skip
    result = RunResult(status=SendStatus.RUNNING)
    ready: Batch | None = None
    try:
        while True:
            state = lanes.runner_state(send_id, lane)
            if state is None or state["status"] != SendStatus.RUNNING or state["runner"] != runner:
                result.status = state["status"] if state else SendStatus.CANCELLED
                break
            if stop_after is not None and result.batches >= stop_after:
                break
            for arm_context in (context, *plan.contexts.values()):
                arm_context.today = datetime.date.today().isoformat()
            batch = ready or _prepare(send, email, sending, ring, plan, owners, state["checkpoint_contact_id"],
                                      batch_size, part)  # fmt: skip
            ready = None
            if not batch.ids:
                result.status = lanes.finish(send_id, runner, lane)
                break
            # While the connections send this batch, the next one is read, checked and claimed: the database
            # work overlaps the SMTP round trips instead of leaving the server idle.
            workers.start(batch.jobs)
            if stop_after is None or result.batches + 1 < stop_after:
                ready = _prepare(send, email, sending, ring, plan, owners, batch.ids[-1], batch_size, part)
            outcomes = workers.wait()
            until = timezone.now() + LEASE
            with atomic():
                counts = record_outcomes(send, outcomes, batch.delivery_ids)
                lanes.advance(send_id, counts, lane=lane, checkpoint=batch.ids[-1], until=until)
            journal.reset()
            result.batches += 1
            for key, n in {**batch.skipped, **counts}.items():
                result.counts[key] = result.counts.get(key, 0) + n
        if ready is not None:
            _release(send, ready)
    finally:
        workers.close()
        journal.close(remove=result.status in (SendStatus.FINISHED, SendStatus.CANCELLED, lanes.LANE_DONE))
        # A lane marked done let go of its lease then.
        lane_done = lane is not None and result.status in (SendStatus.FINISHED, lanes.LANE_DONE)
        if result.status != SendStatus.RUNNING and not lane_done:
            # Paused, cancelled or finished: the lease goes so a resume can start at once.
            lanes.release(send_id, runner, lane)
    return result
