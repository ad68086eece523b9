"""Reading the indicators: the queries of the parameterized views in
`003_indicator_views.sql`.

popreg sends each view's SELECT itself rather than calling the view: ClickHouse
analyses a call of a parameterized view twice, and for `indicator_values` analysis
costs about as much as reading a province's rows (measured in-process on a Cà
Mau-sized warehouse: p50 189 ms through the view, 170 ms sent directly). It is sent
without its comments, which ClickHouse's parser pays for (about 5 of its ~25 ms of CPU
in-process). Analysts call the views; a test holds both to the same answers. Values
travel as server-side parameters (`{name:Type}`), never spliced into the SQL, so the
same calls serve chDB in-process and a ClickHouse server over HTTP.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Any

from clickhouse_connect.driver.client import Client

from projections.clickhouse_schema import DATABASE, SQL_DIR, statements
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

VIEWS_SQL = SQL_DIR / "003_indicator_views.sql"
# a quoted string or identifier (kept whole, with its escapes), or a comment to the end
# of its line
_STRING_OR_COMMENT = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`)|--[^\n]*""")


@cache
def view_query(name: str) -> str:
    """The SELECT behind the parameterized view `popreg.<name>`, parameters and all."""
    head = f"CREATE OR REPLACE VIEW {DATABASE}.{name} AS"
    for statement in statements(VIEWS_SQL.read_text("utf-8")):
        _, found, query = statement.partition(head)
        if found:
            return without_comments(query)
    raise LookupError(f"no view {DATABASE}.{name} in {VIEWS_SQL.name}")


def without_comments(sql: str) -> str:
    """`sql` with its `--` comments and blank lines removed, its strings untouched."""
    bare = _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", sql)
    return "\n".join(line.rstrip() for line in bare.splitlines() if line.strip())


def indicator_values(
    client: Client, level: Level, code: str, period: Period, units: Units = "as_was"
) -> list[IndicatorValue]:
    """Every indicator of one unit and period, in the catalogue's order (NaN: no denominator)."""
    result = client.query(
        view_query("indicator_values"), parameters=_unit(level, code, units) | _period(period)
    )
    return [IndicatorValue(name, float(value), unit) for name, value, unit in result.result_rows]


def population_pyramid(
    client: Client, level: Level, code: str, on_date: date, units: Units = "as_was"
) -> list[PyramidRow]:
    """Residents on `on_date` by five-year age group and sex, youngest first."""
    result = client.query(
        view_query("population_pyramid"),
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
        view_query("rejections_by_reason"), parameters=_unit(level, code, units) | _period(period)
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
