"""Benchmark campaigns (issue 14): steps per second, entry latency with the real worker, kill -9 and exactly once.

    python bench/bench_campaigns.py                            # 100,000 contacts, throw-away SQLite files
    python bench/bench_campaigns.py --contacts 10000           # a quicker run
    python bench/bench_campaigns.py --database postgresql      # fresh PostgreSQL databases (see harness.py)

Made-up contacts (reader{i}@bench.example, with consent to marketing email) are written by the contacts
bulk upsert, put in a segment, and a counting SMTP sink (aiosmtpd on 127.0.0.1, in its own process, as
bench_emails.py) records each Message-ID it accepts. Everything below runs through the real worker: a
`manage.py worker` child process (database task backend, scheduler in the same process), woken by the
engine's event listeners on commit, with the periodic sweep for delays coming due.

1. tagging: a one-step campaign (add a tag) on the segment, publish to last run finished; against it a
   hand-written set-based INSERT ... SELECT tagging the same contacts in this process. Ratio printed.
2. the campaign: tag -> wait 2 s -> decision "clicked the newsletter" -> email to the sink, on the segment;
   the bench writes each contact's click (the email.clicked event the click route writes) once it waits
   at the decision, so the listener wakes it as a real click would (a window is at least 60 s). Steps per
   second from publish to the last run finished (a delay and a decision count one
   step each, though each is taken twice: armed, then passed), and per step.
3. latency: with a worker whose sweep is 60 s (so only the event-driven wake-up can be quick), contacts
   join a source segment or submit a source form one at a time; the time from the commit to the
   first step done (its run's done_at), p50 and p99.
4. kill -9: the same 4-step campaign (its own email) on the first --kill-contacts contacts; the worker is
   SIGKILLed once about 40% of the messages are recorded as sent, the dead worker's leases are expired
   (lease_expire_now, as an operator would rather than waiting 5 minutes) and a new worker finishes.
   Then: every enrolment finished, each contact has exactly one run of each step, no contact got the
   email twice, and every contact without it has its send step skipped as in_doubt (never resent). PASS/FAIL.

Figures under load are noisy: the load average is printed at the start and end, and ratios are measured
in the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench_emails import received, start_sink
from harness import (
    ROOT,
    add_database_arguments,
    bench_workspace,
    databases,
    django_setup,
    engine,
    load,
    percentile,
    region_connection,
)

SEGMENT_CHUNK = 10_000  # segments' MAX_MANUAL


# ----------------------------------------------------------------------------------------------
# The data


def make_contacts(workspace, principal, prefix: str, count: int) -> list[int]:
    """Create count made-up contacts with consent to marketing email; return their ids."""
    from django.db import transaction
    from django.utils import timezone

    from tidings.consent.models import ConsentRecord, Purpose
    from tidings.contacts.actions import contacts_bulk_upsert
    from tidings.tenancy import bulk

    ids: list[int] = []
    for first in range(0, count, 5000):
        rows = [{"email": f"{prefix}{i}@bench.example", "firstname": f"Reader{i}", "lastname": "Example"}
                for i in range(first, min(first + 5000, count))]  # fmt: skip
        result = contacts_bulk_upsert(rows, lawful_basis="consent", return_ids=True, principal=principal)
        ids += [i for i in result.contact_ids if i is not None]
    purpose_id = Purpose.objects.get(key="marketing_email").pk
    now = timezone.now()
    columns = ["workspace_id", "purpose_id", "given", "contact_id", "recorded_at", "method", "source", "ip_network",
               "wording"]  # fmt: skip
    with transaction.atomic(using=workspace.db_alias):
        bulk.insert(ConsentRecord, columns, [(workspace.id, purpose_id, True, c, now, "form", "form:1", "", "")
                                             for c in ids])  # fmt: skip
    return sorted(ids)


def make_segment(name: str, ids: list[int], principal) -> int:
    from tidings.segments.actions import segment_create, segment_members_add

    segment = segment_create(name=name, principal=principal)
    for first in range(0, len(ids), SEGMENT_CHUNK):
        segment_members_add(segment.pk, ids[first : first + SEGMENT_CHUNK], principal=principal)
    return segment.pk


def make_email(name: str, principal) -> int:
    from tidings.emails.models import Email, EmailVersion

    fields = {"subject": "Hello {contactfield=firstname|friend}", "from_name": "Acme Garden",
              "from_address": "news@acme.example", "text": "Hello {contactfield=firstname|there}.\n",
              "html": '<p>Hi {contactfield=firstname|there}, <a href="https://shop.acme.example/">shop</a>.</p>'}  # noqa: E501  # fmt: skip
    mail = Email.objects.create(name=name, kind="template", published=True, **fields)
    EmailVersion.objects.create(email_id=mail.pk, number=1, **fields)
    return mail.pk


def four_steps(email_id: int, newsletter_id: int) -> list[dict]:
    """Tag, wait 2 s, wait for a click on an earlier newsletter (newsletter_id), then send email_id."""
    return [
        {"id": 1, "kind": "add_tags", "tags": ["journey"], "next": 2},
        {"id": 2, "kind": "delay", "mode": "interval", "seconds": 2, "next": 3},
        {"id": 3, "kind": "decision", "event": "clicked_email", "email_id": newsletter_id, "window_seconds": 60,
         "yes": 4, "no": 4},
        {"id": 4, "kind": "send_email", "email_id": email_id},
    ]  # fmt: skip


def publish(name: str, steps: list[dict], sources: list[dict], principal) -> int:
    from tidings.campaigns.actions import campaign_create, campaign_publish

    graph = {"sources": sources, "start": steps[0]["id"], "steps": steps}
    campaign = campaign_create(name=name, graph=graph, principal=principal)
    campaign_publish(campaign.pk, principal=principal)
    return campaign.pk


# ----------------------------------------------------------------------------------------------
# The worker (a child process, as in production)


def start_worker(port: int, *, sweep_seconds: int) -> subprocess.Popen:
    env = dict(os.environ, TIDINGS_SMTP_URL=f"smtp://127.0.0.1:{port}",
               TIDINGS_CAMPAIGN_SWEEP_SECONDS=str(sweep_seconds))  # fmt: skip
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "worker", "--verbosity", "0"], env=env,  # noqa: S603
                            cwd=str(ROOT), stdout=subprocess.DEVNULL)  # fmt: skip


def cpu_seconds(worker: subprocess.Popen) -> float:
    """CPU seconds (user + system) the worker used so far: load disturbs it less than wall time."""
    fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def live_runs(campaign_id: int) -> int:
    from tidings.campaigns.engine import ACTIVE_RUNS
    from tidings.campaigns.models import StepRun

    return StepRun.objects.filter(campaign_id=campaign_id, status__in=ACTIVE_RUNS).count()


def finished(campaign_id: int) -> int:
    from tidings.campaigns.models import Enrolment

    return Enrolment.objects.filter(campaign_id=campaign_id, status="finished").count()


def click_waiting(campaign_id: int, clicked: set[int], newsletter_id: int) -> None:
    """Write an email.clicked event (what the click route writes) for each contact newly waiting at the decision.

    The decision's window is at least 60 s: the "yes" path taken on a click, woken by the events listener
    as a real click would, keeps the bench from timing a minute of waiting.
    """
    from django.db import transaction

    from tidings.campaigns.models import StepRun
    from tidings.events import store
    from tidings.events.registry import code_for
    from tidings.tenancy.context import require_workspace

    waiting = set(StepRun.objects.filter(campaign_id=campaign_id, step=3, status="pending", outcome="waiting")
                  .values_list("contact_id", flat=True)) - clicked  # fmt: skip
    if not waiting:
        return
    code = code_for("email.clicked")
    with transaction.atomic(using=require_workspace().db_alias):
        data = {"email_id": newsletter_id, "send_id": 1, "link_id": 1}
        store.write(store.EventRow(type=code, contact_id=c, data=data) for c in sorted(waiting))
    clicked |= waiting


def wait_finished(campaign_id: int, contacts: int, worker: subprocess.Popen, timeout: float = 7200,
                  *, click_on: int | None = None) -> float:  # fmt: skip
    """Poll until the campaign's contacts all finished (clicking at its decision); return when (perf_counter)."""
    began = time.perf_counter()
    clicked: set[int] = set()
    while time.perf_counter() - began < timeout:
        if click_on is not None:
            click_waiting(campaign_id, clicked, click_on)
        if finished(campaign_id) >= contacts and live_runs(campaign_id) == 0:
            return time.perf_counter()
        if worker.poll() is not None:
            raise SystemExit(f"the worker ended ({worker.returncode})")
        time.sleep(0.25)
    raise SystemExit("the campaign did not finish in time")


