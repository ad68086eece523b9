"""Back-testing `popreg forecast` (docs/forecasts.md): a province projected from an
earlier base, with the registry as it stood then, against what the registry holds now.

`foresee` runs on the indicator tables as they were on the base date (what had been
recorded by then: a warehouse rebuilt from those events, or the live one on that day),
`errors` on today's. The province is the cohort-component projection of `popreg
forecast` (medium variant); its communes are Hamilton-Perry over the five years before
the base, raked to the province (`small_area.project_communes`), whose step is five
years: a commune's total in the years between is read on the straight line from the
base to that step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.domain.forecast.ages import STEP_YEARS
from projections.domain.forecast.backtest import HorizonError, horizon_error
from projections.domain.forecast.projection import add_years
from projections.domain.forecast.yearly import YearRow, yearly
from projections.domain.indicator_catalog import Units
from projections.forecast_communes import by_sex, project_province_communes


@dataclass(frozen=True)
class Foreseen:
    """A province's projection made on `base_date`, and its communes' totals on the base
    date and one step (five years) later."""

    province: str
    base_date: date
    years: tuple[YearRow, ...]
    communes: dict[str, tuple[float, float]]


def foresee(client: Any, province: str, base_date: date, units: Units = "current") -> Foreseen:
    until = base_date.year + STEP_YEARS
    (found,) = project_province_communes(
        client, province, base_date, until, ("medium",), units
    ).values()
    return Foreseen(
        province,
        base_date,
        yearly(found.projection, until),
        {
            c: (p.base.population.total(), p.steps[0].population.total())
            for c, p in found.communes.items()
        },
    )


def errors(client: Any, foreseen: Foreseen, units: Units = "current") -> list[HorizonError]:
    """Each year of the projection against the registry now."""
    found = []
    for row in foreseen.years:
        years = row.on.year - foreseen.base_date.year
        if add_years(foreseen.base_date, years) != row.on or not 1 <= years <= STEP_YEARS:
            continue
        registered = by_sex(client, "province", foreseen.province, row.on, units)
        communes = {
            code: (
                start + (stepped - start) * years / STEP_YEARS,
                by_sex(client, "commune", code, row.on, units).total(),
            )
            for code, (start, stepped) in foreseen.communes.items()
        }
        found.append(horizon_error(years, (row.pyramid, registered), communes))
    return found
