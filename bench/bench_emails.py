"""Benchmark the email sender against raw smtplib, then kill it mid-send and check nobody gets two messages.

    python bench/bench_emails.py                          # 100,000 contacts, throw-away SQLite files
    python bench/bench_emails.py --contacts 5000          # a quick run
    python bench/bench_emails.py --database postgresql    # fresh PostgreSQL databases (see harness.py)
    python bench/bench_emails.py --lanes 1                # one sending process (default: one lane per CPU)

A counting SMTP sink (aiosmtpd, in its own process so that it does not share the sender's interpreter)
listens on 127.0.0.1 and appends the Message-ID of every message it accepts to a file. Then:

1. end to end: a broadcast of a ~5 KB HTML email with 6 tracked links, an open pixel, contact fields and
   the unsubscribe link, to a segment of N consenting contacts: send_start, then the engine as the task
   runs it (eligibility per batch, claims, personalisation, MIME, SMTP over 4 parallel connections,
   outcomes, email.sent events, checkpoints). Messages per second from start to finished. With --lanes N > 1
   (decision 0036) the send is run by N child processes, one per lane, as N task workers would.
2. the ceiling: raw smtplib sending pre-rendered bytes of the same messages (a sample rendered by the
   engine, sent round-robin) over the same number of connections, nothing else done. The ratio is printed.
3. kill and resume: a second broadcast to the same segment run by a child process, SIGKILLed once the
   sink has about 40% of it (with lanes: one lane's process is killed, the others run on); its lease is
   let lapse and the send (that lane) resumed here. The sink's records must
   show every contact exactly once, except the messages in flight at the kill (in doubt: at most once).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness import add_database_arguments, bench_workspace, databases, django_setup, engine, load, region_connection

CONNECTIONS = 4
HTML = (
    """<!doctype html><html><head><meta charset="utf-8"><title>{subject}</title>
