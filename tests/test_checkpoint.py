"""Checkpoints: replay from a checkpoint equals replay from offset 0, or is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from producers.synth import Synth, SynthConfig
from projections.checkpoint_files import listed, load, meta_of, prune, save
from projections.domain.as_of import Cutoffs, Scope, take
from projections.domain.checkpoint import Checkpoint, Refused, advance, empty, resume
from projections.domain.record import Record
from schemas.models import Event
from schemas.wire import Codec
from tests.builders import UNITS, death, enumerated, enumerated_household, event
from tests.histories import as_log, positions

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVERYWHERE = Scope()
CODEC = Codec()
SYNTH = list(  # seven years after the enumeration, with duplicates, voids and late events
    Synth(
        SynthConfig("96", 80, 2018, 2024, 5, datetime(2025, 3, 1, tzinfo=UTC), error_rate=0.05),
        UNITS,
    ).events()
)


def cut_at(day: date) -> int:
    """Where the log stood when `day` began: the first event recorded on it or later."""
    return next(n for n, e in enumerate(SYNTH) if e.envelope.recorded_at.date() >= day)


def taken(records: list[Record], settled: date, base: Checkpoint | None = None) -> Checkpoint:
    return advance(base or empty("t", 2), records, positions(records), settled, UNITS)


def reloaded(checkpoint: Checkpoint, root: Path) -> Checkpoint:
    where = save(checkpoint, root)
    return load(where, meta_of(where), CODEC)


def from_checkpoint(
    checkpoint: Checkpoint, rest: list[Record], cutoffs: Cutoffs, root: Path
) -> str:
    fresh = reloaded(checkpoint, root)
    events = [r.event for r in [*fresh.tail, *rest] if r.event is not None]
    return resume(fresh, events, UNITS, cutoffs, EVERYWHERE).content_hash


def from_zero(events: list[Event], cutoffs: Cutoffs) -> str:
    return take(events, UNITS, cutoffs, EVERYWHERE).content_hash


@pytest.mark.parametrize("taken_on", ["2020-01-01", "2022-07-01", "2024-12-01"])
def test_a_checkpoint_gives_the_snapshot_of_offset_zero(taken_on: str, tmp_path: Path) -> None:
    log = as_log(SYNTH)
    day = date.fromisoformat(taken_on)
    cut = cut_at(day)
    checkpoint = taken(log[:cut], day - timedelta(days=180))
    assert checkpoint.counted > 0 and checkpoint.tail
    cases = [
        Cutoffs(date(2025, 12, 31), NOW),
        Cutoffs(checkpoint.settled_through + timedelta(days=200), NOW),
        Cutoffs(date(2025, 12, 31), (checkpoint.known_through or NOW) + timedelta(days=30)),
    ]
    served = 0
    for cutoffs in cases:
        try:
            got = from_checkpoint(checkpoint, log[cut:], cutoffs, tmp_path)
        except Refused as reason:
            assert "settled" in str(reason)
            continue
        assert got == from_zero(SYNTH, cutoffs)
        served += 1
    assert served >= 2


def test_a_checkpoint_advanced_from_another_is_the_same(tmp_path: Path) -> None:
    log = as_log(SYNTH)
    a, b = (cut_at(day) for day in (date(2021, 1, 1), date(2023, 1, 1)))
    first = reloaded(taken(log[:a], date(2020, 7, 1)), tmp_path)
    second = taken(log[a:b], date(2022, 7, 1), base=first)
    direct = taken(log[:b], date(2022, 7, 1))
    assert second.positions == direct.positions
    assert second.settled_ids == direct.settled_ids
    assert [r.key for r in second.tail] == [r.key for r in direct.tail]
    cutoffs = Cutoffs(date(2025, 12, 31), NOW)
    assert from_checkpoint(second, log[b:], cutoffs, tmp_path) == from_zero(SYNTH, cutoffs)


def story() -> tuple[list[Record], Checkpoint]:
    settled = [
        enumerated_household("H1", "M1", 2),
        enumerated("M1", "H1", "HEAD", "FEMALE", "1960-01-01"),
        enumerated("G1", "H1", "PARENT", "FEMALE", "1940-01-01", "WIDOWED"),
    ]
    log = as_log(settled)
    return log, taken(log, date(2024, 3, 1))


def test_a_registration_older_than_the_settled_date_refuses_the_checkpoint() -> None:
    _, checkpoint = story()
    late_death = death("G1", day="2024-02-01")
    with pytest.raises(Refused, match="settled date 2024-03-01"):
        resume(checkpoint, [late_death], UNITS, Cutoffs(date(2025, 1, 1), NOW), EVERYWHERE)


def test_a_correction_of_a_settled_event_refuses_the_checkpoint() -> None:
    log, checkpoint = story()
    target = log[2].event
    assert target is not None
    void = event(
        "EventVoided",
        "H1",
        "2024-06-01",
        recorded="2024-06-01T03:00:00Z",
        target_event_id=str(target.envelope.event_id),
        reason="wrong person",
    )
    with pytest.raises(Refused, match="targets settled event"):
        resume(checkpoint, [void], UNITS, Cutoffs(date(2025, 1, 1), NOW), EVERYWHERE)


def test_cutoffs_before_what_the_checkpoint_settled_refuse_it() -> None:
    _, checkpoint = story()
    with pytest.raises(Refused, match="as-of 2024-01-01 is before"):
        resume(checkpoint, [], UNITS, Cutoffs(date(2024, 1, 1), NOW), EVERYWHERE)
    known = datetime(2023, 1, 1, tzinfo=UTC)
    with pytest.raises(Refused, match="known-at"):
        resume(checkpoint, [], UNITS, Cutoffs(date(2025, 1, 1), known), EVERYWHERE)


def test_a_damaged_checkpoint_is_refused_and_pruning_keeps_the_newest(tmp_path: Path) -> None:
    _, checkpoint = story()
    older = save(checkpoint, tmp_path)
    newer = save(checkpoint, tmp_path)
    assert listed(tmp_path) == [newer, older]
    with (newer / "persons.parquet").open("ab") as f:
        f.write(b"tampered")
    with pytest.raises(Refused, match=r"persons\.parquet"):
        load(newer, meta_of(newer), CODEC)
    (older / "checkpoint.json").write_text("{")
    with pytest.raises(Refused, match="unreadable"):
        meta_of(older)
    assert prune(tmp_path, keep=1) == [older]
    assert listed(tmp_path) == [newer]
