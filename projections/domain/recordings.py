"""Who recorded each event, and how: the rows behind the programme's collaborator figures
(active collaborators per commune, and the share who recorded from a phone in the last
30 days: `005_collaborators.sql`).

A recording is a fact about the log, not about the registry: an event recorded and then
voided, or refused by the fold, was still recorded by its collaborator. So these rows are
made from each event as it is read, outside the fold, and a row written twice (a batch
read again after a crash) changes no figure: the figures count distinct collaborators,
and the table keeps one row per event (`ReplacingMergeTree`). The collaborator is a
pseudonymous key, like a person's (`indicator_rows.pseudonym`), under its own prefix.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from projections.domain.indicator_rows import pseudonym
from schemas.models import VIETNAM, Event

COLUMNS: tuple[str, ...] = ("event_id", "reporter_key", "commune_code", "channel", "recorded_at")
Recording = tuple[UUID, int, str, str, datetime]
ROSTER_COLUMNS: tuple[str, ...] = ("collaborator_key", "commune_code", "enrolled_on", "revoked_on")


@dataclass(frozen=True)
class Member:
    """A collaborator's account as the figures see it: a key, a commune, two days."""

    collaborator_key: int
    commune_code: str
    enrolled_on: date  # in Vietnam
    revoked_on: date | None

    def active_on(self, day: date) -> bool:
        return self.enrolled_on <= day and (self.revoked_on is None or self.revoked_on > day)

    def row(self) -> tuple[Any, ...]:
        return astuple(self)


def member(
    secret: bytes,
    collaborator_id: str,
    commune_code: str,
    enrolled_at: datetime,
    revoked_at: datetime | None,
) -> Member:
    """A roster entry de-identified: its id as a key, its instants as days in Vietnam."""
    return Member(
        reporter_key(secret, collaborator_id),
        commune_code,
        enrolled_at.astimezone(VIETNAM).date(),
        None if revoked_at is None else revoked_at.astimezone(VIETNAM).date(),
    )


def reporter_key(secret: bytes, reporter_id: str) -> int:
    """A collaborator's pseudonymous key; never equal to a person's with the same id."""
    return pseudonym(secret, f"reporter:{reporter_id}")


def recording(event: Event, secret: bytes) -> Recording:
    env = event.envelope
    return (
        env.event_id,
        reporter_key(secret, env.reporter_id),
        env.commune_code,
        env.channel.value,
        env.recorded_at,
    )


def recordings(events: list[Any], secret: bytes) -> list[Recording]:
    """The recordings of the decoded ones among `events` (None: a message that is none)."""
    return [recording(event, secret) for event in events if event is not None]
