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

from projections.domain.forecast.ages import FIVE_YEAR_STARTS, STEP_YEARS
from projections.domain.forecast.backtest import HorizonError, horizon_error
from projections.domain.forecast.inputs import BySex
from projections.domain.forecast.projection import add_years, project
from projections.domain.forecast.small_area import project_communes
from projections.domain.forecast.yearly import YearRow, yearly
from projections.domain.indicator_catalog import Level, Units
from projections.forecast_inputs import prepare
from projections.indicators import population_pyramid
from schemas import admin_units


@dataclass(frozen=True)
class Foreseen:
    """A province's projection made on `base_date`, and its communes' totals on the base
    date and one step (five years) later."""

    province: str
    base_date: date
    years: tuple[YearRow, ...]
    communes: dict[str, tuple[float, float]]


def by_sex(client: Any, level: Level, code: str, on: date, units: Units) -> BySex:
    """The unit's residents on `on` by five-year group (0-4 … 100+) and sex."""
    rows = population_pyramid(client, level, code, on, units)
    return BySex(tuple(float(r.male) for r in rows), tuple(float(r.female) for r in rows))


def communes_of(province: str) -> list[str]:
    """Today's communes of the province (current units: every earlier code maps to one)."""
    units = admin_units.load()
    return sorted(c.code for c in units.communes_of_province(province, admin_units.REFORM_DATE))


def foresee(client: Any, province: str, base_date: date, units: Units = "current") -> Foreseen:
    prepared = prepare(client, "province", province, base_date, units, ("medium",))["medium"]
    projection = project(prepared.base, prepared.assumptions, base_date.year + STEP_YEARS)
    codes = communes_of(province)
    earlier_date = add_years(base_date, -STEP_YEARS)
    earlier = {c: by_sex(client, "commune", c, earlier_date, units) for c in codes}
    base = {c: by_sex(client, "commune", c, base_date, units) for c in codes}
    (stepped,) = project_communes(earlier, base, [projection.steps[0].population], FIVE_YEAR_STARTS)
    return Foreseen(
        province,
        base_date,
        yearly(projection, base_date.year + STEP_YEARS),
        {c: (base[c].total(), stepped[c].total()) for c in codes},
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
