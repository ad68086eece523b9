"""Communes' forecasts, read through the analysts' endpoint: the province projected by
cohort components (`forecast_inputs.prepare`), its communes by Hamilton-Perry over the
five years before the base date, raked to the province at each step
(`small_area.project_communes`), with the province's components shared out
(`commune_steps`). Every commune of the province is projected at once, because the
raking needs them all (docs/forecasts.md, "Communes")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.domain.forecast.ages import FIVE_YEAR_STARTS, STEP_YEARS
from projections.domain.forecast.commune_steps import commune_projections
from projections.domain.forecast.fertility import Variant
from projections.domain.forecast.inputs import BySex
from projections.domain.forecast.projection import Projection, add_years, project
from projections.domain.forecast.small_area import project_communes
from projections.domain.indicator_catalog import Level, Units
from projections.forecast_inputs import Prepared, prepare
from projections.indicators import population_pyramid
from schemas import admin_units


def by_sex(client: Any, level: Level, code: str, on: date, units: Units) -> BySex:
    """The unit's residents on `on` by five-year group (0-4 … 100+) and sex."""
    rows = population_pyramid(client, level, code, on, units)
    return BySex(tuple(float(r.male) for r in rows), tuple(float(r.female) for r in rows))


def communes_of(province: str) -> list[str]:
    """Today's communes of the province (current units: every earlier code maps to one)."""
    units = admin_units.load()
    return sorted(c.code for c in units.communes_of_province(province, admin_units.REFORM_DATE))


def province_of(commune: str) -> str:
    """Today's province of one of today's communes; a clear error for any other code."""
    units = admin_units.load()
    if commune in units.after:
        return units.after[commune].province_code
    if commune in units.before:
        raise LookupError(
            f"commune {commune} is a former commune (before 2025-07-01): communes are"
            " projected in today's units, so ask for the commune it became"
        )
    raise LookupError(f"no commune {commune}")


@dataclass(frozen=True)
class Communes:
    """One variant: the province's inputs and projection, and each commune's."""

    province: Prepared
    projection: Projection
    communes: dict[str, Projection]


def project_province_communes(
    client: Any,
    province: str,
    base_date: date,
    until_year: int,
    variants: tuple[Variant, ...],
    units: Units = "current",
) -> dict[Variant, Communes]:
    """Every commune of the province, for each variant (the ratios are the variants'
    own only through the province they are raked to)."""
    if units != "current":
        raise ValueError(
            "communes are projected in today's units only (their ratios read the population"
            " five years before the base date, across the 2025 reform): use --units current"
        )
    codes = communes_of(province)
    earlier_date = add_years(base_date, -STEP_YEARS)
    earlier = {c: by_sex(client, "commune", c, earlier_date, units) for c in codes}
    base = {c: by_sex(client, "commune", c, base_date, units) for c in codes}
    found = {}
    for variant, prepared in prepare(
        client, "province", province, base_date, units, variants
    ).items():
        projection = project(prepared.base, prepared.assumptions, until_year)
        steps = project_communes(
            earlier, base, [s.population for s in projection.steps], FIVE_YEAR_STARTS
        )
        found[variant] = Communes(
            prepared, projection, commune_projections(projection, base, steps)
        )
    return found
