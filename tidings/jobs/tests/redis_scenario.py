"""Steps of the Redis end-to-end test, each run in its own process with TIDINGS_REDIS_URL set.

    python -m tidings.jobs.tests.redis_scenario setup --rows 2000 --marks FILE --tasks 20
    python -m tidings.jobs.tests.redis_scenario status --import-id 1
    python -m tidings.jobs.tests.redis_scenario watch --import-id 1 --until part-way --kill PID
    python -m tidings.jobs.tests.redis_scenario recover
    python -m tidings.jobs.tests.redis_scenario ratelimit --key k --times 5
    python -m tidings.jobs.tests.redis_scenario cache-set KEY VALUE | cache-get KEY
    python -m tidings.jobs.tests.redis_scenario campaigns-setup --workspaces 2 --contacts 300
    python -m tidings.jobs.tests.redis_scenario campaigns-status --workspaces 2

Each prints one JSON object. The settings are read from the environment at start-up, which is why
these steps cannot run inside the test process (it uses the database queue and cache).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os


def _setup(args) -> dict:
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from tidings.accounts.actions import user_create, workspace_create
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import imports
    from tidings.jobs.actions import schedule_task
    from tidings.jobs.tests.sample_tasks import mark_file
    from tidings.tenancy.context import use_workspace

    owner = user_create(email="owner@redis-run.example", password=None)
    workspace = workspace_create(name="Redis Run", slug="redis-run", region="eu", owner=owner)
    lines = ["firstname,lastname,email"] + [f"Person,Number{i},person{i}@redis-run.example" for i in range(args.rows)]
    upload = SimpleUploadedFile("people.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")
    principal = system_principal(workspace, reason="test:redis_scenario")
    with use_workspace(workspace):
        job = imports.import_create(upload, principal=principal)
        imports.import_configure(job.pk, mapping=job.mapping, lawful_basis="contract", principal=principal)
    for number in range(args.tasks):
        schedule_task(mark_file, due_at=timezone.now() - timedelta(seconds=1), workspace_id=None,
                      dedupe_key=f"mark:{number}", path=args.marks, label=f"task{number}", meet=args.meet)  # fmt: skip
    return {"workspace_id": workspace.pk, "import_id": job.pk}


def _status(args) -> dict:
    from tidings.contacts.models import Contact, ContactImport
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_slug

    with use_workspace(workspace_by_slug("redis-run")):
        job = ContactImport.objects.get(pk=args.import_id)
        return {
            "status": job.status,
            "rows_done": job.rows_done,
            "total_rows": job.total_rows,
            "created": job.created_count,
            "recoveries": job.recoveries,
            "contacts": Contact.objects.count(),
        }


def _watch(args) -> dict:
    """Poll the import in this process until it is part-way (at most half done) or completed.

    Polling from one process every 50 ms, instead of starting a process per look, keeps up with an
    import that a busy machine may run in seconds. With --kill, SIGKILL the worker and its work horses
    the moment the import is seen part-way, as the out-of-memory killer would (no handler runs).
    """
    import signal
    import time

    deadline = time.monotonic() + args.timeout
    while True:
        status = _status(args)
        if args.until == "completed":
            reached = status["status"] == "completed"
        else:
            reached = 0 < status["rows_done"] <= status["total_rows"] // 2
        if reached:
            if args.kill:
                for pid in [*descendants(args.kill), args.kill]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            return status
        if time.monotonic() > deadline:
            return {**status, "timed_out": True}
        time.sleep(0.05)


def descendants(pid: int) -> list[int]:
    """Return every process under pid (RQ runs each job in a forked work horse of its own)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in map(int, children.read().split()):
                    found += [child, *descendants(child)]
    return found


def _recover(args) -> dict:
    import datetime

    from tidings.contacts import imports
    from tidings.contacts.tasks import recover_stalled_imports

    # The worker was killed a moment ago; in production the sweep waits STALL_AFTER for its heartbeat.
    imports.STALL_AFTER = datetime.timedelta(seconds=0)
    return {"handled": recover_stalled_imports.call()}


CAMPAIGN_STEPS = [
    {"id": 1, "kind": "add_tags", "tags": ["welcomed"], "next": 2},
    {"id": 2, "kind": "change_points", "delta": 5, "next": 3},
    {"id": 3, "kind": "add_tags", "tags": ["scored"]},
]


