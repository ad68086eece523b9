"""Who dies, gives birth, marries, divorces or moves in a year: drawn at once with numpy.

Each year's counts are set from the rates times the population at its start, and
spread over the people at risk by their relative chances (age, sex, marital state,
parity, years married), so the measured rates land on the targets whatever the
population's make-up. The draws only choose; the generator checks each event
again on its day, when earlier events of the year may have changed things.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from producers.synth import demography
from producers.synth.population import MARRIED, NEVER_MARRIED, PRESENT, Households, People

_DAYS_PER_YEAR = 365.2425
_AGES = range(demography.MAX_AGE_SIMULATED + 1)

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


def _table(values: list[float]) -> Floats:
    return np.asarray(values, dtype=np.float64)


# Death probabilities for people aged 0 at the start of a year use the 1-4 band:
# their first-year risk was drawn when they were born.
_DEATH = {
    female: _table([demography.death_table(female)[max(age, 1)] for age in _AGES])
    for female in (False, True)
}
_MARRY = {
    female: _table([demography.marriage_weight(female, age) for age in _AGES])
    for female in (False, True)
}
_MOVE = _table([demography.individual_move_rate(age) for age in _AGES])
_UNIT_SIZES = (1.0, 2.0, 3.4)  # mean persons in a single, couple and family arrival


@dataclass
class YearDraws:
    deaths: list[tuple[int, int]] = field(default_factory=list)  # (day, person)
    mothers: list[int] = field(default_factory=list)  # the day is drawn per mother
    marriages: list[tuple[int, int, int, bool]] = field(
        default_factory=list
    )  # day, bride, groom, patrilocal
    divorces: list[tuple[int, int]] = field(default_factory=list)  # (day, wife)
    household_moves: list[tuple[int, int]] = field(default_factory=list)  # (day, household)
    person_moves: list[tuple[int, int, bool]] = field(
        default_factory=list
    )  # day, person, with family
    arrivals: list[int] = field(default_factory=list)  # days


@dataclass(frozen=True)
class Year:
    start: int  # first day (ordinal)
    end: int  # last day simulated
    length: int  # days in the calendar year

    @property
    def share(self) -> float:
        return (self.end - self.start + 1) / self.length


@dataclass(frozen=True)
class _Frame:
    """The columns the draws need, for the people present at the start of the year."""

    rng: np.random.Generator
    year: Year
    present: Ints  # person numbers
    birth: Ints
    female: NDArray[np.bool_]
    marital: NDArray[np.int8]
    age: Ints  # completed years at the start of the year
    status: NDArray[np.int8]  # of everyone, indexed by person number

    def days(self, count: int) -> list[int]:
        span = self.year.end - self.year.start + 1
        return [self.year.start + int(d) for d in self.rng.integers(0, span, size=count)]

    def column(self, values: list[int] | list[bool]) -> Ints:
        return np.asarray(values, dtype=np.int64)[self.present]


def draw(rng: np.random.Generator, people: People, households: Households, year: Year) -> YearDraws:
    drawn = YearDraws()
    status = np.asarray(people.status, dtype=np.int8)
    present = np.flatnonzero(status == PRESENT)
    if present.size == 0:
        return drawn
    birth = np.asarray(people.birth, dtype=np.int64)[present]
    age = np.minimum((year.start - birth) / _DAYS_PER_YEAR, demography.MAX_AGE_SIMULATED)
    frame = _Frame(
        rng,
        year,
        present,
        birth,
        np.asarray(people.female, dtype=bool)[present],
        np.asarray(people.marital, dtype=np.int8)[present],
        age.astype(np.int64),
        status,
    )
    drawn.deaths = _deaths(frame, people)
    drawn.mothers = _mothers(frame, people)
    drawn.marriages = _marriages(frame)
    drawn.divorces = _divorces(frame, people)
    drawn.household_moves, drawn.person_moves, drawn.arrivals = _moves(frame, people, households)
    return drawn


def _pick(rng: np.random.Generator, expected: float, weights: Floats) -> NDArray[np.bool_]:
    """Choose about `expected` of the candidates, each in proportion to its weight."""
    total = float(weights.sum())
    if total <= 0 or expected <= 0:
        return np.zeros(weights.size, dtype=bool)
    chance = np.minimum(weights * (expected / total), 0.95)
    return rng.random(weights.size) < chance


def _deaths(f: _Frame, people: People) -> list[tuple[int, int]]:
    chance = np.where(f.female, _DEATH[True][f.age], _DEATH[False][f.age]) * f.year.share
    doomed = f.column(people.doomed).astype(bool)
    chosen = f.present[(f.rng.random(f.present.size) < chance) & ~doomed]
    return list(zip(f.days(chosen.size), chosen.tolist(), strict=True))


def _mothers(f: _Frame, people: People) -> list[int]:
    year = f.year
    age = ((year.start + year.length // 2 - f.birth) / _DAYS_PER_YEAR).astype(np.int64)
    low, high = demography.FERTILE_AGES
    index = np.flatnonzero(f.female & (age >= low) & (age <= high))
    group = (age[index] - low) // 5
    ready = f.column(people.last_birth)[index] + demography.MIN_BIRTH_INTERVAL_DAYS
    simulated = year.end - year.start + 1
    exposure = np.clip((year.end + 1 - np.maximum(ready, year.start)) / simulated, 0.0, 1.0)
    parity = np.minimum(f.column(people.births)[index], 3)
    weight = (
        np.where(f.marital[index] == MARRIED, 1.0, demography.UNMARRIED_FERTILITY)
        * np.asarray(demography.PARITY_FERTILITY)[parity]
        * exposure
    )
    chosen = np.zeros(index.size, dtype=bool)
    for g, asfr in enumerate(demography.ASFR):
        in_group = group == g
        expected = asfr / 1000 * int(in_group.sum()) * year.share * demography.BIRTHS_LOST
        chosen[in_group] = _pick(f.rng, expected, weight[in_group])
    return f.present[index[chosen]].tolist()  # type: ignore[no-any-return]


def _marriages(f: _Frame) -> list[tuple[int, int, int, bool]]:
    rng = f.rng
    again = np.where(f.marital == NEVER_MARRIED, 1.0, demography.REMARRIAGE_FACTOR)
    weight = (
        np.where(f.female, _MARRY[True][f.age], _MARRY[False][f.age])
        * again
        * (f.marital != MARRIED)
    )
    expected = demography.CRUDE_MARRIAGE_RATE / 1000 * f.present.size * f.year.share
    brides = np.flatnonzero(_pick(rng, expected, np.where(f.female, weight, 0.0)))
    men = np.flatnonzero(~f.female & (weight > 0))
    count = min(brides.size, men.size)
    if count == 0:
        return []
    grooms = rng.choice(men, size=count, replace=False, p=weight[men] / weight[men].sum())
    brides = rng.permutation(brides)[:count]
    # Pair by age (oldest with oldest) so that husbands are usually a little older.
    brides = brides[np.argsort(f.birth[brides], kind="stable")]
    grooms = grooms[np.argsort(f.birth[grooms], kind="stable")]
    patrilocal = (rng.random(count) < demography.PATRILOCAL).tolist()
    return list(
        zip(
            f.days(count),
            f.present[brides].tolist(),
            f.present[grooms].tolist(),
            patrilocal,
            strict=True,
        )
    )


def _divorces(f: _Frame, people: People) -> list[tuple[int, int]]:
    spouse = f.column(people.spouse)
    wives = np.flatnonzero(f.female & (f.marital == MARRIED) & (spouse >= 0))
    wives = wives[f.status[spouse[wives]] == PRESENT]
    years = (f.year.start - f.column(people.married_on)[wives]) / _DAYS_PER_YEAR
    weight = np.asarray([demography.divorce_weight(float(y)) for y in years], dtype=np.float64)
    expected = demography.CRUDE_DIVORCE_RATE / 1000 * f.present.size * f.year.share
    chosen = f.present[wives[_pick(f.rng, expected, weight)]]
    return list(zip(f.days(chosen.size), chosen.tolist(), strict=True))


def _moves(
    f: _Frame, people: People, households: Households
) -> tuple[list[tuple[int, int]], list[tuple[int, int, bool]], list[int]]:
    rng, share = f.rng, f.year.share
    lived = np.bincount(f.column(people.household), minlength=len(households))
    occupied = np.flatnonzero(lived > 0)
    moving = occupied[rng.random(occupied.size) < demography.HOUSEHOLD_MOVE_RATE * share]
    whole = list(zip(f.days(moving.size), moving.tolist(), strict=True))
    married = f.marital == MARRIED
    alone = ~married * _MOVE[f.age]
    family = (f.female & married & (f.age >= 20) & (f.age < 50)) * demography.MARRIED_MOVE_RATE
    chosen = np.flatnonzero(rng.random(f.present.size) < (alone + family) * share)
    persons = list(
        zip(f.days(chosen.size), f.present[chosen].tolist(), married[chosen].tolist(), strict=True)
    )
    unit = sum(
        weight * size
        for (weight, _), size in zip(demography.IN_UNIT_TYPES, _UNIT_SIZES, strict=True)
    )
    arrivals = int(rng.poisson(demography.IN_MIGRATION_RATE * f.present.size * share / unit))
    return whole, persons, f.days(arrivals)
