"""Growing delays after failed sign-ins, on top of django-axes.

Failures are counted per (account, client address), as before. From AXES_FAILURE_LIMIT failures
on, each failure pauses that pair's sign-ins for delay_for(failures): TIDINGS_LOCKOUT_FIRST_DELAY
seconds, doubling per further failure up to TIDINGS_LOCKOUT_MAX_DELAY. Attempts refused during a
pause are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so an integration
retrying a stale password in a loop costs the people behind the same address one short pause at a
time, not half an hour. A successful sign-in (UI or API password), an admin's unlock, or
TIDINGS_LOCKOUT_MEMORY seconds without a failure forget the count.

Why a handler and not only a callable AXES_COOLOFF_TIME: axes uses its cool-off both as the length
of a lock and as how long failures are remembered, and it deletes every attempt older than the
cool-off of the request at hand. A per-request cool-off of a few seconds would forget the count as
soon as a pause ends (so delays could never grow) and would erase other accounts' counts. The
handler (AXES_HANDLER, axes' documented extension point) remembers failures for a fixed time and
decides the pause from the count; AXES_COOLOFF_TIME = cool_off reports the wait of the request.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

# Set on the request by the handler whenever it pauses or refuses a sign-in: seconds to wait.
WAIT_ATTRIBUTE = "tidings_lockout_wait"


def delay_for(failures: int) -> int:
    """Return the pause in seconds that failures failed sign-ins in a row earn (0 below the limit)."""
    limit = int(settings.AXES_FAILURE_LIMIT)
    if failures < limit:
        return 0
    first, cap = int(settings.TIDINGS_LOCKOUT_FIRST_DELAY), int(settings.TIDINGS_LOCKOUT_MAX_DELAY)
    return min(cap, first * 2 ** min(failures - limit, 30))


def _memory() -> timedelta:
    return timedelta(seconds=int(settings.TIDINGS_LOCKOUT_MEMORY))


def remaining_wait(failures: int, last_failure, now) -> int:
    """Return the whole seconds left in the pause that failures earned at last_failure (0: none)."""
    if last_failure is None:
        return 0
    left = (last_failure + timedelta(seconds=delay_for(failures)) - now).total_seconds()
    return max(0, math.ceil(left))


def wait_of(request) -> int:
    """Return the seconds the request's sign-in must wait, as set by the handler (0 when not paused)."""
    return int(getattr(request, WAIT_ATTRIBUTE, 0) or 0)


def describe_wait(seconds: int) -> str:
    """Return a wait as people say it: "15 seconds", "1 minute", "4 minutes" (minutes rounded up)."""
    seconds = max(int(seconds), 1)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def cool_off(request=None) -> timedelta:
    """Return how long this request's sign-in is paused (AXES_COOLOFF_TIME).

    Without a request (axes asking in general), the longest pause.
    """
    if request is None:
        return timedelta(seconds=int(settings.TIDINGS_LOCKOUT_MAX_DELAY))
    return timedelta(seconds=wait_of(request))


class GrowingDelayHandler(AxesDatabaseHandler):
    """django-axes' database handler with a remembered failure count and a pause that grows with it."""

    def get_user_attempts(self, request, credentials=None):
        """Return the request's attempt rows still remembered (failures within TIDINGS_LOCKOUT_MEMORY)."""
        since = (request.axes_attempt_time or timezone.now()) - _memory()
        return [
            attempts.filter(attempt_time__gte=since) for attempts in self.filter_user_attempts(request, credentials)
        ]

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        """Forget attempts whose last failure is older than TIDINGS_LOCKOUT_MEMORY, for every account."""
        count, _ = AccessAttempt.objects.filter(attempt_time__lt=timezone.now() - _memory()).delete()
        return count

    def pause_state(self, request, credentials=None) -> tuple[int, int]:
        """Return (failures remembered, seconds of pause left) for the request's account and address."""
        failures, last = 0, None
        for attempts in self.get_user_attempts(request, credentials):
            row = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            if (row["failures"] or 0) > failures:
                failures, last = row["failures"], row["last"]
        if failures < get_failure_limit(request, credentials):
            return failures, 0
        return failures, remaining_wait(failures, last, request.axes_attempt_time or timezone.now())

    def is_locked(self, request, credentials=None) -> bool:
        """Return whether the pair is inside a pause; remember the wait on the request for the answer."""
        _failures, wait = self.pause_state(request, credentials)
        if wait:
            setattr(request, WAIT_ATTRIBUTE, wait)
        return wait > 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """Count the failure as axes does; when it starts a pause, remember the pause's length."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or not getattr(request, "axes_locked_out", False):
            return
        failures = getattr(request, "axes_failures_since_start", None)
        if failures is not None:  # this failure was counted and reached the limit: a new pause
            setattr(request, WAIT_ATTRIBUTE, delay_for(failures))


def forget_failures(request, username: str) -> None:
    """Forget the failures of username from the request's address (after a successful password)."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_credentials

    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    handler.reset_user_attempts(request, get_credentials(username))


def pauses_for_usernames(usernames) -> dict[str, dict]:
    """Return {username: {"failures", "wait" (seconds), "wait_text"}} for usernames at or past the limit.

    Failures are summed per client address; an account's entry is its worst address.
    """
    usernames = [name for name in usernames if name]
    if not usernames:
        return {}
    now = timezone.now()
    rows = (
        AccessAttempt.objects.filter(username__in=usernames, attempt_time__gte=now - _memory())
        .order_by()  # group by account and address only, whatever axes' default ordering
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    limit = int(settings.AXES_FAILURE_LIMIT)
    result: dict[str, dict] = {}
    for row in rows:
        if row["failures"] < limit:
            continue
        wait = remaining_wait(row["failures"], row["last"], now)
        current = result.get(row["username"])
        if current is None or (wait, row["failures"]) > (current["wait"], current["failures"]):
            result[row["username"]] = {
                "failures": row["failures"],
                "wait": wait,
                "wait_text": describe_wait(wait) if wait else "",
            }
    return result


def audit_new_pause(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """Audit a pause that a failure just started (receiver of axes' user_locked_out signal).

    axes also sends the signal for every attempt refused during a pause; those carry no new count
    (axes_failures_since_start stays None) and are not audited again.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    if request is None or failures is None:
        return
    # Called up into actions: lockout sits below selectors and actions, which read its pauses.
    from tidings.accounts.actions import sign_in_pause_record

    sign_in_pause_record(username=username or "", failures=failures, pause_seconds=delay_for(failures), request=request)