def _campaigns_setup(args) -> dict:
    """Workspaces "redis-camp-N", each with contacts in a segment and a published campaign on it (three steps)."""
    from tidings.accounts.actions import user_create, workspace_create
    from tidings.accounts.permissions import system_principal
    from tidings.campaigns.actions import campaign_create, campaign_publish
    from tidings.contacts.actions import contacts_bulk_upsert
    from tidings.segments.actions import segment_create, segment_members_add
    from tidings.tenancy.context import use_workspace

    owner = user_create(email="owner@redis-campaigns.example", password=None)
    made = {}
    for number in range(args.workspaces):
        workspace = workspace_create(name=f"Campaigns {number}", slug=f"redis-camp-{number}", region="eu", owner=owner)
        principal = system_principal(workspace, reason="test:redis_scenario")
        with use_workspace(workspace):
            rows = [{"email": f"reader{i}@camp{number}.example"} for i in range(args.contacts)]
            ids = contacts_bulk_upsert(rows, lawful_basis="contract", return_ids=True, principal=principal).contact_ids
            segment = segment_create(name="Readers", principal=principal)
            segment_members_add(segment.pk, [i for i in ids if i is not None], principal=principal)
            graph = {"sources": [{"kind": "segment", "segment_id": segment.pk}], "start": 1, "steps": CAMPAIGN_STEPS}
            campaign = campaign_create(principal=principal, name="Welcome", graph=graph)
            campaign_publish(campaign.pk, principal=principal)  # the publish wakes the campaigns: a queued turn
            made[workspace.pk] = campaign.pk
    return {"campaigns": made}


def _campaigns_status(args) -> dict:
    """Per workspace: contacts, enrolments finished, step runs done, the most runs of one (contact, step)."""
    from django.db.models import Count, Max

    from tidings.campaigns.models import Enrolment, StepRun
    from tidings.contacts.models import Contact
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_slug

    out = {}
    for number in range(args.workspaces):
        with use_workspace(workspace_by_slug(f"redis-camp-{number}")):
            per_step = StepRun.objects.values("contact_id", "step").annotate(n=Count("id"))
            out[number] = {
                "contacts": Contact.objects.count(),
                "finished": Enrolment.objects.filter(status="finished").count(),
                "done": StepRun.objects.filter(status="done").count(),
                "most_runs_of_a_step": per_step.aggregate(most=Max("n"))["most"] or 0,
                "points": sorted(set(Contact.objects.values_list("points", flat=True))),
            }
    return out


def _ratelimit(args) -> dict:
    from tidings.api import ratelimit

    return {"remaining": [ratelimit.hit(args.key).remaining for _ in range(args.times)]}


def _cache(args) -> dict:
    from django.core.cache import caches

    cache = caches["default"]
    if args.step == "cache-set":
        cache.set(args.key, args.value, 60)
    return {"backend": type(cache).__name__, "value": cache.get(args.key)}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    steps = parser.add_subparsers(dest="step", required=True)
    setup = steps.add_parser("setup")
    setup.add_argument("--rows", type=int, required=True)
    setup.add_argument("--tasks", type=int, default=0)
    setup.add_argument("--marks", default=os.devnull)
    setup.add_argument("--meet", default="", help="a folder where the tasks wait for a second worker")
    steps.add_parser("status").add_argument("--import-id", type=int, required=True)
    watch = steps.add_parser("watch")
    watch.add_argument("--import-id", type=int, required=True)
    watch.add_argument("--until", choices=["part-way", "completed"], required=True)
    watch.add_argument("--kill", type=int, default=0, help="a worker's pid, killed once the import is part-way")
    watch.add_argument("--timeout", type=float, default=150)
    steps.add_parser("recover")
    limit = steps.add_parser("ratelimit")
    limit.add_argument("--key", required=True)
    limit.add_argument("--times", type=int, required=True)
    cache_set = steps.add_parser("cache-set")
    cache_set.add_argument("key")
    cache_set.add_argument("value")
    steps.add_parser("cache-get").add_argument("key")
    campaigns_setup = steps.add_parser("campaigns-setup")
    campaigns_setup.add_argument("--workspaces", type=int, required=True)
    campaigns_setup.add_argument("--contacts", type=int, required=True)
    steps.add_parser("campaigns-status").add_argument("--workspaces", type=int, required=True)
    args = parser.parse_args()
    steps_run = {"setup": _setup, "status": _status, "watch": _watch, "recover": _recover, "ratelimit": _ratelimit,
                 "campaigns-setup": _campaigns_setup, "campaigns-status": _campaigns_status}  # fmt: skip
    run = steps_run.get(args.step, _cache)
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