def steps_done(campaign_id: int) -> dict[int, tuple[int, float]]:
    """{step: (runs done or skipped, seconds from its first to its last run done)}."""
    from django.db.models import Count, Max, Min

    from tidings.campaigns.models import StepRun

    rows = (StepRun.objects.filter(campaign_id=campaign_id, status__in=("done", "skipped")).values("step")
            .annotate(n=Count("id"), first=Min("done_at"), last=Max("done_at")))  # fmt: skip
    return {r["step"]: (r["n"], (r["last"] - r["first"]).total_seconds()) for r in rows}


# ----------------------------------------------------------------------------------------------
# The phases


def raw_tagging(workspace, ids: list[int]) -> float:
    """Tag the contacts with one hand-written INSERT ... SELECT (the floor of a set-based tag step); seconds."""
    from django.db import connections, transaction

    from tidings.contacts.models import Contact, ContactTag, Tag

    tag = Tag.objects.create(name="raw-sql")
    connection = connections[workspace.db_alias]
    began = time.perf_counter()
    with transaction.atomic(using=workspace.db_alias), connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{ContactTag._meta.db_table}" (workspace_id, contact_id, tag_id) '  # noqa: S608
            f'SELECT workspace_id, id, %s FROM "{Contact._meta.db_table}" WHERE workspace_id = %s',
            [tag.pk, workspace.id],
        )
    seconds = time.perf_counter() - began
    assert ContactTag.objects.filter(tag_id=tag.pk).count() == len(ids)
    return seconds


