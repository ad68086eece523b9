"""The comparison of the indicators with the registry (`projections.domain.store_agreement`),
without a stack: differences are found and named, equal figures give none. And the
population formula read from the registry's dated memberships
(`projections.agreement_queries.POPULATION`) counts what the indicator fold's stock
counts (`IndicatorFold._stock`), modelled here in Python on the fold's own state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

from producers.synth import Synth, SynthConfig
from projections.domain.history import fold_log
from projections.domain.indicator_rows import Row, fold_all
from projections.domain.record import Record
from projections.domain.state import Registry
from projections.domain.store_agreement import (
    Figures,
    Mismatch,
    PopulationCell,
    compare,
    counted,
    stock_dates,
)
from schemas.admin_units import load
from schemas.models import Event, age_on
from schemas.validation import parse_event
from tests.builders import birth, enumerated, enumerated_household, event, marriage, moved_out
from tests.samples import envelope

UNITS = load()
END_2023, END_2024 = date(2023, 12, 31), date(2024, 12, 31)


def figures(**changes: object) -> Figures:
    """Small figures of both stores, with `changes` to one part."""
    parts: dict[str, object] = {
        "population": {
            (END_2024, "32014", "FEMALE", 9): 3,
            (END_2024, "32014", "FEMALE", 10): 2,
            (END_2024, "32014", "MALE", 9): 1,
        },
        "households": {"32014": 2},
        "applied": {"BirthRegistered": 4, "EventVoided": 1},
        "rejected": {("MovedOut", "not_member"): 1, ("", "invalid_content"): 1},
    }
    parts.update(changes)
    return Figures(**parts)  # type: ignore[arg-type]


def test_equal_figures_agree_and_say_what_was_compared() -> None:
    agreement = compare(figures(), figures(), [END_2024])
    assert agreement.mismatches == []
    assert (agreement.cells, agreement.dates, agreement.households) == (3, 1, 2)
    assert (agreement.events, agreement.counts) == (7, 4)
    assert agreement.summary() == (
        "3 commune-sex-age cells on 1 dates, 2 households,"
        " 7 events applied or refused in 4 counts by type and reason"
    )


def test_a_zero_is_the_same_as_no_row() -> None:
    """Correction rows cancel to zero sums in ClickHouse: not a difference."""
    indicators = figures(
        households={"32014": 2, "32002": 0},
        applied={"BirthRegistered": 4, "EventVoided": 1, "DeathRegistered": 0},
    )
    assert compare(figures(), indicators, [END_2024]).mismatches == []


def test_every_difference_is_found_and_named() -> None:
    indicators = figures(
        population={
            (END_2024, "32014", "FEMALE", 9): 3,
            (END_2024, "32014", "FEMALE", 10): 3,  # one more
            (END_2024, "32014", "MALE", 9): 1,
            (END_2024, "32002", "MALE", 40): 1,  # only here
        },
        households={"32014": 1},
        applied={"BirthRegistered": 4},  # the void not counted
        rejected={("MovedOut", "not_member"): 1, ("", "invalid_content"): 2},
    )
    found = compare(figures(), indicators, [END_2024]).mismatches
    assert found == [
        Mismatch("population", (END_2024, "32002", "MALE", 40), 0, 1),
        Mismatch("population", (END_2024, "32014", "FEMALE", 10), 2, 3),
        Mismatch("households", ("32014",), 2, 1),
        Mismatch("applied", ("EventVoided",), 1, 0),
        Mismatch("rejected", ("", "invalid_content"), 1, 2),
    ]
    assert [str(m) for m in found] == [
        "population on 2024-12-31 commune 32002 sex MALE age 40: registry 0, indicators 1 (+1)",
        "population on 2024-12-31 commune 32014 sex FEMALE age 10: registry 2, indicators 3 (+1)",
        "households commune 32014: registry 2, indicators 1 (-1)",
        "applied event type EventVoided: registry 1, indicators 0 (-1)",
        "rejected event type (none: a message kept without its event) reason invalid_content:"
        " registry 1, indicators 2 (+1)",
    ]


def test_population_differences_come_by_date_then_commune_sex_and_age() -> None:
    """Ages sort as numbers (9 before 10), dates as dates."""
    ours = {(END_2024, "32014", "MALE", 10): 1, (END_2023, "32014", "MALE", 9): 1}
    theirs = {(END_2024, "32014", "MALE", 9): 1, (END_2023, "32014", "MALE", 10): 1}
    found = compare(figures(population=ours), figures(population=theirs), [END_2023, END_2024])
    assert [m.key for m in found.mismatches] == [
        (END_2023, "32014", "MALE", 9),
        (END_2023, "32014", "MALE", 10),
        (END_2024, "32014", "MALE", 9),
        (END_2024, "32014", "MALE", 10),
    ]


def test_stocks_are_taken_on_each_past_31_december_and_today() -> None:
    today = date(2025, 3, 1)
    assert stock_dates([2024, 2022, 2025, 2022], today) == [
        date(2022, 12, 31),
        date(2024, 12, 31),
        today,
    ]
    assert stock_dates([2024], END_2024) == [END_2024]
    assert stock_dates([], today) == [today]


def test_rows_of_counts_are_summed_by_key() -> None:
    assert counted([("a", 1), ("a", 2), ("b", -1)]) == {"a": 3, "b": -1}
    assert counted([("x", "r", 1), ("x", "r", 1)]) == {("x", "r"): 2}


# --- the population formula, modelled on the fold's state ------------------------------


def membership_cells(registry: Registry, dates: Iterable[date]) -> Counter[PopulationCell]:
    """POPULATION's count: members on the date (joined on or before, not left by it), by
    their household's commune, sex and age."""
    found: Counter[PopulationCell] = Counter()
    for household in registry.households.values():
        for m in household.members:
            person = registry.persons[m.person_id]
            for day in dates:
                if m.joined_on <= day and (m.left_on is None or m.left_on > day):
                    key = (day, household.commune_code, person.sex, age_on(person.birth_date, day))
                    found[key] += 1
    return found


