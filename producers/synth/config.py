"""What a synthetic run is asked for, and what it reports about its deliberate irregularities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

# The rates `popreg synth` and the benchmark use: a registry's stream as it really is,
# with corrections and late registrations. SynthConfig's own defaults are 0, so a
# history asked for without them is one where recording follows knowledge.
REALISTIC_VOID_RATE = 0.005
REALISTIC_AMEND_RATE = 0.005
REALISTIC_CROSSING_RATE = 0.005
_MAX_RATE = 0.5


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
    # About this share of events are registrations made in error, voided later.
    void_rate: float = 0.0
    # About this share of events are recorded with a mistyped field, amended later.
    amend_rate: float = 0.0
    # About this share of events are registered after a later event about the same
    # persons or household was recorded.
    crossing_rate: float = 0.0

    def __post_init__(self) -> None:
        if len(self.province) != 2 or not self.province.isdigit():
            raise ValueError(f"province must be a 2-digit code, got {self.province!r}")
        if self.households < 1:
            raise ValueError("households must be at least 1")
        if self.first_year > self.last_year:
            raise ValueError("first_year must not be after last_year")
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        for name in ("error_rate", "void_rate", "amend_rate", "crossing_rate"):
            if not 0.0 <= getattr(self, name) <= _MAX_RATE:
                raise ValueError(f"{name} must be between 0 and {_MAX_RATE}")


MISTAKE, CORRECTION, CROSSING = "mistake", "correction", "crossing"
_CATEGORY = {
    "void": CORRECTION,  # a void of a registration made in error
    "amend": CORRECTION,  # an amendment of a mistyped event
    "in_error": CORRECTION,  # the registration made in error, voided later
    "crossing": CROSSING,  # a late registration recorded after a later event
}


@dataclass(frozen=True)
class Mistake:
    """A deliberate irregularity in the stream, so downstream checks can be tested
    against it: a mistake the processors must reject, a correction, or a late
    registration that crosses a later event."""

    event_id: UUID
    # "duplicate" | "unknown_commune" | "contradiction:<what>" (mistakes);
    # "void:<Type>" | "in_error:<Type>" | "amend:<Type>" (corrections);
    # "crossing:<what>" (late registrations)
    kind: str
    # a correction's target; the registration a void voids (for "in_error"); the
    # later-occurring event a crossing registration was recorded after
    related: UUID | None = None
    detail: str = ""  # an amendment's field, e.g. "place"

    @property
    def category(self) -> str:
        return _CATEGORY.get(self.kind.split(":")[0], MISTAKE)
