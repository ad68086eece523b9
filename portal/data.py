"""The portal's figures: what the pages ask for, answered by the queries of
`popreg indicators` and `popreg pyramid` (`projections/indicators.py`), through the
analysts' read-only endpoint, and kept for a moment so that many open pages cost one
query. No SQL of its own. One unit and period is `indicator_values`; many at once (a map's
units, a unit's years and months) are one `indicator_grid`, which a test holds to it cell
by cell.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from portal.definitions import DEFINITIONS, DEFINITIONS_VI, UNITS_VI
from projections import forecast_store
from projections import indicators as queries
from projections.domain import indicator_formulas
from projections.domain.forecast.ages import FIVE_YEAR_STARTS, labels
from projections.domain.indicator_catalog import IndicatorValue, Level, Period, Units
from schemas import admin_units

T = TypeVar("T")
FRESH_S = 0.75  # a figure is asked again after this: the pages poll every second
MONTHLY = ("births", "deaths", "in_migrants", "out_migrants")


class Unit(BaseModel):
    level: Level
    code: str
    name: str


class UnitInfo(BaseModel):
    unit: Unit
    parent: Unit | None
    children: list[Unit]


class Figure(BaseModel):
    indicator: str
    value: float | None  # None: no denominator (NaN in the CLI)
    unit: str
    definition: str
    unit_vi: str
    definition_vi: str


class UnitFigures(BaseModel):
    indicators: list[Figure]  # the period's
    years: list[int]
    series: dict[str, list[float | None]]  # each indicator in each of `years`
    monthly: dict[str, list[float | None]]  # births, deaths and moves in each month


class MapValue(BaseModel):
    code: str
    name: str
    value: float | None


class PyramidGroup(BaseModel):
    age_group: str
    male: int
    female: int
    unknown: int


class Rejection(BaseModel):
    commune_code: str
    reason: str
    rejected: int
    submitted: int
    rate: float


class ProjectedGroup(BaseModel):
    age_group: str
    male: float
    female: float


class Projected(BaseModel):
    """One variant of a stored forecast: its population at the end of each year, and the
    pyramid on each of those dates."""

    run_id: str
    created_at: str
    population: list[float]
    pyramids: list[list[ProjectedGroup]]


class Forecast(BaseModel):
    """The unit's newest stored forecast (`popreg forecast --store`), its variants from
    one base date: the band runs from low to high around medium."""

    base_date: str
    years: list[str]  # the dates of `population` and `pyramids` (31 December)
    variants: dict[str, Projected]


NATION = Unit(level="nation", code="", name="Việt Nam")
AGE_GROUPS = tuple(labels(FIVE_YEAR_STARTS))


@cache
def units() -> admin_units.AdminUnits:
    return admin_units.load()


def in_force(year: int, units_of: Units) -> date:
    """The day whose administrative units a year's figures are counted in: the end of
    the year for `as_was` (the 63 provinces before 2025-07-01), today's for `current`."""
    end = date(year, 12, 31)
    return (
        end if units_of == "as_was" and end < admin_units.REFORM_DATE else admin_units.REFORM_DATE
    )


def provinces(on: date = admin_units.REFORM_DATE) -> list[Unit]:
    """The provinces in force on a day, by code: today's 34 by default, the 63 before
    2025-07-01."""
    table = units().after if on >= admin_units.REFORM_DATE else units().before
    found = {c.province_code: c.province_name for c in table.values()}
    return [Unit(level="province", code=k, name=v) for k, v in sorted(found.items())]


def communes(province: str, on: date = admin_units.REFORM_DATE) -> list[Unit]:
    return [
        Unit(level="commune", code=c.code, name=c.name)
        for c in units().communes_of_province(province, on)
    ]


def describe(level: Level, code: str) -> UnitInfo:
    """A unit with the one above it and those below it (today's units)."""
    if level == "nation":
        return UnitInfo(unit=NATION, parent=None, children=provinces())
    if level == "province":
        named = {p.code: p for p in provinces()}
        if code not in named:
            raise LookupError(f"no province {code}")
        return UnitInfo(unit=named[code], parent=NATION, children=communes(code))
    commune = units().after.get(code) or units().before.get(code)
    if commune is None:
        raise LookupError(f"no commune {code}")
    parent = Unit(level="province", code=commune.province_code, name=commune.province_name)
    return UnitInfo(
        unit=Unit(level="commune", code=code, name=commune.name), parent=parent, children=[]
    )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _figures(values: list[IndicatorValue]) -> list[Figure]:
    return [
        Figure(
            indicator=v.indicator,
            value=_number(v.value),
            unit=v.unit,
            definition=DEFINITIONS.get(v.indicator, ""),
            unit_vi=UNITS_VI.get(v.unit, v.unit),
            definition_vi=DEFINITIONS_VI.get(v.indicator, ""),
        )
        for v in values
    ]


