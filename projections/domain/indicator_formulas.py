"""The indicators' formulas over the sums the indicator query's parts return.

`projections/indicators.py` sends `indicator_values` in two parts at once (the stocks and
households; the flows and communes online), so ClickHouse analyses and
runs them on several cores, then computes here what the view's `figures` CTE and final
SELECT compute: the same operations in the same order, so the two agree to the last
bit or nearly (the tests hold both to the reference and to each other).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from projections.domain.indicator_catalog import FERTILE_GROUPS, INDICATORS, IndicatorValue, Period

NAN = math.nan

# The flow grid's sums by the part of the query that computes them (004_indicator_grid.sql:
# occurred, recorded, online, team): a figure that needs fewer parts is asked for without
# the others, whose analysis would cost as much as their reading.
FLOW_PARTS: dict[str, tuple[str, ...]] = {
    "occurred": (
        "births",
        "births_male",
        "births_female",
        "deaths",
        "infant_deaths",
        "under5_deaths",
        "marriages",
        "divorces",
        "in_migrants",
        "out_migrants",
        "births_by_group",
    ),
    "recorded": ("recorded_vital", "recorded_mobile", "median_delay", "within_30_days"),
    "online": ("communes", "communes_online"),
    "team": ("collaborators", "collaborators_mobile"),
}
# The indicators that read a flow part, by part; the others read the stocks only. A test
# gives each indicator garbage in the parts it is not listed under.
_READ_BY: dict[str, frozenset[str]] = {
    "recorded": frozenset(
        {"mobile_share", "median_registration_delay", "registered_within_30_days_share"}
    ),
    "online": frozenset({"communes_online_share"}),
    "team": frozenset({"collaborators_active", "collaborators_mobile_share"}),
    "occurred": frozenset(
        {
            "births",
            "deaths",
            "marriages",
            "divorces",
            "in_migrants",
            "out_migrants",
            "crude_birth_rate",
            "crude_death_rate",
            "natural_increase_rate",
            "general_fertility_rate",
            *(f"asfr_{g}_{g + 4}" for g in FERTILE_GROUPS),
            "total_fertility_rate",
            "sex_ratio_at_birth",
            "infant_mortality_rate",
            "under5_mortality_rate",
            "crude_marriage_rate",
            "crude_divorce_rate",
            "in_migration_rate",
            "out_migration_rate",
            "net_migration_rate",
        }
    ),
}


def flow_parts_of(indicator: str) -> tuple[str, ...]:
    """The flow parts `indicator` reads, in FLOW_PARTS' order (none: stocks only)."""
    if indicator not in dict(INDICATORS):
        raise LookupError(f"no indicator {indicator}")
    return tuple(part for part in FLOW_PARTS if indicator in _READ_BY[part])


def value_of(indicator: str, parts: Mapping[str, Any], period: Period) -> float:
    """One indicator from the sums of the parts it reads (`flow_parts_of`): the sums of
    the flow parts it does not read may be missing."""
    unread = {
        column: [0] * 7 if column == "births_by_group" else 0
        for part, columns in FLOW_PARTS.items()
        if part not in flow_parts_of(indicator)
        for column in columns
    }
    return float(_figures(unread | dict(parts), period.annualisation)[indicator])


def indicator_values(parts: Mapping[str, Any], period: Period) -> list[IndicatorValue]:
    """Every indicator, in the catalogue's order, from the parts' columns by name."""
    figures = _figures(parts, period.annualisation)
    return [IndicatorValue(name, float(figures[name]), unit) for name, unit in INDICATORS]


def _figures(p: Mapping[str, Any], annualise: float) -> dict[str, float]:
    population_mid: float = p["population_mid"]
    per_mille = NAN if population_mid == 0 else 1000 * annualise / population_mid
    births, deaths = p["births"], p["deaths"]
    marriages, divorces = p["marriages"], p["divorces"]
    in_migrants, out_migrants = p["in_migrants"], p["out_migrants"]
    asfr = [
        _rate(b, w, annualise)
        for b, w in zip(p["births_by_group"], p["women_by_group"], strict=True)
    ]
    young, working, old = p["aged_0_14"], p["aged_15_64"], p["aged_65_up"]
    households_mid = p["households_mid"]
    return {
        "population_end": p["population_end"],
        "population_end_male": p["population_end_male"],
        "population_end_female": p["population_end_female"],
        "population_mid": population_mid,
        "births": births,
        "deaths": deaths,
        "marriages": marriages,
        "divorces": divorces,
        "in_migrants": in_migrants,
        "out_migrants": out_migrants,
        "crude_birth_rate": births * per_mille,
        "crude_death_rate": deaths * per_mille,
        "natural_increase_rate": (births - deaths) * per_mille,
        "general_fertility_rate": _rate(births, p["women_15_49"], annualise),
        **{f"asfr_{g}_{g + 4}": a for g, a in zip(FERTILE_GROUPS, asfr, strict=True)},
        "total_fertility_rate": 5 * sum(asfr) / 1000,
        "sex_ratio_at_birth": _per(p["births_male"], p["births_female"], 100),
        "infant_mortality_rate": _per(p["infant_deaths"], births, 1000),
        "under5_mortality_rate": _per(p["under5_deaths"], births, 1000),
        "crude_marriage_rate": marriages * per_mille,
        "crude_divorce_rate": divorces * per_mille,
        "in_migration_rate": in_migrants * per_mille,
        "out_migration_rate": out_migrants * per_mille,
        "net_migration_rate": (in_migrants - out_migrants) * per_mille,
        "dependency_ratio": _per(young + old, working, 100),
        "young_dependency_ratio": _per(young, working, 100),
        "old_dependency_ratio": _per(old, working, 100),
        "ageing_index": _per(old, young, 100),
        "average_household_size": _per(population_mid, households_mid, 1),
        "smam_female": _smam(p["single_women"], p["known_women"]),
        "smam_male": _smam(p["single_men"], p["known_men"]),
        "communes_online_share": _per(p["communes_online"], p["communes"], 100),
        "mobile_share": _per(p["recorded_mobile"], p["recorded_vital"], 100),
        "median_registration_delay": p["median_delay"],
        "registered_within_30_days_share": p["within_30_days"],
        "collaborators_active": p["collaborators"],
        "collaborators_mobile_share": _per(p["collaborators_mobile"], p["collaborators"], 100),
    }


def _rate(events: float, people: float, annualise: float) -> float:
    """Events per 1000 people a year (NaN without people)."""
    return NAN if people == 0 else events / people * 1000 * annualise


def _per(numerator: float, denominator: float, scale: int) -> float:
    return NAN if denominator == 0 else numerator / denominator * scale


def _smam(single: Sequence[int], known: Sequence[int]) -> float:
    """Hajnal's singulate mean age at marriage from never-married counts by five-year
    group 15-19 … 50-54: (15 + 5 x sum of shares 15-19 … 45-49 - 50 x S50) / (1 - S50),
    S50 the mean share of 45-49 and 50-54."""
    shares = [_per(s, k, 1) for s, k in zip(single, known, strict=True)]
    s50 = (shares[6] + shares[7]) / 2
    return NAN if s50 == 1 else (15 + 5 * sum(shares[:7]) - 50 * s50) / (1 - s50)
