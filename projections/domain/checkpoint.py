"""Checkpoints: the fold of the settled part of the log, so replay reads only the rest.

A checkpoint taken at log positions `positions` holds the registry after every event
before them that occurred on or before `settled_through` (D), the corrections of those
events included; the other events before the positions (occurred after D, or
corrections of them) are kept as the `tail`. Replaying cutoffs (as_of, known_at) from
it gives exactly the replay from offset 0 when

- `as_of >= D` and `known_at >= known_through` (the newest `recorded_at` of the
  events folded in), so every settled event counts, as it did in the checkpoint; and
- no event still to fold (tail or after the positions) that counts is effective on or
  before D (a registration later than the checkpoint allowed for), and none corrects a
  settled event: then every event left comes after the settled ones in history order,
  so folding it onto the checkpoint is the fold from empty.

Otherwise the checkpoint is refused with the reason, and an older one (or offset 0)
serves. D is chosen some way back (`settle_days`) because late registrations arrive
months or years after the fact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from projections.domain import fold
from projections.domain.as_of import AsOfRegistry, Cutoffs, Scope, as_of_registry
from projections.domain.history import effective_events, is_correction
from projections.domain.record import Record
from projections.domain.state import Registry
from schemas.admin_units import AdminUnits
from schemas.models import Event, EventAmended, EventVoided


class Refused(Exception):
    """This checkpoint (or fold snapshot) cannot serve; `str(self)` says why."""


@dataclass
class Checkpoint:
    topic: str
    positions: dict[int, int]  # next offset to read, per partition
    settled_through: date
    known_through: datetime | None  # newest recorded_at of the events folded in
    registry: Registry
    settled_ids: frozenset[bytes]  # every state event folded into `registry` (UUID bytes)
    tail: list[Record]  # records before the positions not folded into `registry`
    counted: int = 0  # events folded in, corrections included
    by_type: dict[str, int] = field(default_factory=dict)  # effective events by type


def empty(topic: str, partitions: int) -> Checkpoint:
    """Offset 0: nothing read, nothing settled."""
    return Checkpoint(
        topic, dict.fromkeys(range(partitions), 0), date.min, None, Registry(), frozenset(), []
    )


def _targets(events: Iterable[Event]) -> Iterator[UUID]:
    for event in events:
        if isinstance(event, EventVoided | EventAmended):
            yield event.target_event_id


def check(checkpoint: Checkpoint, events: list[Event]) -> None:
    """Raise Refused unless folding `events` onto the checkpoint equals the fold from
    empty; `events` are the effective ones after it, in history order."""
    late = next((e for e in events if e.envelope.occurred_on <= checkpoint.settled_through), None)
    if late is not None:
        raise Refused(
            f"event {late.envelope.event_id} ({late.type}) occurred on"
            f" {late.envelope.occurred_on}, on or before the checkpoint's settled date"
            f" {checkpoint.settled_through}, but was recorded after it was taken"
        )


def _check_corrections(checkpoint: Checkpoint, counted: list[Event]) -> None:
    hit = next((t for t in _targets(counted) if t.bytes in checkpoint.settled_ids), None)
    if hit is not None:
        raise Refused(f"a correction recorded after the checkpoint targets settled event {hit}")


def resume(
    checkpoint: Checkpoint,
    rest: list[Event],
    units: AdminUnits,
    cutoffs: Cutoffs,
    scope: Scope,
) -> AsOfRegistry:
    """The registry for `cutoffs` from the checkpoint and the events it has not folded
    (its tail and the log after its positions); raises Refused if it cannot serve.
    Folds onto the checkpoint's registry: a checkpoint serves one replay."""
    if cutoffs.as_of < checkpoint.settled_through:
        raise Refused(
            f"as-of {cutoffs.as_of} is before the checkpoint's settled date"
            f" {checkpoint.settled_through}"
        )
    known = checkpoint.known_through
    if known is not None and cutoffs.known_at < known:
        raise Refused(f"known-at {cutoffs.known_at} is before the checkpoint's {known}")
    counted = [e for e in rest if cutoffs.counts(e)]
    _check_corrections(checkpoint, [e for e in rest if cutoffs.known(e)])
    effective = cutoffs.in_force(rest)
    check(checkpoint, effective)
    registry = checkpoint.registry
    for event in effective:
        fold.apply(registry, event, units)
    by_type = Counter(checkpoint.by_type) + Counter[str](e.type for e in effective)
    return as_of_registry(
        registry, units, cutoffs, scope, checkpoint.counted + len(counted), by_type
    )


def advance(
    checkpoint: Checkpoint,
    records: list[Record],
    positions: dict[int, int],
    settled_through: date,
    units: AdminUnits,
) -> Checkpoint:
    """A newer checkpoint: the old one's tail and `records` (the log from its positions
    to `positions`) folded in up to `settled_through`; raises Refused if the old one
    cannot serve as a base (then build from `empty`)."""
    if settled_through < checkpoint.settled_through:
        raise Refused(f"cannot move the settled date back to {settled_through}")
    pending = [(r, r.event) for r in [*checkpoint.tail, *records] if r.event is not None]
    events = [e for _, e in pending]
    _check_corrections(checkpoint, events)
    settled = {
        e.envelope.event_id.bytes
        for e in events
        if not is_correction(e) and e.envelope.occurred_on <= settled_through
    }

    def is_settled(event: Event) -> bool:
        if isinstance(event, EventVoided | EventAmended):
            return event.target_event_id.bytes in settled
        return event.envelope.event_id.bytes in settled

    folding = [e for e in events if is_settled(e)]
    effective = effective_events(folding)
    check(checkpoint, effective)
    moved = next((e for e in effective if e.envelope.occurred_on > settled_through), None)
    if moved is not None:
        raise Refused(f"an amendment moves event {moved.envelope.event_id} past {settled_through}")
    registry = checkpoint.registry
    for event in effective:
        fold.apply(registry, event, units)
    recorded = [e.envelope.recorded_at for e in folding]
    if checkpoint.known_through is not None:
        recorded.append(checkpoint.known_through)
    return Checkpoint(
        checkpoint.topic,
        positions,
        settled_through,
        max(recorded, default=None),
        registry,
        checkpoint.settled_ids | settled,
        [r for r, e in pending if not is_settled(e)],
        checkpoint.counted + len(folding),
        dict(Counter(checkpoint.by_type) + Counter(e.type for e in effective)),
    )