def latency(workspace, principal, port: int, samples: int, spacing: float) -> tuple[list[float], list[float]]:
    """Seconds from the commit of a segment entry / a form submission to the first step done, per sample."""
    from tidings.campaigns.models import StepRun
    from tidings.forms import actions as forms
    from tidings.segments.actions import segment_members_add

    by_segment = make_contacts(workspace, principal, "joiner", samples)
    by_form = make_contacts(workspace, principal, "submitter", samples)
    segment_id = make_segment("Joiners", [], principal)
    form = forms.form_create(name="Bench newsletter", published=True, principal=principal, fields=[
        {"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"}])  # fmt: skip
    worker = start_worker(port, sweep_seconds=60)
    try:
        campaign_id = publish("Latency", [{"id": 1, "kind": "add_tags", "tags": ["welcome"]}],
                              [{"kind": "segment", "segment_id": segment_id}, {"kind": "form", "form_id": form.pk}],
                              principal)  # fmt: skip
        time.sleep(10)  # the worker's start and the publish's first run
        committed: dict[int, float] = {}
        for i in range(samples):
            segment_members_add(segment_id, [by_segment[i]], principal=principal)
            committed[by_segment[i]] = time.time()
            time.sleep(spacing)
            result = forms.form_submit(form.pk, {"email": [f"submitter{i}@bench.example"]},
                                       context=forms.SubmitContext(ip="203.0.113.9"), principal=principal)  # fmt: skip
            committed[by_form[i]] = time.time()
            assert result.accepted, result
            time.sleep(spacing)
        deadline = time.time() + 120
        while time.time() < deadline:
            done = dict(StepRun.objects.filter(campaign_id=campaign_id, seq=0, status="done")
                        .values_list("contact_id", "done_at"))  # fmt: skip
            if len(done) >= 2 * samples:
                break
            time.sleep(0.5)
        late = [c for c in committed if c not in done]
        if late:
            print(f"  {len(late)} samples not done within 120 s of the last one")
        seconds = {c: done[c].timestamp() - at for c, at in committed.items() if c in done}
        return [seconds[c] for c in by_segment if c in seconds], [seconds[c] for c in by_form if c in seconds]
    finally:
        stop(worker)


def messages_per_contact(record: Path, email_id: int) -> dict[int, int]:
    """{contact id: messages of email_id the sink got}; a Message-ID is <send id.contact id.random@domain>."""
    from tidings.emails.models import Send

    sends = {str(s).encode() for s in Send.objects.filter(email_id=email_id).values_list("id", flat=True)}
    counts: dict[int, int] = {}
    for line in received(record):
        parts = line.lstrip(b"<").split(b".")
        if len(parts) > 2 and parts[0] in sends:
            contact_id = int(parts[1])
            counts[contact_id] = counts.get(contact_id, 0) + 1
    return counts


