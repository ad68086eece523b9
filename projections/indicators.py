"""Reading the indicators: the parameterized views of `003_indicator_views.sql`.

Values travel as server-side parameters (`{name:Type}`), never spliced into the SQL,
so the same calls serve chDB in-process and a ClickHouse server over HTTP.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from clickhouse_connect.driver.client import Client

from projections.indicator_catalog import (
    LEVELS,
    UNITS,
    IndicatorValue,
    Level,
    Period,
    PyramidRow,
    RejectionCount,
    Units,
)

_UNIT_ARGUMENTS = "level = {level:String}, code = {code:String}, units = {units:String}"
_PERIOD_ARGUMENTS = "start = {start:Date32}, end = {end:Date32}"


def indicator_values(
    client: Client, level: Level, code: str, period: Period, units: Units = "as_was"
) -> list[IndicatorValue]:
    """Every indicator of one unit and period, in the catalogue's order (NaN: no denominator)."""
    result = client.query(
        "SELECT indicator, value, unit FROM popreg.indicator_values("
        f"{_UNIT_ARGUMENTS}, {_PERIOD_ARGUMENTS})",
        parameters=_unit(level, code, units) | _period(period),
    )
    return [IndicatorValue(name, float(value), unit) for name, value, unit in result.result_rows]


def population_pyramid(
    client: Client, level: Level, code: str, on_date: date, units: Units = "as_was"
) -> list[PyramidRow]:
    """Residents on `on_date` by five-year age group and sex, youngest first."""
    result = client.query(
        "SELECT age_group, age_from, male, female, unknown FROM popreg.population_pyramid("
        f"{_UNIT_ARGUMENTS}, on_date = {{on_date:Date32}})",
        parameters=_unit(level, code, units) | {"on_date": on_date},
    )
    return [
        PyramidRow(group, int(start), int(male), int(female), int(unknown))
        for group, start, male, female, unknown in result.result_rows
    ]


def rejections_by_reason(
    client: Client, level: Level, code: str, period: Period, units: Units = "as_was"
) -> list[RejectionCount]:
    """Events rejected in the period by commune and reason, with the commune's rate."""
    result = client.query(
        "SELECT commune_code, reason, rejected, submitted, rate FROM popreg.rejections_by_reason("
        f"{_UNIT_ARGUMENTS}, {_PERIOD_ARGUMENTS})",
        parameters=_unit(level, code, units) | _period(period),
    )
    return [
        RejectionCount(commune, reason, int(rejected), int(submitted), float(rate))
        for commune, reason, rejected, submitted, rate in result.result_rows
    ]


def _unit(level: Level, code: str, units: Units) -> dict[str, Any]:
    if level not in LEVELS:
        raise ValueError(f"level is one of {', '.join(LEVELS)}, got {level!r}")
    if units not in UNITS:
        raise ValueError(f"units is one of {', '.join(UNITS)}, got {units!r}")
    return {"level": level, "code": "" if level == "nation" else code, "units": units}


def _period(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}
