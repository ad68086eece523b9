"""Failed activations per client address, limited: a code cannot be guessed by trying.

A sliding window per address: after `limit` failures within `window_s` seconds the
address is refused (429, Retry-After) until the oldest failure leaves the window. Only
failures count, so a collaborator who activates at the first attempt is never slowed.
It is in memory, per gateway process: a restart forgives, which at ten tries per
quarter of an hour leaves a 49-bit code out of reach. Behind a reverse proxy every
request comes from the proxy's address: the limit then applies to all callers together.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW_S = 15 * 60.0
MAX_ADDRESSES = 100_000
"""Beyond this many addresses tracked, the oldest are forgotten: memory stays bounded."""


class FailureLimiter:
    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        now = self._clock()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self._limit:
                return None
            return max(1, math.ceil(failures[0] + self._window_s - now))

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            failures = self._recent(address, now)
            failures.append(now)
            self._failures[address] = failures
            while len(self._failures) > MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.pop(address, deque())
        while failures and failures[0] <= now - self._window_s:
            failures.popleft()
        if failures:
            self._failures[address] = failures  # re-inserted: the newest at the end
        return failures