def _months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def _side_by_side(
    found: dict[tuple[str, str], list[Figure]], code: str, periods: list[str]
) -> dict[str, list[float | None]]:
    """Each indicator's value in each of `periods`, in their order."""
    values: dict[str, list[float | None]] = {}
    for period in periods:
        for figure in found[(code, period)]:
            values.setdefault(figure.indicator, []).append(figure.value)
    return values


def _monthly(
    flows: dict[tuple[str, Period], dict[str, Any]], code: str, months: list[Period]
) -> dict[str, list[float | None]]:
    """The monthly chart's counts, each a list over `months`."""
    return {name: [float(flows[(code, m)][name]) for m in months] for name in MONTHLY}


class Figures:
    """The analysts' client and a short-lived memory of answers."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._memory: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._asked: dict[tuple[Any, ...], Future[Any]] = {}  # answers on their way
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="figures")  # a map's parts

    def _remember(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The answer to `key` if it is younger than FRESH_S, else `compute`d once: a
        request asking what another is computing waits for that answer (a page's
        requests come at once, and a map's two ask for the same units)."""
        with self._lock:
            found = self._memory.get(key)
            if found is not None and time.monotonic() - found[0] < FRESH_S:
                known: T = found[1]
                return known
            coming = self._asked.get(key)
            if coming is None:
                coming = self._asked[key] = Future()
                computing = True
            else:
                computing = False
        if not computing:
            waited: T = coming.result()
            return waited
        started = time.monotonic()
        try:
            value = compute()
        except BaseException as error:
            coming.set_exception(error)
            raise
        finally:
            with self._lock:
                del self._asked[key]
        with self._lock:
            self._memory[key] = (started, value)
            if len(self._memory) > 4096:
                self._memory.clear()
        coming.set_result(value)
        return value

    def indicators(self, level: Level, code: str, period: str, units: Units) -> list[Figure]:
        chosen = Period.parse(period)

        def compute() -> list[Figure]:
            return _figures(queries.indicator_values(self.client, level, code, chosen, units))

        return self._remember(("indicators", level, code, period, units), compute)

    def series(
        self, level: Level, code: str, years: range, units: Units
    ) -> dict[str, list[float | None]]:
        """Each indicator's yearly values, for the sparklines."""
        return self._over(level, code, [str(y) for y in years], units)

    def page(
        self, level: Level, code: str, period: str, years: range, month_of: int, units: Units
    ) -> UnitFigures:
        """What a unit page shows of the indicators: the period's figures, each
        indicator's years (the sparklines) and the flows in the months of `month_of`, in
        one grid whose flows take the months too (the stocks' cost grows with their
        dates: twelve months' would add thirteen)."""
        yearly = [str(y) for y in years]
        periods = tuple(dict.fromkeys([period, *yearly]))
        chosen = {Period.parse(p): p for p in periods}
        months = [Period.parse(m) for m in _months(month_of)]

        def compute() -> UnitFigures:
            grid, flows = queries.grid_and_flows(
                self.client, level, (code,), list(chosen), months, units
            )
            found = {(c, chosen[p]): _figures(v) for (c, p), v in grid.items()}
            return UnitFigures(
                indicators=found[(code, period)],
                years=list(years),
                series=_side_by_side(found, code, yearly),
                monthly=_monthly(flows, code, months),
            )

        return self._remember(("page", level, code, periods, month_of, units), compute)

    def _over(
        self, level: Level, code: str, periods: list[str], units: Units
    ) -> dict[str, list[float | None]]:
        """Each indicator's value in each of `periods`, in their order."""
        return _side_by_side(self._grid(level, (code,), tuple(periods), units), code, periods)

    def _grid(
        self, level: Level, codes: tuple[str, ...], periods: tuple[str, ...], units: Units
    ) -> dict[tuple[str, str], list[Figure]]:
        """Every indicator of each unit in each period, by (code, period as asked)."""
        chosen = {Period.parse(p): p for p in periods}

        def compute() -> dict[tuple[str, str], list[Figure]]:
            found = queries.indicator_grid(self.client, level, codes, list(chosen), units)
            return {(code, chosen[period]): _figures(v) for (code, period), v in found.items()}

        return self._remember(("grid", level, codes, periods, units), compute)

    def map_values(
        self, indicator: str, year: int, province: str | None, units: Units
    ) -> list[MapValue]:
        """One indicator for a year, for every province, or every commune of one: the
        units' stocks, and their flows of the parts the indicator reads, at once (a map
        page's two indicators share the stocks)."""
        on = in_force(year, units)
        shown = provinces(on) if province is None else communes(province, on)
        level: Level = "province" if province is None else "commune"
        codes = tuple(u.code for u in shown)
        period = Period.parse(str(year))
        parts = indicator_formulas.flow_parts_of(indicator)

        def stocks() -> dict[tuple[str, Period], dict[str, Any]]:
            return queries.stock_grid(self.client, level, codes, [period], units)

        def flows() -> dict[tuple[str, Period], dict[str, Any]]:
            return queries.flow_grid(self.client, level, codes, [period], units, parts)

        stocking = self._pool.submit(self._remember, ("stocks", level, codes, year, units), stocks)
        flowing = (
            self._remember(("flows", level, codes, year, units, parts), flows) if parts else {}
        )
        stocked = stocking.result()
        return [
            MapValue(
                code=u.code,
                name=u.name,
                value=_number(
                    indicator_formulas.value_of(
                        indicator,
                        stocked[(u.code, period)] | flowing.get((u.code, period), {}),
                        period,
                    )
                ),
            )
            for u in shown
        ]

    def monthly(
        self, level: Level, code: str, year: int, units: Units
    ) -> dict[str, list[float | None]]:
        """Births, deaths and moves in each month of a year."""
        months = [Period.parse(m) for m in _months(year)]

        def compute() -> dict[str, list[float | None]]:
            return _monthly(
                queries.flow_grid(self.client, level, (code,), months, units), code, months
            )

        return self._remember(("monthly", level, code, year, units), compute)

    def pyramid(self, level: Level, code: str, on: date, units: Units) -> list[PyramidGroup]:
        def compute() -> list[PyramidGroup]:
            rows = queries.population_pyramid(self.client, level, code, on, units)
            return [
                PyramidGroup(age_group=r.age_group, male=r.male, female=r.female, unknown=r.unknown)
                for r in rows
            ]

        return self._remember(("pyramid", level, code, on, units), compute)

    def rejections(self, level: Level, code: str, period: str, units: Units) -> list[Rejection]:
        chosen = Period.parse(period)

        def compute() -> list[Rejection]:
            rows = queries.rejections_by_reason(self.client, level, code, chosen, units)
            return [
                Rejection(
                    commune_code=r.commune_code,
                    reason=r.reason,
                    rejected=r.rejected,
                    submitted=r.submitted,
                    rate=r.rate,
                )
                for r in rows
            ]

        return self._remember(("rejections", level, code, period, units), compute)

    def forecast(self, level: Level, code: str) -> Forecast | None:
        """The unit's newest stored forecast in today's units, or None."""

        def compute() -> Forecast | None:
            stored = forecast_store.newest(self.client, level, code, "current")
            if stored is None:
                return None
            # the years every variant reaches (one may have been run further than another)
            dates = sorted(set.intersection(*(set(v.pyramids) for v in stored.variants.values())))
            return Forecast(
                base_date=stored.base_date.isoformat(),
                years=[d.isoformat() for d in dates],
                variants={
                    name: Projected(
                        run_id=v.run_id,
                        created_at=v.created_at.isoformat(),
                        population=[math.fsum(v.pyramids[d][0] + v.pyramids[d][1]) for d in dates],
                        pyramids=[_groups(*v.pyramids[d]) for d in dates],
                    )
                    for name, v in stored.variants.items()
                },
            )

        return self._remember(("forecast", level, code), compute)


def _groups(male: tuple[float, ...], female: tuple[float, ...]) -> list[ProjectedGroup]:
    return [
        ProjectedGroup(age_group=g, male=m, female=f)
        for g, m, f in zip(AGE_GROUPS, male, female, strict=True)
    ]
