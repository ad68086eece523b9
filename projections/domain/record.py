"""One message of the event log as the folds see it, whichever reader read it."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.codec import DecodeError
from schemas.models import Event


@dataclass(frozen=True)
class Record:
    """One message of the log: an event, or the reason it is not one."""

    partition: int
    offset: int
    event: Event | None
    error: DecodeError | None
    value: bytes | None

    @property
    def key(self) -> tuple[int, int]:
        return self.partition, self.offset
