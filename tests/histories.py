"""Histories shared by the tests of the fold, the indicators, checkpoints and replay.

- `SYNTH`: a synthetic province (150 households, 2020-2024, with the generator's
  mistakes), and `with_corrections` of it: voids and amendments recorded around
  their targets.
- The one-truth stories (`CASES`): short histories with an event recorded late,
  across a later event about the same people.
- Logs of a history: `records` (one partition, as the indicator fold takes them),
  `as_log` (several partitions, in arrival order) and the `positions` after one.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from producers.synth import Synth, SynthConfig
from projections.domain.record import Record
from schemas.models import BirthRegistered, Event
from schemas.validation import event_json, parse_event
from tests.builders import (
    UNITS,
    birth,
    death,
    enumerated,
    enumerated_household,
    event,
    marriage,
    moved_out,
)

SECRET = b"test-secret"  # the pseudonym key the pure indicator tests fold with

# --- a synthetic province ---------------------------------------------------------

SYNTH = list(
    Synth(
        SynthConfig("96", 150, 2020, 2024, 11, datetime(2025, 3, 1, tzinfo=UTC), error_rate=0.03),
        UNITS,
    ).events()
)


# --- logs of a history -------------------------------------------------------------


def records(events: list[Event]) -> list[Record]:
    return [Record(0, n, e, None, None) for n, e in enumerate(events)]


def as_log(events: list[Event], partitions: int = 2) -> list[Record]:
    """The events as a log of `partitions` partitions, in arrival order; without their
    bytes, as the bulk reader gives decoded events."""
    offsets = dict.fromkeys(range(partitions), 0)
    log = []
    for n, e in enumerate(events):
        p = n % partitions
        log.append(Record(p, offsets[p], e, None, None))
        offsets[p] += 1
    return log


def positions(records: list[Record]) -> dict[int, int]:
    found = {0: 0, 1: 0}
    for r in records:
        found[r.partition] = max(found[r.partition], r.offset + 1)
    return found


# --- recorded late, corrected -----------------------------------------------------


def recorded(event: Event, day: str, at: str = "03:00:00.000") -> Event:
    """The event as recorded on `day` (UTC)."""
    data: dict[str, Any] = event_json(event)
    data["envelope"]["recorded_at"] = f"{day}T{at}Z"
    return parse_event(data)


def in_log_order(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.envelope.recorded_at, e.envelope.event_id))


def with_corrections(seed: int, count: int = 40) -> list[Event]:
    """SYNTH with voids and amendments of random events, recorded up to 60 days after
    their target (a few before it: they wait for it), in recording order."""
    rng = random.Random(seed)
    fixes: list[Event] = []
    for target in rng.sample(SYNTH, count):
        env = target.envelope
        recorded = env.recorded_at + timedelta(days=rng.choice([-1, 0, 1, 7, 30, 60]))
        fields: dict[str, object] = {"target_event_id": str(env.event_id), "reason": "x"}
        kind = "EventVoided"
        if isinstance(target, BirthRegistered) and rng.random() < 0.5:
            kind = "EventAmended"
            sex = "FEMALE" if target.child.sex == "MALE" else "MALE"
            fields["corrected_fields"] = {"child.sex": json.dumps(sex)}
        day = (recorded - timedelta(days=1)).date().isoformat()
        fixes.append(event(kind, env.household_id, day, recorded=recorded.isoformat(), **fields))
    return sorted([*SYNTH, *fixes], key=lambda e: e.envelope.recorded_at)


# --- the one-truth stories ---------------------------------------------------------

ENUMERATED = "2023-01-02"

# Ids shaped like the generator's, so that `id_space.retag` moves the stories
# into a test's own id space on the shared stack.
H1, H2 = "H96-1", "H96-2"
M, C, A, B = "P96-1", "P96-2", "P96-3", "P96-4"


def late_birth_after_the_mothers_death() -> list[Event]:
    """A birth on 2023-02-03 recorded on 2023-05-04; the mother died on 2023-02-06,
    recorded the next day. She was alive on the day: the birth counts."""
    return [
        recorded(enumerated_household(H1, M, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(M, H1, "HEAD", born="1995-01-01", day=ENUMERATED), ENUMERATED),
        recorded(birth(C, M, H1, day="2023-02-03"), "2023-05-04"),
        recorded(death(M, H1, day="2023-02-06"), "2023-02-07"),
    ]


def two_move_outs_recorded_out_of_order() -> list[Event]:
    """A leaves H1 on 2023-03-01 (recorded on 2023-07-01), B on 2023-05-01 (recorded
    the next day): H1 is empty from 2023-05-01, not from 2023-03-01."""
    return [
        recorded(enumerated_household(H1, A, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(A, H1, "HEAD", day=ENUMERATED), ENUMERATED),
        recorded(enumerated(B, H1, "CHILD", born="2000-01-01", day=ENUMERATED), ENUMERATED),
        recorded(moved_out(H1, [A], day="2023-03-01"), "2023-07-01"),
        recorded(moved_out(H1, [B], day="2023-05-01"), "2023-05-02"),
    ]


def partner_enumerated_after_the_marriage() -> list[Event]:
    """B is enumerated on 2023-01-10 but recorded on 2023-06-01, after the marriage of
    A and B on 2023-04-01 was recorded: the marriage counts, as the registry says."""
    return [
        recorded(enumerated_household(H1, A, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(A, H1, "HEAD", sex="MALE", day=ENUMERATED), ENUMERATED),
        recorded(enumerated_household(H2, B, day="2023-01-10"), "2023-01-10"),
        recorded(enumerated(B, H2, "HEAD", day="2023-01-10"), "2023-06-01"),
        recorded(marriage(A, B, H1, day="2023-04-01"), "2023-04-02"),
    ]


CASES = {
    "late birth after the mother's death": late_birth_after_the_mothers_death,
    "two move-outs recorded out of order": two_move_outs_recorded_out_of_order,
    "partner enumerated after the marriage": partner_enumerated_after_the_marriage,
}
