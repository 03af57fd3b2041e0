"""In-process rate limits of the collect endpoints: per site key and per client network (token buckets).

In process on purpose: a hit must not pay a cache round trip, and each server process holds a
share of the traffic. The limits are per process; with N processes a client gets up to N times
as much, which is what a limit against floods (not a quota) needs. Set per second with
TIDINGS_TRACKING_RATE_PER_SITE and TIDINGS_TRACKING_RATE_PER_NETWORK; bursts are twice that.
"""

from __future__ import annotations

import os
import threading
import time

DEFAULT_PER_SITE = 5000.0
DEFAULT_PER_NETWORK = 50.0
MAX_BUCKETS = 100_000


class Buckets:
    """Token buckets by key: rate tokens a second, at most burst saved up."""

    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: str, count: int = 1) -> bool:
        """Take count tokens from key's bucket; return False (refuse) when it holds fewer."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < count:
                self.buckets[key] = (tokens, now)
                return False
            if len(self.buckets) >= MAX_BUCKETS and key not in self.buckets:
                self.buckets.clear()  # a flood of networks: start over rather than grow without bound
            self.buckets[key] = (tokens - count, now)
            return True


def _rate(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class Limits:
    def __init__(self) -> None:
        per_site = _rate("TIDINGS_TRACKING_RATE_PER_SITE", DEFAULT_PER_SITE)
        per_network = _rate("TIDINGS_TRACKING_RATE_PER_NETWORK", DEFAULT_PER_NETWORK)
        self.sites = Buckets(per_site, per_site * 2)
        self.networks = Buckets(per_network, per_network * 2)

    def allow(self, site_key: str, network: str, count: int = 1) -> bool:
        """Return whether count more hits of site_key from network may come in now."""
        return self.networks.take(network, count) and self.sites.take(site_key, count)
