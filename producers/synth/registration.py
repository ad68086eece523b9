"""When and how events reach the registry: delays, time of day, channel.

Times are integer milliseconds since the Unix epoch (UTC) and days are date
ordinals, so the hot loop does no datetime arithmetic.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from schemas.models import Channel

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_VIETNAM_OFFSET_MS = 7 * HOUR_MS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_OFFICE_OPENS_MS, _OFFICE_HOURS_MS = 7 * HOUR_MS, 14 * HOUR_MS  # 07:00-21:00 Vietnam time

# Registration delay in days (share, shortest, longest). Births must be registered
# within 60 days and deaths within 15 (Law on Civil Status 2014, arts. 15, 33), yet
# births are often weeks late and a few events of every kind months or years late.
DELAYS = {
    "birth": ((0.40, 0, 7), (0.45, 8, 60), (0.12, 61, 365), (0.03, 366, 1000)),
    "death": ((0.80, 0, 7), (0.15, 8, 30), (0.04, 31, 365), (0.01, 366, 730)),
    "marriage": ((0.70, 0, 3), (0.25, 4, 30), (0.05, 31, 180)),
    "divorce": ((0.60, 0, 14), (0.35, 15, 90), (0.05, 91, 365)),
    "move": ((0.60, 0, 7), (0.35, 8, 60), (0.05, 61, 365)),
}
LATE_SYNC_DAYS = 365  # events this late mostly arrive by sync from another registry
BATCH_IMPORT_SHARE = 0.35  # baseline households imported from commune systems
ENUMERATION_DAYS = (1, 90)  # the baseline is recorded from 2 January to about 1 April


def day_start_ms(day: int) -> int:
    """First millisecond of a Vietnamese calendar day (a date ordinal), as UTC epoch ms."""
    return (day - _EPOCH_ORDINAL) * DAY_MS - _VIETNAM_OFFSET_MS


def vietnam_day(ms: int) -> int:
    """The Vietnamese calendar day (a date ordinal) of an epoch-ms instant."""
    return (ms + _VIETNAM_OFFSET_MS) // DAY_MS + _EPOCH_ORDINAL


def instant(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def mobile_share(year: int) -> float:
    """Mobile reporting grows from about 20% in 2015 to 70% in 2025 (programme target 90%)."""
    return min(0.9, max(0.2, 0.2 + 0.05 * (year - 2015)))


class Registration:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._cum = {
            kind: ([sum(s for s, _, _ in spans[: i + 1]) for i in range(len(spans))], spans)
            for kind, spans in DELAYS.items()
        }

    def pause(self, shortest_ms: int, longest_ms: int) -> int:
        return self._rng.randint(shortest_ms, longest_ms)

    def office_time(self, day: int) -> int:
        return day_start_ms(day) + _OFFICE_OPENS_MS + self._rng.randrange(_OFFICE_HOURS_MS)

    def recorded_ms(self, kind: str, day: int) -> tuple[int, int]:
        """When an event of `day` would be recorded, and its delay in days."""
        rng = self._rng
        cum, spans = self._cum[kind]
        u = rng.random() * cum[-1]
        _, low, high = next(span for c, span in zip(cum, spans, strict=True) if u < c)
        delay = rng.randint(low, high)
        return self.office_time(day + delay), delay

    def channel(self, year: int, delay: int) -> Channel:
        rng = self._rng
        if delay >= LATE_SYNC_DAYS and rng.random() < 0.5:
            return Channel.REGISTRY_SYNC
        return Channel.MOBILE if rng.random() < mobile_share(year) else Channel.WEB

    def enumeration_starts(self, first_day: int, households: int) -> list[int]:
        """Sorted times at which each baseline household's enumeration is recorded."""
        low, high = ENUMERATION_DAYS
        return sorted(
            self.office_time(first_day + self._rng.randint(low, high)) for _ in range(households)
        )

    def baseline_channel(self, year: int) -> Channel:
        if self._rng.random() < BATCH_IMPORT_SHARE:
            return Channel.BATCH_IMPORT
        return self.channel(year, 0)
