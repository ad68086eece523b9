"""One truth: the indicators judge every event as the registry does, in history order.

Each history below has an event recorded late, across a later event about the same
people. The registry (`history.fold_log`, the fold every registry path shares) is
the judge; the indicator rows, folded from scratch (`fold_all`) and taken live in the
order the log holds them (`IndicatorState.take`, one record at a time), must give
every event the same verdict, and count the stock on the same days.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from projections.domain import indicator_rows
from projections.domain.history import fold_log
from projections.domain.indicator_rows import (
    WINDOW_DAYS,
    IndicatorFold,
    IndicatorState,
    Row,
    Taken,
    difference,
    fold_all,
)
from projections.domain.record import Record
from schemas.models import Event
from schemas.validation import event_json, parse_event
from tests.builders import (
    UNITS,
    birth,
    death,
    enumerated,
    enumerated_household,
    moved_out,
)
from tests.histories import (
    CASES,
    ENUMERATED,
    H1,
    H2,
    A,
    B,
    C,
    in_log_order,
    late_birth_after_the_mothers_death,
    partner_enumerated_after_the_marriage,
    recorded,
    two_move_outs_recorded_out_of_order,
    with_corrections,
)
from tests.verdicts import registry_verdicts, row_verdicts, state_verdicts

SECRET = b"one-truth"


def live_rows(events: list[Event]) -> list[Row]:
    """The rows written when the log is taken one record at a time, in its order."""
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    written: list[Row] = []
    for n, event in enumerate(in_log_order(events)):
        written += state.take([Record(0, n, event, None, None)]).rows
    return written


def one_fold(events: list[Event]) -> list[Row]:
    records = [Record(0, n, e, None, None) for n, e in enumerate(in_log_order(events))]
    return list(fold_all(records, UNITS, SECRET).all_rows())


def deltas(rows: list[Row], table: str) -> Counter[date]:
    """The net change of a stock table by day."""
    days: Counter[date] = Counter()
    for name, values in rows:
        if name == table:
            days[values[-2]] += values[-1]
    return Counter({day: n for day, n in days.items() if n})


@pytest.mark.parametrize("case", CASES)
def test_the_indicators_give_every_event_the_registrys_verdict(case: str) -> None:
    events = CASES[case]()
    judged = registry_verdicts(events)
    assert row_verdicts(one_fold(events)) == judged
    assert row_verdicts(live_rows(events)) == judged


@pytest.mark.parametrize("case", CASES)
def test_taking_the_log_live_writes_the_rows_of_the_one_fold(case: str) -> None:
    events = CASES[case]()
    assert difference(live_rows(events), one_fold(events)) == []


def test_a_valid_late_birth_counts_and_its_child_is_in_the_stock() -> None:
    events = late_birth_after_the_mothers_death()
    assert registry_verdicts(events)[events[2].envelope.event_id] is None
    for rows in (one_fold(events), live_rows(events)):
        assert row_verdicts(rows)[events[2].envelope.event_id] is None
        # the child arrives on its birthday, the mother leaves on her death: one remains
        assert deltas(rows, "population_deltas") == Counter(
            {date(2023, 1, 2): 1, date(2023, 2, 3): 1, date(2023, 2, 6): -1}
        )


def test_a_household_closes_when_its_last_member_leaves() -> None:
    events = two_move_outs_recorded_out_of_order()
    for rows in (one_fold(events), live_rows(events)):
        assert deltas(rows, "household_deltas") == Counter(
            {date(2023, 1, 2): 1, date(2023, 5, 1): -1}
        )


def test_a_marriage_whose_partner_was_recorded_late_counts_once() -> None:
    events = partner_enumerated_after_the_marriage()
    marriage_id = events[-1].envelope.event_id
    assert registry_verdicts(events)[marriage_id] is None
    for rows in (one_fold(events), live_rows(events)):
        assert row_verdicts(rows)[marriage_id] is None


def shuffled_recording(events: list[Event], seed: int, share: float = 0.15) -> list[Event]:
    """The history with a share of its events recorded up to 400 days late, across
    whatever happened meanwhile to the same people: valid or not, every path must
    judge each event alike."""
    rng = random.Random(seed)
    late = []
    for event in events:
        if rng.random() < share:
            delay = timedelta(days=rng.randint(1, 400), minutes=rng.randint(0, 600))
            stamp = event.envelope.recorded_at + delay
            event = recorded(event, stamp.date().isoformat(), stamp.strftime("%H:%M:%S.000"))
        late.append(event)
    return in_log_order(late)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("window", [5, WINDOW_DAYS])
def test_histories_recorded_late_and_corrected_are_judged_alike(
    seed: int, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated histories with voids, amendments and late registrations: the live
    indicators (small batches, a window small enough to overflow or not) equal the one
    fold, and every state event has the registry's verdict."""
    monkeypatch.setattr(indicator_rows, "WINDOW_DAYS", window)
    events = shuffled_recording(with_corrections(seed), seed)
    rng = random.Random(seed)
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    written: list[Row] = []
    records = [Record(0, n, e, None, None) for n, e in enumerate(events)]
    while records:
        size = rng.randint(1, 80)
        written += state.take(records[:size]).rows
        del records[:size]
    whole = one_fold(events)
    assert difference(written, whole) == []
    judged = registry_verdicts(events)
    assert state_verdicts(whole, events) == judged
    assert sum(v is not None for v in judged.values()) > 0  # some events are refused


