"""Which events count, and in what order: corrections resolved, history order.

History order is `(occurred_on, recorded_at, event_id)`: what happened first is
applied first, however late it was registered. Corrections are resolved before
folding: a void removes its target, an amendment replaces it (same event_id) with
the corrected fields, several amendments apply in the order they were recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from projections.domain import fold
from projections.domain.fold import Rejection
from projections.domain.state import Registry
from schemas.admin_units import AdminUnits
from schemas.models import Event, EventAmended, EventVoided
from schemas.validation import InvalidEvent, event_json, parse_event

Key = tuple[date, datetime, UUID]
Correction = EventVoided | EventAmended


def key_of(event: Event) -> Key:
    env = event.envelope
    return env.occurred_on, env.recorded_at, env.event_id


def is_correction(event: Event) -> bool:
    return isinstance(event, EventVoided | EventAmended)


class InvalidAmendment(ValueError):
    """An amendment that names no field of its target, or makes it invalid."""


def amended(target: Event, amendment: EventAmended) -> Event:
    """The target with the amendment's corrected fields (dotted paths, JSON values)."""
    if is_correction(target):
        raise InvalidAmendment(f"event {target.envelope.event_id} is itself a correction")
    data: dict[str, Any] = event_json(target)
    for path, encoded in sorted(amendment.corrected_fields.items()):
        *parents, name = path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or name not in node:
            raise InvalidAmendment(f"{target.type} has no field {path}")
        node[name] = json.loads(encoded)
    try:
        return parse_event(data)
    except InvalidEvent as error:
        raise InvalidAmendment(str(error)) from None


VOIDED = Rejection("voided", "voided or replaced by a correction")


def verdict(rejection: Rejection | None) -> tuple[str, str | None]:
    """An event's `outcome` and `reason` in the archive."""
    if rejection is None:
        return "applied", None
    return ("voided" if rejection is VOIDED else "rejected"), rejection.reason


def correction_verdict(correction: Correction, target: Event | None) -> Rejection | None:
    """Whether a correction takes effect: its target must be a state event in the log,
    and an amendment must leave it valid."""
    if target is None:
        return Rejection("unknown_target", f"no event {correction.target_event_id} in the log")
    if is_correction(target):
        return Rejection(
            "correction_of_correction", f"event {correction.target_event_id} is a correction"
        )
    if isinstance(correction, EventAmended):
        try:
            amended(target, correction)
        except InvalidAmendment as error:
            return Rejection("invalid_amendment", str(error))
    return None


def effective_events(events: Iterable[Event]) -> list[Event]:
    """The state events that count once every correction among `events` is applied,
    in history order. Corrections of unknown targets or invalid amendments change nothing."""
    state: dict[UUID, Event] = {}
    corrections: list[Correction] = []
    for event in events:
        if isinstance(event, EventVoided | EventAmended):
            corrections.append(event)
        else:
            state[event.envelope.event_id] = event
    for correction in sorted(
        corrections, key=lambda c: (c.envelope.recorded_at, c.envelope.event_id)
    ):
        target = state.get(correction.target_event_id)
        if target is None:
            continue
        if isinstance(correction, EventVoided):
            del state[correction.target_event_id]
            continue
        try:
            state[correction.target_event_id] = amended(target, correction)
        except InvalidAmendment:
            continue
    return sorted(state.values(), key=key_of)


def fold_log(
    events: Iterable[Event], units: AdminUnits
) -> tuple[Registry, dict[UUID, Rejection | None]]:
    """The registry after every effective event, from empty; each event's verdict."""
    registry = Registry()
    verdicts: dict[UUID, Rejection | None] = {}
    for event in effective_events(events):
        verdicts[event.envelope.event_id] = fold.apply(registry, event, units)
    return registry, verdicts