<style>body{font-family:Arial,sans-serif;color:#222} .btn{background:#0b5;color:#fff;padding:10px 16px}</style>
</head><body><table width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table width="600"><tr><td><img src="https://cdn.acme.example/logo.png" alt="Acme" width="120"></td></tr>
<tr><td><h1>Hello {contactfield=firstname|there},</h1>
<p>Spring is here in {contactfield=city|your city}, {contactfield=firstname|friend}. """
    + ("Our gardeners picked the season's best for you: seeds, tools and a few surprises. " * 12)
    + """</p>
<p><a class="btn" href="https://shop.acme.example/spring?utm_source=email&amp;utm_campaign=spring">Shop spring</a></p>
<p><a href="https://shop.acme.example/seeds">Seeds</a> · <a href="https://shop.acme.example/tools">Tools</a> ·
<a href="https://blog.acme.example/2026/planting-guide">Planting guide</a> ·
<a href="https://acme.example/stores?near={contactfield=city}">Stores near you</a></p>
<p>"""
    + ("Questions? Reply to this email, a person reads every one. " * 8)
    + """</p>
<p>{signature}</p>
<p style="font-size:11px;color:#777">You get this because you subscribed at acme.example.
<a href="{unsubscribe_url}">Unsubscribe</a> · <a href="{webview_url}">View in browser</a> ·
<a href="https://acme.example/privacy">Privacy</a></p></td></tr></table></td></tr></table></body></html>"""
)
TEXT = "Hello {contactfield=firstname|there},\n\nSpring is here.\n\nUnsubscribe: {unsubscribe_url}\n"


# ----------------------------------------------------------------------------------------------
# The sink (its own process)


def sink_main(port: int, record: str) -> None:
    """Accept every message on 127.0.0.1:port; append its Message-ID to record, one line each, at once."""
    import asyncio

    from aiosmtpd.controller import Controller

    out = open(record, "ab", buffering=0)  # noqa: SIM115 - open for the process's life

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
            content = envelope.content
            at = content.find(b"\r\nMessage-ID: ")
            end = content.find(b"\r\n", at + 2)
            out.write(content[at + 14 : end] + b"\n" if at >= 0 else b"-\n")
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.sleep(10**9))
    finally:
        controller.stop()


def start_sink(record: Path) -> tuple[subprocess.Popen, int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, __file__, "--sink", str(port), str(record)],  # noqa: S603 (ourselves)
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, port


def received(record: Path) -> list[bytes]:
    return record.read_bytes().splitlines() if record.exists() else []


def per_contact(record: Path, send_id: int) -> dict[int, int]:
    """Return {contact id: messages the sink got} for send_id, from the Message-IDs it recorded."""
    counts: dict[int, int] = {}
    prefix = f"<{send_id}.".encode()
    for line in received(record):
        if line.startswith(prefix):
            contact_id = int(line.split(b".")[1])
            counts[contact_id] = counts.get(contact_id, 0) + 1
    return counts


# ----------------------------------------------------------------------------------------------
# The data


def make_data(contacts: int):
    """Return (workspace, segment id, [contact ids]): contacts with a name, city and consent, in one segment."""
    from django.db import transaction
    from django.utils import timezone

    from tidings.accounts.permissions import system_principal
    from tidings.consent.models import ConsentRecord, Purpose
    from tidings.contacts.actions import contacts_bulk_upsert
    from tidings.segments.actions import segment_create, segment_members_add
    from tidings.tenancy import bulk
    from tidings.tenancy.context import use_workspace

    _, workspace = bench_workspace("emails")
    cities = ["London", "Lyon", "Leeds", "Porto", "Graz", "Ghent", "Turku", "Cork"]
    with use_workspace(workspace):
        principal = system_principal(workspace, reason="bench")
        ids: list[int] = []
        for first in range(0, contacts, 5000):
            rows = [{"email": f"reader{i}@bench.example", "firstname": f"Reader{i}", "lastname": "Example",
                     "city": cities[i % len(cities)]} for i in range(first, min(first + 5000, contacts))]  # fmt: skip
            result = contacts_bulk_upsert(rows, lawful_basis="consent", return_ids=True, principal=principal)
            ids += [i for i in result.contact_ids if i is not None]
        purpose_id = Purpose.objects.get(key="marketing_email").pk
        now = timezone.now()
        columns = ["workspace_id", "purpose_id", "given", "contact_id", "recorded_at", "method", "source",
                   "ip_network", "wording"]  # fmt: skip
        with transaction.atomic(using=workspace.db_alias):
            bulk.insert(ConsentRecord, columns, [(workspace.id, purpose_id, True, c, now, "form", "form:1", "", "")
                                                 for c in ids])  # fmt: skip
        segment = segment_create(name="Spring readers", principal=principal)
        for first in range(0, len(ids), 10000):
            segment_members_add(segment.pk, ids[first : first + 10000], principal=principal)
    return workspace, segment.pk, sorted(ids)


def make_email(segment_id: int, name: str):
    from tidings.emails.models import Email, EmailVersion

    fields = {"subject": "Spring for you, {contactfield=firstname|friend}", "from_name": "Acme Garden",
              "from_address": "news@acme.example", "html": HTML, "text": TEXT,
              "preheader": "Seeds, tools, a guide"}  # fmt: skip
    mail = Email.objects.create(name=name, kind="list", segment_ids=[segment_id], published=True, **fields)
    EmailVersion.objects.create(email_id=mail.pk, number=1, **fields)
    return mail


# ----------------------------------------------------------------------------------------------
# The runs


def configure_smtp(port: int) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


def lane_children(workspace, send, port: int, lanes: int) -> list[subprocess.Popen]:
    """Start one child process per lane of send, each running its lane as the lane's task would."""
    return [subprocess.Popen([sys.executable, __file__, "--worker", str(workspace.id), str(send.pk), str(port),  # noqa: S603
                              str(k)]) for k in range(lanes)]  # fmt: skip


def end_to_end(workspace, segment_id: int, record: Path, port: int, lanes: int) -> tuple[int, float, object]:
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import send_run, send_start
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        mail = make_email(segment_id, "Spring news")
        principal = system_principal(workspace, reason="bench")
        began = time.perf_counter()
        send = send_start(mail.pk, principal=principal)
        if lanes > 1:
            for child in lane_children(workspace, send, port, lanes):
                assert child.wait() == 0
            status = type(send).objects.get(pk=send.pk).status
        else:
            status = send_run(send.pk, principal=principal).status
        seconds = time.perf_counter() - began
        assert status == "finished", status
        send.refresh_from_db()
    return send.counts.get("sent", 0), seconds, send


def sample_bytes(workspace, send, contact_ids: list[int], count: int) -> list[tuple[str, bytes]]:
    """Render `count` of the send's messages exactly as the engine does (same context), as bytes."""
    from tidings.contacts.selectors import contacts_get
    from tidings.emails import headers, links, message
    from tidings.emails.models import Email
    from tidings.emails.render import personalise
    from tidings.emails.selectors_sending import sending_settings
    from tidings.emails.sender import Owners, build_context, jobs_for
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        context = build_context(send, Email.objects.get(pk=send.email_id), sending_settings())
        jobs = jobs_for(list(contacts_get(contact_ids[:count]).values()), context, Owners())
    out = []
    for job in jobs:
        token = links.message_token(context.workspace_id, context.send_id, job.contact_id)
        rendered = personalise(context.prepared, values=job.values, owner=job.owner, token=token,
                               workspace_slug=context.workspace_slug, today=context.today)  # fmt: skip
        extra = headers.message_headers(send_id=send.pk, contact_id=job.contact_id, email_id=send.email_id,
                                        email_name="Spring news", marketing=True, token=token,
                                        workspace_slug=context.workspace_slug, domain=context.domain,
                                        workspace_id=context.workspace_id)  # fmt: skip
        out.append((job.address, message.build(from_header=context.from_header, to_header=job.address,
                                               subject=rendered.subject, text=rendered.text, html=rendered.html,
                                               headers=extra)))  # fmt: skip
    return out


def raw_smtplib(port: int, messages: list[tuple[str, bytes]], total: int) -> float:
    """Send total messages (round-robin over the pre-rendered ones) over CONNECTIONS smtplib connections."""
    import smtplib

    lock = threading.Lock()
    next_index = [0]

    def worker() -> None:
        connection = smtplib.SMTP("127.0.0.1", port)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                break
            address, data = messages[i % len(messages)]
            connection.sendmail("news@acme.example", [address], data)
        connection.quit()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def worker_main(workspace_id: int, send_id: int, port: int, lane: int | None = None) -> None:
    """A child sender: run the send (or one lane of it) as the task would, until done or killed."""
    from harness import environment

    environment()
    django_setup()
    configure_smtp(port)
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import send_run
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_id

    workspace = workspace_by_id(workspace_id)
    with use_workspace(workspace):
        send_run(send_id, principal=system_principal(workspace, reason="bench"), lane=lane)


def kill_and_resume(workspace, segment_id: int, port: int, record: Path, contacts: int, lanes: int) -> dict:
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import send_run, send_start
    from tidings.emails.models import Delivery, Send
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        mail = make_email(segment_id, "Spring news, again")
        principal = system_principal(workspace, reason="bench")
        send = send_start(mail.pk, principal=principal)
    if lanes > 1:
        children = lane_children(workspace, send, port, lanes)
    else:
        children = [subprocess.Popen([sys.executable, __file__, "--worker", str(workspace.id), str(send.pk),  # noqa: S603
                                      str(port)])]  # fmt: skip
    child = children[0]  # the one killed (lane 0 with lanes)
    began = time.perf_counter()
    while len(per_contact(record, send.pk)) < contacts * 0.4:
        if child.poll() is not None:
            raise SystemExit("the child sender ended before it could be killed")
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    at_kill = sum(per_contact(record, send.pk).values())
    for other in children[1:]:
        assert other.wait() == 0  # the other lanes finish their slices meanwhile
    with use_workspace(workspace):
        Send.objects.filter(pk=send.pk).update(lease_until=None)  # the dead runner's lease lapses
        lanes_state = Send.objects.get(pk=send.pk).lanes
        if lanes_state.get("0"):
            lanes_state["0"]["lease"] = None  # the dead lane's lease lapses
            Send.objects.filter(pk=send.pk).update(lanes=lanes_state)
        result = send_run(send.pk, principal=principal)
        send.refresh_from_db()
        in_doubt = set(Delivery.objects.filter(send_id=send.pk, status="in_doubt").values_list("contact_id", flat=True))
        sent = Delivery.objects.filter(send_id=send.pk, status="sent").count()
    seconds = time.perf_counter() - began
    got = per_contact(record, send.pk)
    twice = [c for c, n in got.items() if n > 1]
    return {"status": result.status, "at_kill": at_kill, "sent": sent, "in_doubt": len(in_doubt),
            "in_doubt_received": len([c for c in in_doubt if c in got]), "twice": len(twice),
            "received": len(got), "seconds": seconds, "got": got}  # fmt: skip


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args) -> None:
    os.environ["TIDINGS_EMAIL_SEND_LANES"] = str(args.lanes)  # read by send_start (and the lane children)
    django_setup()
    connection = region_connection()
    record = Path(os.environ["TIDINGS_VAR_DIR"]) / "sink.log"
    sink, port = start_sink(record)
    try:
        configure_smtp(port)
        print(f"{engine(connection)}; {load()}; {CONNECTIONS} SMTP connections to aiosmtpd in its own process")
        began = time.perf_counter()
        workspace, segment_id, ids = make_data(args.contacts)
        print(f"{args.contacts:,} contacts with consent in one segment, made in {time.perf_counter() - began:.0f} s")

        cpu = _cpu()
        children_cpu = _cpu_children()
        sent, seconds, send = end_to_end(workspace, segment_id, record, port, args.lanes)
        cpu = _cpu() - cpu + _cpu_children() - children_cpu
        assert sent == args.contacts and len(per_contact(record, send.pk)) == args.contacts, (sent, send.counts)
        ours = sent / seconds
        print(f"end to end (sender, {args.lanes} lane(s)): {sent:,} messages in {seconds:.1f} s = {ours:,.0f} "
              f"messages/s; the sender's process(es) used {cpu:.1f} CPU s = {sent / cpu:,.0f} messages per CPU "
              "second")  # fmt: skip

        sample = sample_bytes(workspace, send, ids, min(2000, args.contacts))
        size = sum(len(b) for _, b in sample) / len(sample)
        cpu = _cpu()
        raw_seconds = raw_smtplib(port, sample, args.contacts)
        cpu = _cpu() - cpu
        ceiling = args.contacts / raw_seconds
        print(f"ceiling (raw smtplib, same bytes, avg {size:,.0f} B): {args.contacts:,} in {raw_seconds:.1f} s "
              f"= {ceiling:,.0f} messages/s; {args.contacts / cpu:,.0f} messages per CPU second")  # fmt: skip
        print(f"ratio sender / raw smtplib: {ours / ceiling:.2f}")

        outcome = kill_and_resume(workspace, segment_id, port, record, args.contacts, args.lanes)
        got = outcome["got"]
        missing = [c for c in ids if c not in got]
        unexplained = len(missing) - (outcome["in_doubt"] - outcome["in_doubt_received"])
        print(f"kill and resume: SIGKILL after {outcome['at_kill']:,} messages received; resumed to "
              f"{outcome['status']} in {outcome['seconds']:.1f} s in all")  # fmt: skip
        print(f"  contacts that received it exactly once: {sum(1 for n in got.values() if n == 1):,} of {len(ids):,}; "
              f"twice or more: {outcome['twice']}; in doubt (not sent again): {outcome['in_doubt']} "
              f"({outcome['in_doubt_received']} of them had reached the sink); missing and not in doubt: "
              f"{unexplained}")  # fmt: skip
        ok = outcome["twice"] == 0 and unexplained == 0 and outcome["status"] == "finished"
        print("kill test: " + ("PASS" if ok else "FAIL"))
        if not ok:
            raise SystemExit(1)
    finally:
        sink.kill()
        sink.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        sink_main(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(
            int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else None
        )
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--contacts", type=int, default=100_000)
        parser.add_argument("--lanes", type=int, default=os.cpu_count() or 1, help="sending processes (lanes)")
        add_database_arguments(parser)
        arguments = parser.parse_args()
        with databases(arguments, prefix="emails"):
            run(arguments)
