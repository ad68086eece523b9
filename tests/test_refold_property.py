"""The live projector's re-fold, without the stack, held to the fold of the whole log.

Generated histories with late registrations that cross later events, voids,
amendments and the generator's mistakes (duplicates, unknown communes,
contradictions) are fed in the order they were recorded, in batches of random sizes,
through `projections.domain.refold` with the in-memory store; what the store holds at
the end must be what `history.fold_log` gives over the whole log at once: the same
registry, and the same verdict for every event. The live projector runs the same
re-fold against PostgreSQL (`projections.postgres_store`), which the stack tests
hold to the same fold.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.synth import Synth, SynthConfig
from projections.domain.history import VOIDED, correction_verdict, fold_log, verdict
from projections.domain.memory_store import MemoryStore
from projections.domain.refold import Refold, unseen
from schemas.admin_units import load
from schemas.models import Event, EventAmended, EventVoided

UNITS = load()
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Projected:
    store: MemoryStore
    refolded: int  # events applied again by re-folds
    duplicates: int


def log_order(events: Sequence[Event]) -> list[Event]:
    """As the log holds them: in the order they were recorded."""
    return sorted(events, key=lambda e: (e.envelope.recorded_at, e.envelope.event_id))


def project(log: Sequence[Event], sizes: Sequence[int]) -> Projected:
    """The log through the re-fold, batch after batch, each batch's sizes in turn."""
    store = MemoryStore()
    refolded = duplicates = 0
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(log):
            break
        batch = log[start : start + size]
        start += size
        new, twins = unseen(store, [(None, event) for event in batch])
        events = [event for _, event in new]
        done = Refold(store, UNITS).run(events)
        store.commit(events, done)
        refolded += done.refolded
        duplicates += twins
    return Projected(store, refolded, duplicates)


def expected_verdicts(log: Sequence[Event]) -> dict[UUID, tuple[str, str | None]]:
    """Every event's outcome and reason by the fold of the whole log: a state event's
    by the fold, voided if a correction took it out; a correction's by its target."""
    first: dict[UUID, Event] = {}
    for event in log:
        first.setdefault(event.envelope.event_id, event)
    _, verdicts = fold_log(log, UNITS)
    found: dict[UUID, tuple[str, str | None]] = {}
    for event_id, event in first.items():
        if isinstance(event, EventVoided | EventAmended):
            found[event_id] = verdict(correction_verdict(event, first.get(event.target_event_id)))
        else:
            found[event_id] = verdict(verdicts.get(event_id, VOIDED))
    return found


def assert_projects_like_the_whole_log(log: Sequence[Event], sizes: Sequence[int]) -> Projected:
    projected = project(log, sizes)
    store = projected.store
    registry, _ = fold_log(log, UNITS)
    assert store.registry() == registry
    found = {event_id: (s.outcome, s.reason) for event_id, s in store.events.items()}
    expected = expected_verdicts(log)
    assert found.keys() == expected.keys()
    wrong = {i: (found[i], expected[i]) for i in expected if found[i] != expected[i]}
    assert not wrong, f"{len(wrong)} of {len(expected)} verdicts differ: {list(wrong.items())[:3]}"
    assert projected.duplicates == len(log) - len(expected)
    # What the next batch loads an entity from is its newest version: it must be the
    # entity as it now is.
    for entity, kept in store.versions.items():
        newest = kept[max(kept)] if kept else None
        assert newest == store.current.get(entity), entity
    return projected


def history(config: SynthConfig) -> list[Event]:
    return log_order(list(Synth(config, UNITS).events()))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 2**32),
    households=st.integers(3, 25),
    first_year=st.integers(2019, 2023),
    void_rate=st.floats(0.0, 0.3),
    amend_rate=st.floats(0.0, 0.3),
    crossing_rate=st.floats(0.0, 0.5),
    error_rate=st.floats(0.0, 0.1),
    sizes=st.lists(st.integers(1, 80), min_size=1, max_size=8),
)
def test_the_refold_in_batches_gives_what_the_whole_log_gives(
    seed: int,
    households: int,
    first_year: int,
    void_rate: float,
    amend_rate: float,
    crossing_rate: float,
    error_rate: float,
    sizes: list[int],
) -> None:
    config = SynthConfig(
        "96",
        households,
        first_year,
        2025,
        seed,
        NOW,
        error_rate=error_rate,
        void_rate=void_rate,
        amend_rate=amend_rate,
        crossing_rate=crossing_rate,
    )
    assert_projects_like_the_whole_log(history(config), sizes)


def test_a_realistic_history_refolds_and_agrees_one_event_or_all_at_a_time() -> None:
    """The extremes of batching on one history with many corrections and crossings:
    one event a batch (every late event re-folds against what is stored) and the
    whole log in one batch; the re-fold is exercised, not bypassed."""
    log = history(
        SynthConfig(
            "96",
            60,
            2019,
            2025,
            5,
            NOW,
            error_rate=0.02,
            void_rate=0.05,
            amend_rate=0.05,
            crossing_rate=0.2,
        )
    )
    one_by_one = assert_projects_like_the_whole_log(log, [1])
    assert one_by_one.refolded > 0
    assert assert_projects_like_the_whole_log(log, [len(log)]).refolded > 0
