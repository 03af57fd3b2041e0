"""Who wants to know, once a transaction commits, that events of some types were written.

A domain that reacts within seconds to what other domains record (campaigns: a contact joined a
segment, submitted a form, clicked an email) registers from its AppConfig.ready():

    register_listener("campaigns", {segment_added_code, form_submitted_code}, wake)

so the writer never imports the reader. store.write calls notify(codes) after each write; each
listener whose codes were written is called after commit with the workspace id (at once outside a
transaction, never when it rolls back). A listener should only enqueue work; its exceptions are
logged (the workspace id only), never raised into the writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

_LISTENERS: dict[str, tuple[frozenset[int], Callable[[int], None]]] = {}


def register_listener(name: str, codes: Iterable[int], callback: Callable[[int], None]) -> None:
    """Call callback(workspace_id) after the commit of any write of events of codes (idempotent by name)."""
    _LISTENERS[name] = (frozenset(int(c) for c in codes), callback)


def unregister_listener(name: str) -> None:
    """Forget the listener name (tests)."""
    _LISTENERS.pop(name, None)


def notify(codes: Iterable[int]) -> None:
    """Schedule, for after the commit, the listeners of any of codes in the workspace in context."""
    if not _LISTENERS:
        return
    written = {int(c) for c in codes}
    workspace = require_workspace()
    for name, (wanted, callback) in list(_LISTENERS.items()):
        if wanted & written:
            transaction.on_commit(_safely(name, callback, workspace.id), using=workspace.db_alias)


def _safely(name: str, callback: Callable[[int], None], workspace_id: int) -> Callable[[], None]:
    def call() -> None:
        try:
            callback(workspace_id)
        except Exception:  # a listener that fails must not fail the write that woke it
            logger.exception("event listener %s failed in workspace %s", name, workspace_id)

    return call
