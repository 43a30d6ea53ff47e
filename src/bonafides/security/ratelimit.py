"""Rate limits as token buckets, behind an interface.

In-process buckets are exact for one worker; with several workers or hosts each counts
its own share, which still bounds abuse to ``workers x limit``. A shared store (Redis,
PostgreSQL) can implement ``RateLimiter`` without touching the routes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds, refilled evenly (bursts up to ``limit``)."""

    limit: int
    period: float = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until one more request is allowed (0 when allowed)

    def headers(self) -> dict[str, str]:
        """The IETF RateLimit header fields, and Retry-After when refused."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, self.retry_after))
        return out


class RateLimiter(Protocol):
    def hit(self, bucket: str, rate: Rate, *, cost: int = 1) -> Decision:
        """Take ``cost`` tokens when ``cost`` are left; ``cost=0`` only asks whether one is."""
        ...


class TokenBuckets:
    """A bucket per name, least recently used dropped first past ``max_buckets``.

    Dropping a bucket only forgives its past requests, so memory stays bounded even when
    an attacker rotates addresses.
    """

    def __init__(
        self, *, max_buckets: int = 100_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._now = now
        self._max = max_buckets
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def hit(self, bucket: str, rate: Rate, *, cost: int = 1) -> Decision:
        per_second = rate.limit / rate.period
        with self._lock:
            now = self._now()
            tokens, last = self._buckets.pop(bucket, (float(rate.limit), now))
            tokens = min(float(rate.limit), tokens + (now - last) * per_second)
            allowed = tokens >= max(1, cost)
            if allowed:
                tokens -= cost
            self._buckets[bucket] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        reset = math.ceil((rate.limit - tokens) / per_second)
        retry = 0 if allowed else math.ceil((1.0 - tokens) / per_second)
        return Decision(allowed, rate.limit, int(tokens), reset, retry)
