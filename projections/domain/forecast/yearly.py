"""A projection as the command prints it and a stored run keeps it: one row a year.

The engine steps five years at a time; the years between are its linear interpolation
(`annual.annual_series`), so a yearly figure between two step dates is a blend of them,
not a projection of its own (docs/forecasts.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projections.domain.forecast.annual import annual_series
from projections.domain.forecast.inputs import BySex
from projections.domain.forecast.projection import Projection, dependency_ratios


@dataclass(frozen=True)
class YearRow:
    on: date
    population: float
    population_male: float
    population_female: float
    births: float  # in the year ending on `on`
    deaths: float
    net_migration: float
    tfr: float  # the variant's, held over the horizon
    e0_male: float
    e0_female: float
    dependency_ratio: float
    young_dependency_ratio: float
    old_dependency_ratio: float
    pyramid: BySex  # five-year groups 0-4 … 100+

    def figures(self) -> dict[str, float]:
        """The row's numbers by name, as the stored summary keeps them."""
        return {
            name: float(getattr(self, name))
            for name in YearRow.__dataclass_fields__
            if name not in ("on", "pyramid")
        }


def yearly(projection: Projection, until_year: int) -> tuple[YearRow, ...]:
    """The years from the base to `until_year` (the last step may run past it)."""
    a = projection.assumptions
    rows = []
    for year in annual_series(projection):
        if year.on.year > until_year:
            break
        dependency = dependency_ratios(year.population, projection.base.starts)
        rows.append(
            YearRow(
                year.on,
                year.population.total(),
                sum(year.population.male),
                sum(year.population.female),
                year.births,
                year.deaths,
                year.net_migration,
                a.fertility.tfr,
                a.e0_male,
                a.e0_female,
                dependency.total,
                dependency.young,
                dependency.old,
                year.population,
            )
        )
    return tuple(rows)
