"""The de-identified indicator rows: derived by the fold, corrected by differences."""

from __future__ import annotations

import itertools
import json
import random
import zlib
from collections import Counter
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.domain import indicator_rows
from projections.domain.indicator_rows import (
    NO_EVENT,
    IndicatorFold,
    IndicatorState,
    Row,
    difference,
    fold_all,
    pseudonym,
)
from projections.domain.record import Record
from projections.domain.state import ALIVE
from schemas.codec import DecodeError
from schemas.models import Event
from tests.builders import (
    UNITS,
    enumerated,
    enumerated_household,
    event,
    family,
    marriage,
)
from tests.histories import SECRET, SYNTH, records, with_corrections
from tests.verdicts import net


def total(rows: list[Row], table: str, **where: object) -> int:
    from projections.domain.indicator_rows import COLUMNS

    columns = COLUMNS[table]
    return sum(
        v[-1]
        for t, v in rows
        if t == table and all(v[columns.index(k)] == w for k, w in where.items())
    )


def test_the_stock_of_persons_and_households_equals_the_registry_the_fold_keeps() -> None:
    state = fold_all(records(SYNTH), UNITS, SECRET)
    rows = list(state.all_rows())
    registry = state.fold.registry
    residents = [p for p in registry.persons.values() if p.vital_status == ALIVE and p.household_id]
    households = [h for h in registry.households.values() if h.dissolved_on is None]
    assert total(rows, "population_deltas") == len(residents)
    assert total(rows, "household_deltas") == len(households)
    for sex in ("MALE", "FEMALE"):
        assert total(rows, "population_deltas", sex=sex) == sum(r.sex == sex for r in residents)
    reasons = Counter(v[3] for t, v in rows if t == "rejections")
    assert reasons["dead_person"] > 0 and reasons["unknown_commune"] > 0


def test_a_birth_and_a_death_write_their_facts_and_move_the_stock() -> None:
    rows = list(fold_all(records(family()), UNITS, SECRET).all_rows())
    births = [v for t, v in rows if t == "vital_events" and v[1] == "BirthRegistered"]
    assert len(births) == 1
    (birth_row,) = births
    assert birth_row[8:11] == ("MALE", 0, 33)  # the child's sex and age, the mother's age
    assert birth_row[7] == pseudonym(SECRET, "C1")
    deaths = [v for t, v in rows if t == "vital_events" and v[1] == "DeathRegistered"]
    assert deaths[0][9] == 74  # completed years on the day of death
    assert total(rows, "population_deltas") == 3  # 3 enumerated, +1 born, -1 died
    assert total(rows, "population_deltas", birth_date=datetime(1950, 1, 1).date()) == 0


def test_a_marriage_moves_two_persons_from_never_married_to_married() -> None:
    events = [
        enumerated_household("H1", "A"),
        enumerated("A", "H1", "HEAD", "MALE", "1995-01-01"),
        enumerated_household("H2", "B"),
        enumerated("B", "H2", "HEAD", "FEMALE", "1997-01-01"),
        marriage("A", "B", "H1"),
    ]
    rows = list(fold_all(records(events), UNITS, SECRET).all_rows())
    assert total(rows, "population_deltas", marital_status="NEVER_MARRIED") == 0
    assert total(rows, "population_deltas", marital_status="MARRIED") == 2
    assert total(rows, "household_deltas") == 1  # B's household dissolved when she left


def test_a_void_of_a_birth_cancels_its_fact_and_its_baby() -> None:
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    events = family()
    state.take(records(events))
    target = events[4]
    void = event(
        "EventVoided", "H1", "2024-03-20", target_event_id=str(target.envelope.event_id), reason="x"
    )
    taken = state.take([Record(0, 99, void, None, None)])
    assert not taken.refolded  # its target is in the window: taken back, not re-folded
    assert total(taken.rows, "vital_events", event_type="BirthRegistered") == -1
    assert total(taken.rows, "population_deltas") == -1
    assert total(taken.rows, "vital_events", event_type="EventVoided") == 1
    assert net(list(state.all_rows())) == net(
        list(fold_all(records([*events, void]), UNITS, SECRET).all_rows())
    )


def test_an_amendment_moves_a_birth_from_boys_to_girls() -> None:
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    events = family()
    state.take(records(events))
    amendment = event(
        "EventAmended",
        "H1",
        "2024-03-20",
        target_event_id=str(events[4].envelope.event_id),
        reason="sex mistyped",
        corrected_fields={"child.sex": json.dumps("FEMALE")},
    )
    rows = state.take([Record(0, 99, amendment, None, None)]).rows
    births = {"event_type": "BirthRegistered"}
    assert total(rows, "vital_events", sex="MALE", **births) == -1
    assert total(rows, "vital_events", sex="FEMALE", **births) == 1
    assert (
        total(rows, "population_deltas", sex="FEMALE", birth_date=events[4].envelope.occurred_on)
        == 1
    )


def test_a_void_that_arrives_before_its_target_still_cancels_it() -> None:
    events = family()
    void = event(
        "EventVoided",
        "H1",
        "2024-02-01",
        recorded="2024-02-01T00:00:00Z",
        target_event_id=str(events[4].envelope.event_id),
        reason="x",
    )
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    state.take(records([void]))
    state.take(records(events))
    rows = list(state.all_rows())
    assert total(rows, "vital_events", event_type="BirthRegistered") == 0
    assert total(rows, "population_deltas") == 2


