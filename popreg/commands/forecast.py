"""`popreg forecast`: a unit's population projected from the registry by the
cohort-component method (docs/forecasts.md), printed, and stored for analysts and the
portal with `--store`.

The inputs are read through the analysts' endpoint like `popreg indicators`; a stored
run is written with the indicator writer's login (the analyst may not write)."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

import typer
from rich import box
from rich.table import Table

from infra.clickhouse import writer_client
from popreg.commands.indicators import (
    CodeOption,
    Format,
    FormatOption,
    LevelOption,
    UnitsOption,
    _level,
    _units,
    analyst,
    show,
)
from popreg.output import DataDir, console, fail, settings_for
from projections.domain.forecast.fertility import Variant
from projections.domain.forecast.projection import project
from projections.domain.forecast.yearly import YearRow, yearly
from projections.domain.indicator_catalog import Level, Units
from projections.forecast_communes import project_province_communes, province_of
from projections.forecast_inputs import Prepared, prepare, window_start
from projections.forecast_store import Run, store

VARIANTS: tuple[Variant, ...] = ("low", "medium", "high")
COLUMNS = (
    "variant",
    "on",
    "population",
    "male",
    "female",
    "births",
    "deaths",
    "net_migration",
    "tfr",
    "e0_male",
    "e0_female",
    "dependency",
)


def forecast(
    level: LevelOption = "province",
    code: CodeOption = "96",
    base_date: Annotated[
        str, typer.Option("--base-date", help="the base population's date, YYYY-MM-DD")
    ] = "2025-12-31",
    until: Annotated[int, typer.Option("--until", help="the last year projected")] = 2035,
    variant: Annotated[
        Literal["low", "medium", "high", "all"],
        typer.Option("--variant", help="the fertility variant (TFR -0.5, as measured, +0.5)"),
    ] = "medium",
    units: UnitsOption = "current",
    shape: FormatOption = Format.table,
    keep: Annotated[
        bool, typer.Option("--store", help="also store the run in ClickHouse for analysts")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Project a unit's population by age and sex to a year, from its registry: the base
    population on the base date, and fertility, mortality and migration measured over the
    five years before it (a province's life tables fitted to the nation's); a commune by
    the change of its cohorts over those years, kept to its province's projection."""
    try:
        day = date.fromisoformat(base_date)
    except ValueError:
        raise fail(f"--base-date wants a date like 2025-12-31, got {base_date!r}") from None
    if not day.year < until <= day.year + 50:
        raise fail(f"--until is a year after the base date's and at most 50 on ({until})")
    chosen = VARIANTS if variant == "all" else (variant,)
    with analyst(data_dir) as client:
        try:
            runs = projected(client, _level(level), code, day, until, _units(units), chosen)
        except (LookupError, ValueError) as error:
            raise fail(str(error)) from None
    table = [
        (
            one,
            row.on.isoformat(),
            *persons(
                shape,
                row.population,
                row.population_male,
                row.population_female,
                row.births,
                row.deaths,
                row.net_migration,
            ),
            row.tfr,
            row.e0_male,
            row.e0_female,
            row.dependency_ratio,
        )
        for one, _, rows in runs
        for row in rows
    ]
    if shape is Format.table:
        for one, prepared, rows in runs:
            narrow(rows, f"{level} {code}, {one} variant, from {day} ({units})")
            console.print(describe(one, prepared, raked_to(level, code)))
    else:
        show(COLUMNS, table, shape, "")
    if keep:
        stored(data_dir, level, code, units, day, until, runs)


Runs = list[tuple[Variant, Prepared, tuple[YearRow, ...]]]


