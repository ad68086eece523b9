"""The cohort-component projection: five-year steps by five-year age group and sex.

One step (Preston, Heuveline & Guillot 2001, sect. 6.2-6.3, Boxes 6.1 and 6.2):

1. half of the step's net migrants of each group join it at the start;
2. every group survives into the next one with its ratio nL(x+5)/nLx; the last closed
   group and the open group together survive into the open group with T(open)/T(open-5);
3. the other half of the net migrants join their group at the end;
4. births = 5 x Σ ASFR(x) x women of group x, averaged over the step (the women at the
   start with the first half of migrants, and at the end), split into boys and girls by
   the sex ratio at birth, and survive into 0-4 with 5L0 / (5·l0).

Deaths are what survival removes, so every cohort balances by construction: end = start +
births - deaths + net migrants, which `CohortAccount` records and the tests check. A
net out-migration larger than the people there to leave is cut to them (a small commune
with a large out-flow), and the account records the migrants actually removed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from projections.domain.forecast.ages import STEP_YEARS, group_sum, labels
from projections.domain.forecast.fertility import Fertility, Variant
from projections.domain.forecast.inputs import BasePopulation, BySex
from projections.domain.forecast.life_table import Survival
from projections.domain.forecast.migration import Migration


@dataclass(frozen=True)
class CohortAccount:
    """One cohort through one step: who it was at the start (groups `start_groups`, none
    for those born in the step), what happened to it, and who it is at the end."""

    sex: str
    start_groups: tuple[int, ...]
    end_group: int
    start: float
    births: float
    deaths: float
    net_migrants: float
    end: float


@dataclass(frozen=True)
class Step:
    """One projection step. `deaths` is by the cohort's group at the end (group 0: deaths
    among the step's births); `net_migrants` by age group at the move; flows are totals
    over the step (`years` long)."""

    start: date
    end: date
    years: float
    population: BySex
    births_by_mother_age: tuple[float, ...]
    births: BySex  # one value per sex, (male,), (female,)
    deaths: BySex
    net_migrants: BySex
    cohorts: tuple[CohortAccount, ...]

    @property
    def births_total(self) -> float:
        return self.births.total()

    @property
    def deaths_total(self) -> float:
        return self.deaths.total()

    @property
    def net_migration_total(self) -> float:
        return self.net_migrants.total()


@dataclass(frozen=True)
class _SexStep:
    population: tuple[float, ...]
    deaths: tuple[float, ...]
    net: tuple[float, ...]
    accounts: tuple[CohortAccount, ...]


def project_step(
    population: BySex,
    survival_male: Survival,
    survival_female: Survival,
    asfr: Sequence[float],
    srb: float,
    net_migrants: BySex,
    *,
    years: float = STEP_YEARS,
    start: date = date.min,
    end: date = date.min,
) -> Step:
    """One step of `years` (the grid's width) from `population` (see the module).

    `asfr` is on the population's grid (zero outside the fertile groups), births per
    woman per year; `net_migrants` are the step's net migrants by age group."""
    k = len(population)
    if not (len(asfr) == len(net_migrants) == k == len(survival_male.ratios) + 1):
        raise ValueError("population, rates, migrants and survival on different grids")
    female_start_half = _start_halves(population.female, net_migrants.female)
    female_survivors = _survivors(population.female, female_start_half, survival_female)
    female_end_half = _end_halves(net_migrants.female, female_survivors)
    by_mother = tuple(
        years * f * ((p + h) + (s + e)) / 2
        for f, p, h, s, e in zip(
            asfr,
            population.female,
            female_start_half,
            (0.0, *female_survivors),
            (0.0, *female_end_half),
            strict=True,
        )
    )
    total = sum(by_mother)
    born_female, born_male = total / (1 + srb), total * srb / (1 + srb)
    male = _sex_step("male", population.male, net_migrants.male, survival_male, born_male)
    female = _sex_step(
        "female", population.female, net_migrants.female, survival_female, born_female
    )
    return Step(
        start,
        end,
        years,
        BySex(male.population, female.population),
        by_mother,
        BySex((born_male,), (born_female,)),
        BySex(male.deaths, female.deaths),
        BySex(male.net, female.net),
        (*male.accounts, *female.accounts),
    )


def _start_halves(p: Sequence[float], net: Sequence[float]) -> tuple[float, ...]:
    return tuple(max(m / 2, -n) for n, m in zip(p, net, strict=True))


def _survivors(p: Sequence[float], start_half: Sequence[float], s: Survival) -> tuple[float, ...]:
    """Survivors into groups 1 … k-1 of those at the start (with the first half of
    migrants); the open group takes the last two groups."""
    k = len(p)
    entering = [p[i] + start_half[i] for i in range(k - 2)]
    entering.append(p[k - 2] + p[k - 1] + start_half[k - 2] + start_half[k - 1])
    return tuple(n * r for n, r in zip(entering, s.ratios, strict=True))


def _end_halves(net: Sequence[float], survivors: Sequence[float]) -> tuple[float, ...]:
    """The second halves of groups 1 … k-1, cut so no group ends below zero."""
    return tuple(max(m / 2, -s) for m, s in zip(net[1:], survivors, strict=True))


def _sex_step(
    sex: str, p: Sequence[float], net: Sequence[float], s: Survival, born: float
) -> _SexStep:
    k = len(p)
    start_half = _start_halves(p, net)
    survivors = _survivors(p, start_half, s)
    end_half = _end_halves(net, survivors)
    born_surviving = born * s.birth
    first_half = max(net[0] / 2, -born_surviving)
    end = (born_surviving + first_half, *(v + h for v, h in zip(survivors, end_half, strict=True)))
    accounts = [CohortAccount(sex, (), 0, 0.0, born, born - born_surviving, first_half, end[0])]
    deaths = [born - born_surviving]
    for j in range(1, k):
        groups = (j - 1,) if j < k - 1 else (k - 2, k - 1)
        entering = sum(p[g] + start_half[g] for g in groups)
        died = entering - survivors[j - 1]
        migrants = sum(start_half[g] for g in groups) + end_half[j - 1]
        start = sum(p[g] for g in groups)
        accounts.append(CohortAccount(sex, groups, j, start, 0.0, died, migrants, end[j]))
        deaths.append(died)
    by_age = tuple(start_half[i] + (first_half if i == 0 else end_half[i - 1]) for i in range(k))
    return _SexStep(end, tuple(deaths), by_age, tuple(accounts))


@dataclass(frozen=True)
class Assumptions:
    """What the projection holds constant over its horizon: this variant's fertility,
    survival by sex (and the e0 of the tables it came from, for the outputs), and
    migration."""

    fertility: Fertility
    survival_male: Survival
    survival_female: Survival
    migration: Migration
    e0_male: float = math.nan
    e0_female: float = math.nan
    variant: Variant = "medium"


@dataclass(frozen=True)
class Projection:
    base: BasePopulation
    assumptions: Assumptions
    steps: tuple[Step, ...]


def add_years(day: date, years: int) -> date:
    """The same month and day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def project(base: BasePopulation, assumptions: Assumptions, until_year: int) -> Projection:
    """Five-year steps from the base date until a step ends in or after `until_year`,
    the assumptions held constant."""
    asfr = assumptions.fertility.on_grid(base.starts)
    steps: list[Step] = []
    population, on = base.population, base.on
    while on.year < until_year:
        end = add_years(on, STEP_YEARS)
        net = assumptions.migration.net_for_step(population, STEP_YEARS)
        step = project_step(
            population,
            assumptions.survival_male,
            assumptions.survival_female,
            asfr,
            assumptions.fertility.srb,
            net,
            start=on,
            end=end,
        )
        steps.append(step)
        population, on = step.population, end
    return Projection(base, assumptions, tuple(steps))


@dataclass(frozen=True)
class DependencyRatios:
    """Per 100 aged 15-64, as the indicators define them (docs/design.md), on a date."""

    total: float
    young: float
    old: float


def dependency_ratios(population: BySex, starts: Sequence[int]) -> DependencyRatios:
    def both(low: int, high: int) -> float:
        return group_sum(population.male, starts, low, high) + group_sum(
            population.female, starts, low, high
        )

    young, working, old = both(0, 10), both(15, 60), both(65, 10_000)
    if working == 0:
        return DependencyRatios(math.nan, math.nan, math.nan)
    return DependencyRatios(
        (young + old) / working * 100, young / working * 100, old / working * 100
    )


@dataclass(frozen=True)
class StepSummary:
    """The outputs the issue lists, for one step's end date."""

    on: date
    population: float
    population_male: float
    population_female: float
    births: float
    deaths: float
    net_migration: float
    tfr: float
    e0_male: float
    e0_female: float
    dependency: DependencyRatios


def summaries(projection: Projection) -> tuple[StepSummary, ...]:
    a = projection.assumptions
    return tuple(
        StepSummary(
            s.end,
            s.population.total(),
            sum(s.population.male),
            sum(s.population.female),
            s.births_total,
            s.deaths_total,
            s.net_migration_total,
            a.fertility.tfr,
            a.e0_male,
            a.e0_female,
            dependency_ratios(s.population, projection.base.starts),
        )
        for s in projection.steps
    )


@dataclass(frozen=True)
class PyramidRow:
    age_group: str
    male: float
    female: float


def pyramid(population: BySex, starts: Sequence[int]) -> tuple[PyramidRow, ...]:
    """A population as the portal's pyramid draws it: one row per age group."""
    return tuple(
        PyramidRow(label, m, f)
        for label, m, f in zip(labels(starts), population.male, population.female, strict=True)
    )
