"""Fixed-window rate limits per credential, kept in Django's cache; shared by the native and Mautic APIs.

Each credential (token, OAuth application and user, password user, or client address when
there is no valid credential) may make settings.TIDINGS_API_RATE_LIMIT requests per
settings.TIDINGS_API_RATE_WINDOW seconds. Every API response carries X-RateLimit-Limit,
X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the window ends); a refused
request also carries Retry-After.

With Redis the counter is atomic (INCR). With the database cache, increments are
read-then-write, so concurrent requests may let a few more through than the limit: a soft
limit, which is what a fixed window is anyway.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    window: int

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        result = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset),
        }
        if self.exceeded:
            result["Retry-After"] = str(self.reset)
        return result

    def apply(self, response) -> None:
        for name, value in self.headers().items():
            response[name] = value


def hit(key: str, now: float | None = None, *, limit: int | None = None, window: int | None = None) -> RateLimitState:
    """Count one request for key in the current window and return the state after it.

    limit and window default to the API's (TIDINGS_API_RATE_LIMIT per TIDINGS_API_RATE_WINDOW seconds);
    the public form door passes its own.
    """
    limit = int(settings.TIDINGS_API_RATE_LIMIT if limit is None else limit)
    window = max(int(settings.TIDINGS_API_RATE_WINDOW if window is None else window), 1)
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    cache_key = f"tidings:ratelimit:{key}:{window_start}"
    try:
        count = cache.incr(cache_key)
    except ValueError:  # first request of the window
        # add() loses to a concurrent first request, which then already counted one.
        count = 1 if cache.add(cache_key, 1, timeout=window + 1) else cache.incr(cache_key)
    reset = max(math.ceil(window_start + window - now), 1)
    return RateLimitState(limit=limit, remaining=limit - count, reset=reset, window=window)