def in_commune(event: Event, commune: str) -> Event:
    data: dict[str, Any] = event_json(event)
    data["envelope"]["commune_code"] = commune
    return parse_event(data)


def test_a_household_enumerated_in_another_commune_takes_its_members_there() -> None:
    """A person enumerated into a household not enumerated yet places it in the
    person's commune; the household's own enumeration then says where it is. Registry
    and indicators both count the member there from that day."""
    events = [
        recorded(enumerated(A, H1, "HEAD", day=ENUMERATED), ENUMERATED),
        recorded(in_commune(enumerated_household(H1, A, day="2023-01-05"), "00004"), "2023-01-05"),
    ]
    registry, _ = fold_log(events, UNITS)
    assert registry.persons[A].commune_code == "00004"
    for rows in (one_fold(events), live_rows(events)):
        by_commune: Counter[str] = Counter()
        for table, values in rows:
            if table == "population_deltas":
                by_commune[values[1]] += values[-1]
        assert +by_commune == Counter({"00004": 1})


def taken_live(before: list[Event], batch: list[Event]) -> tuple[IndicatorState, Taken]:
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    for n, event in enumerate(before):
        state.take([Record(0, n, event, None, None)])
    records = [Record(0, len(before) + n, e, None, None) for n, e in enumerate(batch)]
    return state, state.take(records)


def test_a_late_event_takes_back_only_what_follows_it_about_the_same_people() -> None:
    """A batch with a late death in one household and a new event in another: the
    other household's earlier birth shares nothing with the death and comes before
    the new event, so nothing is taken back."""
    before = [
        recorded(enumerated_household(H1, A, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(A, H1, "HEAD", day=ENUMERATED), ENUMERATED),
        recorded(enumerated_household(H2, B, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(B, H2, "HEAD", born="1995-01-01", day=ENUMERATED), ENUMERATED),
        recorded(birth(C, B, H2, day="2023-03-01"), "2023-03-02"),
    ]
    batch = [
        recorded(death(A, H1, day="2023-02-01"), "2023-06-01"),
        recorded(moved_out(H2, [C], day="2023-06-01"), "2023-06-01", "04:00:00.000"),
    ]
    _, taken = taken_live(before, batch)
    assert (taken.taken_back, taken.refolded) == (0, False)
    assert difference(live_rows([*before, *batch]), one_fold([*before, *batch])) == []


def test_a_late_event_takes_back_its_old_households_events_from_its_own_day() -> None:
    """A dies on 2023-02-01 (recorded late), in H1; the log already says B left H1 on
    2023-03-01 and A moved out on 2023-04-01. Judged on its day, the death empties H1
    when B leaves: B's move-out, about H1 but not about A, is taken back and judged
    again, without folding the whole history again."""
    before = [
        recorded(enumerated_household(H1, A, day=ENUMERATED), ENUMERATED),
        recorded(enumerated(A, H1, "HEAD", day=ENUMERATED), ENUMERATED),
        recorded(enumerated(B, H1, "CHILD", born="2000-01-01", day=ENUMERATED), ENUMERATED),
        recorded(moved_out(H1, [B], day="2023-03-01"), "2023-03-02"),
        recorded(moved_out(H1, [A], day="2023-04-01"), "2023-04-02"),
    ]
    late = recorded(death(A, H1, day="2023-02-01"), "2023-06-01")
    _, taken = taken_live(before, [late])
    assert (taken.taken_back, taken.refolded) == (2, False)
    rows = live_rows([*before, late])
    assert difference(rows, one_fold([*before, late])) == []
    assert deltas(rows, "household_deltas") == Counter({date(2023, 1, 2): 1, date(2023, 3, 1): -1})
