"""Background jobs of tracking: replay the collect spools that dead server processes left behind."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.tracking.collect.flusher import recover_orphans


@periodic(every=timedelta(minutes=1))
@task()
def replay_orphaned_spools() -> int:
    """Persist the hits in spool files no live process holds (a worker killed mid-batch); return how many were new.

    Server processes replay them when they start; this catches a server that is not restarted. It
    reads the spool folder of this machine's TIDINGS_VAR_DIR, so the worker must share it with the
    servers (it does on one machine: `tidings serve` and the built-in worker).
    """
    return recover_orphans()
