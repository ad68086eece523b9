"""`popreg sql`, `popreg indicators`, `popreg pyramid`: analysts' reads of ClickHouse.

Everything goes through the analysts' read-only client, exactly as an analyst's own
ClickHouse client would, so these commands cannot change the data either.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from clickhouse_connect.driver.exceptions import ClickHouseError
from rich.table import Table

from infra.clickhouse import analyst_client
from popreg.output import DataDir, console, fail, settings_for
from projections import indicators as queries
from projections.domain.indicator_catalog import Level, Period, Units


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]
LevelOption = Annotated[str, typer.Option("--level", help="commune, province or nation")]
CodeOption = Annotated[str, typer.Option("--code", help="the unit's code (none for nation)")]
UnitsOption = Annotated[
    str, typer.Option("--units", help="as_was: units in force then; current: mapped to today's")
]


@contextmanager
def analyst(data_dir: DataDir) -> Iterator[Any]:
    """The read-only client; errors say what went wrong and what to check."""
    settings = settings_for(data_dir)
    try:
        client = analyst_client(settings)
    except (ClickHouseError, OSError) as error:
        raise fail(f"cannot reach ClickHouse ({error}); is the stack up? (popreg status)") from None
    try:
        yield client
    except ClickHouseError as error:
        raise fail(str(error).strip()) from None
    finally:
        client.close()


def show(columns: Sequence[str], rows: Sequence[Sequence[Any]], shape: Format, title: str) -> None:
    if shape is Format.json:
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str))
    elif shape is Format.csv:
        out = csv.writer(sys.stdout)
        out.writerow(columns)
        out.writerows(rows)
    else:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(shown(v) for v in row))
        console.print(table)


def shown(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def sql(
    query: Annotated[str, typer.Argument(help="one read-only statement (SELECT, WITH, SHOW…)")],
    shape: FormatOption = Format.table,
    data_dir: DataDir = None,
) -> None:
    """Run one read-only query on the indicator database, as an analyst."""
    with analyst(data_dir) as client:
        result = client.query(query)
        show(result.column_names, result.result_rows, shape, "")


def indicators(
    level: LevelOption = "province",
    code: CodeOption = "96",
    period: Annotated[str, typer.Option(help="2025, 2025-Q3 or 2025-07")] = "2025",
    units: UnitsOption = "as_was",
    shape: FormatOption = Format.table,
    data_dir: DataDir = None,
) -> None:
    """Every population indicator of one unit and period.

    The same figures as the analysts' view popreg.indicator_values, whose definition
    holds the formulas."""
    try:
        chosen = Period.parse(period)
    except ValueError as error:
        raise fail(str(error)) from None
    with analyst(data_dir) as client:
        try:
            values = queries.indicator_values(client, _level(level), code, chosen, _units(units))
        except ValueError as error:
            raise fail(str(error)) from None
    rows = [(v.indicator, v.value, v.unit) for v in values]
    show(("indicator", "value", "unit"), rows, shape, f"{level} {code} {period} ({units})")


def pyramid(
    level: LevelOption = "province",
    code: CodeOption = "96",
    on: Annotated[str, typer.Option("--on", help="the date, YYYY-MM-DD")] = "2025-12-31",
    units: UnitsOption = "as_was",
    shape: FormatOption = Format.table,
    data_dir: DataDir = None,
) -> None:
    """The population by five-year age group and sex on a date, drawn as text."""
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise fail(f"--on wants a date like 2025-12-31, got {on!r}") from None
    with analyst(data_dir) as client:
        groups = queries.population_pyramid(client, _level(level), code, day, _units(units))
    if shape is not Format.table:
        rows = [(g.age_group, g.male, g.female, g.unknown) for g in groups]
        show(("age_group", "male", "female", "unknown"), rows, shape, "")
        return
    widest = max([g.male for g in groups] + [g.female for g in groups] + [1])
    console.print(f"population of {level} {code} on {day} ({units}): men ◀ │ ▶ women")
    for g in reversed(groups):
        men, women = (round(30 * n / widest) for n in (g.male, g.female))
        console.print(
            f"{g.age_group:>6} {g.male:>8,} {'█' * men:>30}│{'█' * women:<30} {g.female:<8,}",
            highlight=False,
        )


def _level(level: str) -> Level:
    if level not in ("commune", "province", "nation"):
        raise fail(f"--level is commune, province or nation, got {level!r}")
    return level  # type: ignore[return-value]


def _units(units: str) -> Units:
    if units not in ("as_was", "current"):
        raise fail(f"--units is as_was or current, got {units!r}")
    return units  # type: ignore[return-value]