def projected(
    client: Any,
    level: Level,
    code: str,
    day: date,
    until: int,
    units: Units,
    chosen: tuple[Variant, ...],
) -> Runs:
    """Each variant's years: a province or the nation by its own cohort components; a
    commune by Hamilton-Perry with its province's communes, raked to the province (the
    inputs are then the province's)."""
    nobody = f"{level} {code} has no residents on {day}: nothing to project"
    if level != "commune":
        prepared_by = prepare(client, level, code, day, units, chosen)
        if any(p.base.population.total() <= 0 for p in prepared_by.values()):
            raise ValueError(nobody)
        return [
            (one, prepared, yearly(project(prepared.base, prepared.assumptions, until), until))
            for one, prepared in prepared_by.items()
        ]
    by_variant = project_province_communes(client, province_of(code), day, until, chosen, units)
    if any(found.communes[code].base.population.total() <= 0 for found in by_variant.values()):
        raise ValueError(nobody)
    return [
        (one, found.province, yearly(found.communes[code], until))
        for one, found in by_variant.items()
    ]


def narrow(rows: tuple[YearRow, ...], title: str) -> None:
    """One variant's years as a table that fits an 80-column terminal."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    headers = ("year", "total", "men", "women", "births", "deaths", "net mig.", "TFR")
    for header in (*headers, "e0 m", "e0 f", "dep."):
        table.add_column(header, justify="right", no_wrap=True)
    for r in rows:
        counts = (r.population, r.population_male, r.population_female, r.births, r.deaths)
        table.add_row(
            str(r.on.year) if (r.on.month, r.on.day) == (12, 31) else r.on.isoformat(),
            *(f"{c:,.0f}" for c in counts),
            f"{r.net_migration:+,.0f}",
            f"{r.tfr:.2f}",
            f"{r.e0_male:.1f}",
            f"{r.e0_female:.1f}",
            f"{r.dependency_ratio:.1f}",
        )
    console.print(table)


def persons(shape: Format, *counts: float) -> tuple[float | int, ...]:
    """Counts of persons: whole in a table (the cells are fractional until published),
    as computed in CSV and JSON."""
    if shape is Format.table:
        return tuple(round(c) for c in counts)
    return counts


def describe(variant: Variant, prepared: Prepared, raked_to: str) -> str:
    a = prepared.assumptions
    if raked_to:
        return (
            f"{variant}: Hamilton-Perry over the five years before the base, raked to the"
            f" {raked_to}'s projection (TFR {a.fertility.tfr:.2f}, e0 {a.e0_male:.1f} (men)"
            f" {a.e0_female:.1f} (women)), whose births, deaths and migrants it shares"
        )
    borrowed = f"; life tables fitted to the {prepared.standard}'s" if prepared.standard else ""
    srb = a.fertility.srb
    return (
        f"{variant}: TFR {a.fertility.tfr:.2f}, sex ratio at birth {srb * 100:.1f}"
        f" ({prepared.srb_from or 'default'}), e0 {a.e0_male:.1f} (men) {a.e0_female:.1f}"
        f" (women){borrowed}"
    )


def raked_to(level: str, code: str) -> str:
    """The unit a commune's projection is raked to ('' for a province or the nation)."""
    return f"province {province_of(code)}" if level == "commune" else ""


def assumptions_of(prepared: Prepared, day: date, raked: str) -> dict[str, object]:
    a = prepared.assumptions

    def number(value: float) -> float | None:
        return None if math.isnan(value) else round(value, 6)

    return {
        "window": [window_start(day).isoformat(), day.isoformat()],
        "tfr": number(a.fertility.tfr),
        "asfr": [number(v) for v in a.fertility.asfr],
        "srb": number(a.fertility.srb),
        "srb_from": prepared.srb_from,
        "e0_male": number(a.e0_male),
        "e0_female": number(a.e0_female),
        "life_tables_fitted_to": prepared.standard,
        "migration": asdict(a.migration),
        "method": f"hamilton-perry raked to {raked}" if raked else "cohort-component",
    }


def stored(
    data_dir: DataDir,
    level: str,
    code: str,
    units: str,
    day: date,
    until: int,
    runs: Runs,
) -> None:
    client = writer_client(settings_for(data_dir))
    try:
        for one, prepared, rows in runs:
            run = Run(
                level,
                code,
                units,
                day,
                until,
                one,
                assumptions_of(prepared, day, raked_to(level, code)),
            )
            run_id = store(client, run, rows)
            typer.echo(f"stored as run {run_id} ({one})", err=True)  # stdout may be JSON
    finally:
        client.close()
