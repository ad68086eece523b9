"""What a synthetic run is asked for, and what it reports about its deliberate mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class SynthConfig:
    """One synthetic province: the same config always gives the same events."""

    province: str  # 2-digit GSO province code valid before the 2025-07-01 reform, e.g. "96"
    households: int
    first_year: int  # the baseline enumeration happens on 1 January of this year
    last_year: int  # inclusive
    seed: int
    now: datetime  # aware; events recorded after it are left out
    error_rate: float = 0.005  # share of emitted events that are deliberate mistakes

    def __post_init__(self) -> None:
        if len(self.province) != 2 or not self.province.isdigit():
            raise ValueError(f"province must be a 2-digit code, got {self.province!r}")
        if self.households < 1:
            raise ValueError("households must be at least 1")
        if self.first_year > self.last_year:
            raise ValueError("first_year must not be after last_year")
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not 0.0 <= self.error_rate <= 0.5:
            raise ValueError("error_rate must be between 0 and 0.5")


@dataclass(frozen=True)
class Mistake:
    """A deliberate error in the stream, so downstream checks can be tested against it."""

    event_id: UUID
    kind: str  # "duplicate" | "unknown_commune" | "contradiction:<what>"
