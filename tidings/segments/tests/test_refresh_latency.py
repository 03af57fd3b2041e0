"""End to end with the built-in worker: a change reaches segment membership through the scheduled refresh.

The latency is printed, not asserted (a loaded machine would make a timed assertion flaky): the
figures come from bench/bench_segments_refresh.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tidings.contacts.actions import contact_create, contact_update
from tidings.jobs.periodic import PeriodicJob
from tidings.jobs.tests.worker_loop import run_worker_until
from tidings.segments import actions, selectors, tasks
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

PERIOD = timedelta(seconds=1)  # the scheduler's minimum; the default is TIDINGS_SEGMENT_REFRESH_SECONDS


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_change_reaches_membership_through_the_scheduled_refresh(acme, monkeypatch, capsys):
    job = PeriodicJob(name="segments-refresh", task=tasks.refresh_changed_contacts, every=PERIOD)
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {job.name: job})
    with use_workspace(acme):
        segment = actions.segment_create(
            principal=system(),
            name="Londoners",
            definition={"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]},
        )
        ines = contact_create({"email": "ines@porto.example", "city": "Porto"}, principal=system())
    run_worker_until(lambda: True, timeout=120)  # one pass: the job's first run, now; the next is a period later

    def member() -> bool:
        with use_workspace(acme):
            return ines.pk in set(selectors.segment_member_ids(segment.pk))

    latencies = []
    for city in ("London", "Lyon", "London"):
        with use_workspace(acme):
            contact_update(ines.pk, {"city": city}, principal=system())  # committed: autocommit test
        wanted = city == "London"
        latencies.append(
            # Fails unless the contact joins, leaves and joins again; the timeout bounds a hang only.
            run_worker_until(lambda wanted=wanted: member() == wanted, timeout=120)
        )

    with capsys.disabled():
        print(f"\nchange -> membership with a {PERIOD.total_seconds():.0f}s refresh period: "
              + ", ".join(f"{s:.2f}s" for s in latencies))  # fmt: skip