def test_duplicates_count_once_and_undecodable_bytes_are_rejections() -> None:
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    events = family()
    state.take(records(events))
    again = state.take(records(events[:3]))
    assert again.duplicates == 3 and again.rows == []
    bad = Record(0, 50, None, DecodeError("not_avro", "junk"), b"junk")
    taken = state.take([bad])
    assert taken.rows == [("rejections", (NO_EVENT, "", "", "not_avro", None, None, "", 1))]


def test_no_row_holds_a_name_an_id_or_an_address() -> None:
    secrets = set()
    for e in SYNTH:
        data = e.model_dump(mode="json")
        secrets |= {data["envelope"]["household_id"], data.get("address")}
        for person in [data.get("person"), data.get("child"), *data.get("persons", [])]:
            if person:
                secrets |= {person["person_id"], person["full_name"], person.get("national_id")}
    secrets.discard(None)
    values = {str(v) for _, row in fold_all(records(SYNTH), UNITS, SECRET).all_rows() for v in row}
    assert not values & secrets


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, len(SYNTH) - 1), max_size=8))
def test_taking_the_log_in_any_batches_gives_the_rows_of_one_fold(cuts: list[int]) -> None:
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    every = records(SYNTH)
    bounds = [0, *sorted(set(cuts)), len(every)]
    written: list[Row] = []
    for start, end in itertools.pairwise(bounds):
        written += state.take(every[start:end]).rows
    whole = list(fold_all(every, UNITS, SECRET).all_rows())
    assert difference(written, whole) == []


def take_all(batches: list[list[Record]], backlog: bool = False) -> tuple[list[Row], list[bool]]:
    """Every batch through one state, caught up after each (a `backlog`: only after the
    last); the rows written, and which batches re-folded."""
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    written: list[Row] = []
    refolded: list[bool] = []
    for n, batch in enumerate(batches):
        taken = state.take(batch, caught_up=not backlog or n == len(batches) - 1)
        written += taken.rows
        refolded.append(taken.refolded)
    return written, refolded


def one_fold(events: list[Event]) -> list[Row]:
    return list(fold_all(records(events), UNITS, SECRET).all_rows())


def test_partitions_read_far_apart_converge_to_the_one_fold_once_caught_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Households' events in three partitions, one read far ahead of the others (a
    backlog, beyond the window): judged as they come, then re-folded once caught up."""
    monkeypatch.setattr(indicator_rows, "WINDOW_DAYS", 20)
    partitions: list[list[Record]] = [[], [], []]
    for n, e in enumerate(SYNTH):
        partitions[zlib.crc32(e.envelope.household_id.encode()) % 3].append(
            Record(0, n, e, None, None)
        )
    batches = [p[i : i + 400] for p in partitions for i in range(0, len(p), 400)]
    written, refolded = take_all(batches, backlog=True)
    assert refolded == [n == len(batches) - 1 for n in range(len(batches))]
    assert difference(written, one_fold(SYNTH)) == []


def skewed_batches(
    seed: int, partitions: int = 3, size: int = 60, events: list[Event] = SYNTH
) -> list[list[Record]]:
    """The log's partitions read side by side, each batch taking a random share of each:
    a batch holds events recorded before events of the batch before it."""
    rng = random.Random(seed)
    queues: list[list[Record]] = [[] for _ in range(partitions)]
    for n, e in enumerate(events):
        queues[zlib.crc32(e.envelope.household_id.encode()) % partitions].append(
            Record(0, n, e, None, None)
        )
    batches = []
    while any(queues):
        batch = []
        for queue in queues:
            take = rng.randint(0, size)
            batch += queue[:take]
            del queue[:take]
        batches.append(batch)
    return batches


@pytest.fixture
def wide_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window as wide as the whole test history: this small province's partitions,
    read side by side, drift years apart (a province's drift by minutes)."""
    monkeypatch.setattr(indicator_rows, "WINDOW_DAYS", 100_000)


@pytest.mark.usefixtures("wide_window")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_late_arrivals_within_the_window_are_put_in_place_without_refolding(seed: int) -> None:
    written, refolded = take_all(skewed_batches(seed))
    assert not any(refolded)
    assert difference(written, one_fold(SYNTH)) == []


@pytest.mark.usefixtures("wide_window")
def test_a_backlog_read_side_by_side_is_put_in_place_without_refolding() -> None:
    events = with_corrections(4)
    written, refolded = take_all(skewed_batches(4, events=events), backlog=True)
    assert not any(refolded)
    assert difference(written, one_fold(events)) == []


def test_a_late_arrival_beyond_the_window_is_caught_by_a_refold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(indicator_rows, "WINDOW_DAYS", 5)
    written, refolded = take_all(skewed_batches(1, size=200))
    assert any(refolded)
    assert difference(written, one_fold(SYNTH)) == []


@pytest.mark.usefixtures("wide_window")
@pytest.mark.parametrize("seed", [1, 2])
def test_corrections_within_the_window_take_back_from_their_target_without_refolding(
    seed: int,
) -> None:
    events = with_corrections(seed)
    written, refolded = take_all(skewed_batches(seed, events=events))
    assert not any(refolded)
    assert difference(written, one_fold(events)) == []
    assert total(written, "vital_events", event_type="EventVoided") > 0


def test_a_correction_beyond_the_window_is_caught_by_a_refold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(indicator_rows, "WINDOW_DAYS", 5)
    events = with_corrections(3)
    written, refolded = take_all(skewed_batches(3, events=events))
    assert any(refolded)
    assert difference(written, one_fold(events)) == []