def kill_and_restart(workspace, principal, port: int, record: Path, ids: list[int]) -> bool:
    from tidings.accounts.permissions import system_principal
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.models import Enrolment, StepRun
    from tidings.emails.models import Delivery

    segment_id = make_segment("Kill", ids, principal)
    email_id = make_email("Kill test", principal)
    newsletter_id = make_email("Kill newsletter", principal)
    worker = start_worker(port, sweep_seconds=1)
    began = time.perf_counter()
    sources = [{"kind": "segment", "segment_id": segment_id}]
    campaign_id = publish("Kill test", four_steps(email_id, newsletter_id), sources, principal)
    # One Send serves a chunk of email steps (set-based): count the messages recorded as sent, one Delivery each.
    sends = Delivery.objects.filter(email_id=email_id, status="sent")
    while sends.count() < len(ids) * 0.4:
        if worker.poll() is not None:
            raise SystemExit("the worker ended before it could be killed")
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    at_kill = sends.count()
    expired = lease_expire_now(principal=system_principal(workspace, reason="bench"))
    worker = start_worker(port, sweep_seconds=1)
    try:
        wait_finished(campaign_id, len(ids), worker, click_on=newsletter_id)
    finally:
        stop(worker)
    seconds = time.perf_counter() - began
    runs = list(StepRun.objects.filter(campaign_id=campaign_id).values_list("contact_id", "step", "status", "reason"))
    per_step: dict[tuple[int, int], int] = {}
    for contact_id, step, _, _ in runs:
        per_step[(contact_id, step)] = per_step.get((contact_id, step), 0) + 1
    missing_runs = sum(1 for c in ids for s in (1, 2, 3, 4) if (c, s) not in per_step)
    twice_runs = sum(1 for n in per_step.values() if n > 1)
    unfinished = sum(1 for _, _, status, _ in runs if status not in ("done", "skipped"))
    in_doubt = {c for c, step, status, reason in runs if step == 4 and reason == "in_doubt"}
    other_skips = {c for c, step, status, reason in runs if step == 4 and status == "skipped" and reason != "in_doubt"}
    got = messages_per_contact(record, email_id)
    twice = [c for c, n in got.items() if n > 1]
    without = [c for c in ids if c not in got]
    unexplained = [c for c in without if c not in in_doubt and c not in other_skips]
    enrolments = Enrolment.objects.filter(campaign_id=campaign_id)
    not_finished = enrolments.exclude(status="finished").count()
    print(f"kill -9: worker killed with {at_kill:,} of {len(ids):,} emails recorded as sent; {expired} leases "
          f"expired; a new worker finished the campaign, {seconds:.1f} s in all")  # fmt: skip
    print(f"  runs: {len(runs):,} for {len(ids):,} contacts x 4 steps; missing {missing_runs}; a step run twice: "
          f"{twice_runs}; not finished: {unfinished}; enrolments not finished: {not_finished}")  # fmt: skip
    print(f"  emails: received once {sum(1 for n in got.values() if n == 1):,}; twice or more {len(twice)}; "
          f"in doubt (skipped, never resent) {len(in_doubt)} ({sum(1 for c in in_doubt if c in got)} of them had "
          f"reached the sink); skipped for another reason {len(other_skips)}; missing and not in doubt "
          f"{len(unexplained)}")  # fmt: skip
    return not (missing_runs or twice_runs or unfinished or not_finished or twice or unexplained)