def delta_cells(rows: Iterable[Row], dates: Iterable[date]) -> Counter[PopulationCell]:
    """The ClickHouse query's sum: population deltas dated on or before each date."""
    found: Counter[PopulationCell] = Counter()
    for table, values in rows:
        if table != "population_deltas":
            continue
        _, commune, sex, birth_date, _, on_date, delta = values
        for day in dates:
            if on_date <= day:
                found[(day, commune, sex, age_on(birth_date, day))] += delta
    return found


def both_ways(events: list[Event], dates: list[date]) -> tuple[Counter[PopulationCell], ...]:
    registry, _ = fold_log(events, UNITS)
    records = [Record(0, n, e, None, None) for n, e in enumerate(events)]
    rows = list(fold_all(records, UNITS, b"secret").all_rows())
    return +membership_cells(registry, dates), +delta_cells(rows, dates)


def test_memberships_count_what_the_indicator_stock_counts_on_a_generated_history() -> None:
    """Deaths, births, marriages, moves and the generator's mistakes, 2021-2024."""
    config = SynthConfig("96", 200, 2021, 2024, 5, datetime(2025, 3, 1, tzinfo=UTC))
    events = list({e.envelope.event_id: e for e in Synth(config, UNITS).events()}.values())
    dates = stock_dates({e.envelope.occurred_on.year for e in events}, date(2025, 3, 1))
    registry_cells, indicator_cells = both_ways(events, dates)
    assert sum(registry_cells.values()) > 500
    assert registry_cells == indicator_cells


def test_memberships_that_change_twice_in_a_day_count_as_the_day_ends() -> None:
    """A child born and dead on one day counts nowhere; a bride who marries into her
    husband's household and moves on to another commune the same day counts only
    there; a man who moves abroad leaves the stock on the day he goes."""
    day, later = "2024-05-01", date(2024, 5, 1)
    events = [
        enumerated_household("H1", "P1"),
        enumerated("P1", "H1", "HEAD", born="1990-05-17"),
        enumerated("P5", "H1", "CHILD", born="2000-02-29"),
        enumerated_household("H2", "P3"),
        enumerated("P3", "H2", "HEAD", sex="MALE", born="1998-01-01"),
        birth("P4", "P1", "H1", day="2024-03-01"),
        event(  # after the birth, the same day
            "DeathRegistered",
            "H1",
            "2024-03-01",
            at="11:00:00",
            person_id="P4",
            date_of_death="2024-03-01",
            age_at_death=0,
            place="HEALTH_FACILITY",
        ),
        marriage("P5", "P3", "H2", day=day),
        moved_in_elsewhere("H3", ["P5"], day),
        moved_out("H2", ["P3"], day="2024-08-01", abroad=True),
    ]
    dates = [date(2024, 2, 28), date(2024, 3, 1), later, date(2024, 8, 1)]
    registry_cells, indicator_cells = both_ways(events, dates)
    assert registry_cells == indicator_cells
    assert registry_cells == {
        (date(2024, 2, 28), "32014", "FEMALE", 33): 1,
        (date(2024, 2, 28), "32014", "FEMALE", 23): 1,  # not 24: born on 29 February
        (date(2024, 2, 28), "32014", "MALE", 26): 1,
        (date(2024, 3, 1), "32014", "FEMALE", 33): 1,
        (date(2024, 3, 1), "32014", "FEMALE", 24): 1,
        (date(2024, 3, 1), "32014", "MALE", 26): 1,
        (later, "32014", "FEMALE", 33): 1,
        (later, "00004", "FEMALE", 24): 1,
        (later, "32014", "MALE", 26): 1,
        (date(2024, 8, 1), "32014", "FEMALE", 34): 1,
        (date(2024, 8, 1), "00004", "FEMALE", 24): 1,
    }


def moved_in_elsewhere(household: str, persons: list[str], day: str) -> Event:
    """A move into `household` of another commune (00004), which the move creates."""
    return parse_event(
        {
            "type": "MovedIn",
            "envelope": envelope(9_000, day, household_id=household, commune_code="00004")
            | {"recorded_at": f"{day}T10:00:00.000Z"},
            "person_ids": persons,
            "persons": [],
            "origin": "ANOTHER_COMMUNE",
            "origin_commune_code": "32014",
        }
    )
