"""Yearly outputs between the five-year steps.

The engine steps five years at a time (a survivor moves exactly one group on); the
programme reads years. Between two step dates each age-sex cell is interpolated linearly,
and the step's births, deaths and net migrants are spread evenly over its five years.
Linear interpolation keeps the balancing equation for the totals of every year (the
change in a year is a fifth of the step's change, which is a fifth of births - deaths +
migrants); it does not age cohorts year by year, so a yearly pyramid between step dates
is a blend of the two step pyramids, not a projection of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projections.domain.forecast.inputs import BySex
from projections.domain.forecast.projection import Projection, add_years


@dataclass(frozen=True)
class Year:
    """The population on a date one whole year after the previous one, and the flows of
    the year ending on it."""

    on: date
    population: BySex
    births: float
    deaths: float
    net_migration: float


def annual_series(projection: Projection) -> tuple[Year, ...]:
    years: list[Year] = []
    previous = projection.base.population
    for step in projection.steps:
        whole = round(step.years)
        for k in range(1, whole + 1):
            t = k / whole

            def mix(a: tuple[float, ...], b: tuple[float, ...], t: float = t) -> tuple[float, ...]:
                return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))

            years.append(
                Year(
                    add_years(step.start, k),
                    BySex(
                        mix(previous.male, step.population.male),
                        mix(previous.female, step.population.female),
                    ),
                    step.births_total / whole,
                    step.deaths_total / whole,
                    step.net_migration_total / whole,
                )
            )
        previous = step.population
    return tuple(years)