def run(args) -> None:
    django_setup()
    from tidings.accounts.permissions import system_principal
    from tidings.tenancy.context import use_workspace

    connection = region_connection()
    record = Path(os.environ["TIDINGS_VAR_DIR"]) / "sink.log"
    sink, port = start_sink(record)
    try:
        print(f"{engine(connection)}; {load()}; {os.cpu_count()} CPUs; one worker process")
        _, workspace = bench_workspace("campaigns")
        with use_workspace(workspace):
            principal = system_principal(workspace, reason="bench")
            began = time.perf_counter()
            ids = make_contacts(workspace, principal, "reader", args.contacts)
            segment_id = make_segment("Readers", ids, principal)
            print(f"{len(ids):,} contacts with consent in one segment, made in {time.perf_counter() - began:.0f} s")
            source = [{"kind": "segment", "segment_id": segment_id}]

            if "tag" in args.phases:
                worker = start_worker(port, sweep_seconds=1)
                try:
                    time.sleep(5)  # the worker's start, not timed
                    began = time.perf_counter()
                    campaign_id = publish("Tag", [{"id": 1, "kind": "add_tags", "tags": ["tagged"]}], source, principal)
                    idle = cpu_seconds(worker)
                    seconds = wait_finished(campaign_id, len(ids), worker) - began
                    cpu = cpu_seconds(worker) - idle
                finally:
                    stop(worker)
                raw = raw_tagging(workspace, ids)
                print(f"tagging: the engine (publish -> {len(ids):,} entered, tagged, finished) {seconds:.1f} s = "
                      f"{len(ids) / seconds:,.0f} steps/s; hand-written INSERT ... SELECT {raw:.2f} s = "
                      f"{len(ids) / raw:,.0f} rows/s; the engine takes {seconds / raw:,.0f}x the SQL's time; "
                      f"the worker used {cpu:.1f} CPU s = {len(ids) / cpu:,.0f} steps per CPU second")  # fmt: skip

            if "campaign" in args.phases:
                email_id = make_email("Journey", principal)
                newsletter_id = make_email("Newsletter", principal)
                worker = start_worker(port, sweep_seconds=1)
                try:
                    time.sleep(5)
                    began = time.perf_counter()
                    campaign_id = publish("Journey", four_steps(email_id, newsletter_id), source, principal)
                    idle = cpu_seconds(worker)
                    seconds = wait_finished(campaign_id, len(ids), worker, click_on=newsletter_id) - began
                    cpu = cpu_seconds(worker) - idle
                finally:
                    stop(worker)
                per_step = steps_done(campaign_id)
                total = sum(n for n, _ in per_step.values())
                print(f"campaign tag -> wait 2 s -> decision (clicked, woken by a click) -> email: {total:,} steps in "
                      f"{seconds:.1f} s "
                      f"= {total / seconds:,.0f} steps/s (Mautic: ~21/s); the worker used {cpu:.1f} CPU s = "
                      f"{total / cpu:,.0f} steps per CPU second; sink got "
                      f"{sum(messages_per_contact(record, email_id).values()):,} messages")  # fmt: skip
                for step, name in ((1, "tag"), (2, "wait"), (3, "decision"), (4, "email")):
                    n, span = per_step.get(step, (0, 0.0))
                    print(f"  step {name}: {n:,} runs, first to last done in {span:.1f} s"
                          + (f" = {n / span:,.0f}/s" if span > 0 else ""))  # fmt: skip

            if "latency" in args.phases:
                by_segment, by_form = latency(workspace, principal, port, args.samples, args.spacing)
                for label, samples in (("segment entry", by_segment), ("form submission", by_form)):
                    if samples:
                        print(f"latency {label} -> first step done ({len(samples)} samples, sweep 60 s so only the "
                              f"wake-up counts): p50 {percentile(samples, 0.5):.2f} s, p99 "
                              f"{percentile(samples, 0.99):.2f} s, max {max(samples):.2f} s")  # fmt: skip

            if "kill" in args.phases:
                ok = kill_and_restart(workspace, principal, port, record, ids[: args.kill_contacts])
                print("kill test: " + ("PASS" if ok else "FAIL"))
        print(load())
    finally:
        sink.kill()
        sink.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--kill-contacts", type=int, default=20_000, help="contacts of the kill -9 campaign")
    parser.add_argument("--samples", type=int, default=40, help="latency samples of each kind")
    parser.add_argument("--spacing", type=float, default=0.6, help="seconds between latency samples")
    parser.add_argument("--phases", default="tag,campaign,latency,kill", help="which phases, comma separated")
    add_database_arguments(parser)
    arguments = parser.parse_args()
    arguments.phases = set(arguments.phases.split(","))
    arguments.kill_contacts = min(arguments.kill_contacts, arguments.contacts)
    with databases(arguments, prefix="campaigns"):
        run(arguments)
