"""A unit's forecast inputs, read through the analysts' endpoint (`forecast_window` in
005_forecast.sql), and the assumptions made of them with the larger units they borrow
strength from: a province's life tables are fitted to the nation's, a commune's to its
province's (Brass relational logit); a unit with too few births for its own sex ratio
at birth takes the larger unit's (docs/forecasts.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from projections.domain.forecast.ages import (
    ABRIDGED_STARTS,
    FERTILE_STARTS,
    FIVE_YEAR_STARTS,
    five_year_from_abridged,
)
from projections.domain.forecast.assumptions import (
    Mortality,
    assumptions_from_window,
    mortality_from_window,
)
from projections.domain.forecast.fertility import MIN_BIRTHS_FOR_SRB, Variant
from projections.domain.forecast.inputs import BasePopulation, BaseWindow, BySex
from projections.domain.forecast.life_table import LifeTable
from projections.domain.forecast.projection import Assumptions
from projections.domain.forecast.standard import MIN_DEATHS_FOR_RAW, standard_table
from projections.domain.indicator_catalog import Level, Units
from projections.indicators import view_query
from schemas import admin_units

WINDOW_YEARS = 5  # the rates are measured over the five years ending on the base date
SEXES = {"MALE": "male", "FEMALE": "female"}


@dataclass(frozen=True)
class Measured:
    """A unit's base population on the base date and its window of events."""

    base: BasePopulation
    window: BaseWindow

    @property
    def srb(self) -> float | None:
        births = self.window.births_male + self.window.births_female
        if births < MIN_BIRTHS_FOR_SRB or self.window.births_female == 0:
            return None
        return self.window.births_male / self.window.births_female


def window_start(base_date: date) -> date:
    """The first day of the WINDOW_YEARS years ending on `base_date`."""
    try:
        earlier = base_date.replace(year=base_date.year - WINDOW_YEARS)
    except ValueError:  # 29 February
        earlier = base_date.replace(year=base_date.year - WINDOW_YEARS, day=28)
    return earlier + timedelta(days=1)


def measured(client: Any, level: Level, code: str, base_date: date, units: Units) -> Measured:
    """The unit's inputs, from one query."""
    start = window_start(base_date)
    result = client.query(
        view_query("forecast_window"),
        parameters={
            "level": level,
            "code": "" if level == "nation" else code,
            "units": units,
            "start": start,
            "end": base_date,
        },
    )
    cells: dict[tuple[str, str, int], float] = defaultdict(float)
    for measure, sex, age_from, value in result.result_rows:
        cells[(measure, SEXES.get(sex, ""), int(age_from))] += float(value)

    def by_sex(measure: str, starts: tuple[int, ...]) -> BySex:
        return BySex.of(
            [cells[(measure, "male", a)] for a in starts],
            [cells[(measure, "female", a)] for a in starts],
        )

    before = by_sex("population_before", ABRIDGED_STARTS)
    end = by_sex("population_end", ABRIDGED_STARTS)
    years = ((base_date - start).days + 1) / 365.25
    exposures = BySex.of(
        [years * (b + e) / 2 for b, e in zip(before.male, end.male, strict=True)],
        [years * (b + e) / 2 for b, e in zip(before.female, end.female, strict=True)],
    )
    base = BasePopulation(
        base_date,
        BySex(five_year_from_abridged(end.male), five_year_from_abridged(end.female)),
        FIVE_YEAR_STARTS,
    )
    window = BaseWindow(
        years=years,
        births_by_mother_age=tuple(cells[("births_by_mother", "", a)] for a in FERTILE_STARTS),
        births_male=cells[("births", "male", -1)],
        births_female=cells[("births", "female", -1)],
        deaths=by_sex("deaths", ABRIDGED_STARTS),
        exposures=exposures,
        in_migrants=by_sex("in_migrants", FIVE_YEAR_STARTS),
        out_migrants=by_sex("out_migrants", FIVE_YEAR_STARTS),
    )
    return Measured(base, window)


@dataclass(frozen=True)
class Prepared:
    """What a projection starts from: the base, the assumptions, and what they borrowed."""

    base: BasePopulation
    assumptions: Assumptions
    mortality: Mortality
    standard: str  # the unit whose life tables the unit's were fitted to ('' for none)
    srb_from: str  # the unit whose sex ratio at birth is used


def larger(level: Level, code: str) -> tuple[Level, str] | None:
    """The unit a unit borrows strength from: the nation for a province, the province
    (today's, or the former one for an old code) for a commune, none for the nation."""
    if level == "nation":
        return None
    if level == "province":
        return ("nation", "")
    units = admin_units.load()
    commune = units.after.get(code) or units.before.get(code)
    if commune is None:
        raise LookupError(f"no commune {code}")
    return ("province", commune.province_code)


def prepare(
    client: Any,
    level: Level,
    code: str,
    base_date: date,
    units: Units,
    variants: tuple[Variant, ...],
) -> dict[Variant, Prepared]:
    """The unit's assumptions for each of `variants`, with those of the units above it
    as standards, measured once over the same window (the variants differ only in
    their fertility)."""
    own = measured(client, level, code, base_date, units)
    chain: list[tuple[Level, str]] = []
    above = larger(level, code)
    while above is not None:
        chain.append(above)
        above = larger(*above)
    tables: tuple[LifeTable, LifeTable] | None = None
    srb, srb_from, standard = own.srb, f"{level} {code}".strip(), ""
    for upper_level, upper_code in reversed(chain):  # the nation first
        upper = measured(client, upper_level, upper_code, base_date, units)
        borrowed = tables or top_standards(upper.window)
        mortality = mortality_from_window(upper.window, *(borrowed or (None, None)))
        tables = (mortality.male, mortality.female)
        standard = f"{upper_level} {upper_code}".strip()
        if srb is None and upper.srb is not None:
            srb, srb_from = upper.srb, standard
    if tables is None and (tables := top_standards(own.window)) is not None:
        standard = "model standard (docs/forecasts.md)"
    found = {}
    for variant in variants:
        assumptions, own_mortality = assumptions_from_window(
            own.window,
            variant=variant,
            standard_male=None if tables is None else tables[0],
            standard_female=None if tables is None else tables[1],
            srb=srb,
            net_migration_only=level == "commune",
        )
        found[variant] = Prepared(
            own.base, assumptions, own_mortality, standard, srb_from if srb else ""
        )
    return found


def top_standards(window: BaseWindow) -> tuple[LifeTable, LifeTable] | None:
    """None when the top unit's own deaths make its tables (a nation's); otherwise the
    parametric standard its tables are fitted to."""
    fewest = min(sum(window.deaths.male), sum(window.deaths.female))
    open_group = min(window.deaths.male[-1], window.deaths.female[-1])
    if fewest >= MIN_DEATHS_FOR_RAW and open_group > 0:
        return None
    return standard_table("male"), standard_table("female")
