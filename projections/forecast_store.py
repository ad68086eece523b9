"""Stored forecasts in ClickHouse (`forecast_runs`, `forecast_population`,
`forecast_summary`, 005_forecast.sql): a run is written once, under an id of its own, and
read by analysts and the portal through the analysts' endpoint."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from projections.clickhouse_schema import DATABASE
from projections.domain.forecast.ages import FIVE_YEAR_STARTS
from projections.domain.forecast.yearly import YearRow


@dataclass(frozen=True)
class Run:
    level: str
    code: str
    units: str
    base_date: date
    until_year: int
    variant: str
    assumptions: dict[str, Any]


def store(client: Any, run: Run, rows: tuple[YearRow, ...]) -> uuid.UUID:
    """Write the run; return its id."""
    run_id = uuid.uuid4()
    fields = asdict(run)
    client.insert(
        f"{DATABASE}.forecast_runs",
        [
            [
                run_id,
                datetime.now(UTC),
                run.level,
                run.code,
                run.units,
                run.base_date,
                run.until_year,
                run.variant,
                json.dumps(fields["assumptions"], ensure_ascii=False, sort_keys=True),
            ]
        ],
        [
            "run_id",
            "created_at",
            "level",
            "code",
            "units",
            "base_date",
            "until_year",
            "variant",
            "assumptions",
        ],
    )
    client.insert(
        f"{DATABASE}.forecast_population",
        [
            [run_id, row.on, sex, age, persons]
            for row in rows
            for sex in ("male", "female")
            for age, persons in zip(FIVE_YEAR_STARTS, row.pyramid.sex(sex), strict=True)
        ],
        ["run_id", "on_date", "sex", "age_from", "persons"],
    )
    client.insert(
        f"{DATABASE}.forecast_summary",
        [[run_id, row.on, name, value] for row in rows for name, value in row.figures().items()],
        ["run_id", "on_date", "measure", "value"],
    )
    return run_id


@dataclass(frozen=True)
class StoredVariant:
    """One stored run: by date, its population by sex and age group (five-year groups,
    youngest first)."""

    run_id: str
    created_at: datetime
    pyramids: dict[date, tuple[tuple[float, ...], tuple[float, ...]]]


@dataclass(frozen=True)
class StoredForecast:
    base_date: date
    until_year: int
    variants: dict[str, StoredVariant]


def newest(client: Any, level: str, code: str, units: str) -> StoredForecast | None:
    """The unit's newest stored forecast: of the runs from its latest base date, the
    newest of each variant (a band needs its variants from the same base); None if no
    run was stored for the unit."""
    runs = client.query(
        f"""
        SELECT variant, toString(argMax(run_id, created_at)), max(created_at), base_date,
               argMax(until_year, created_at)
        FROM {DATABASE}.forecast_runs
        WHERE level = {{level:String}} AND code = {{code:String}} AND units = {{units:String}}
          AND base_date = (SELECT max(base_date) FROM {DATABASE}.forecast_runs
                           WHERE level = {{level:String}} AND code = {{code:String}}
                             AND units = {{units:String}})
        GROUP BY variant, base_date
        """,
        parameters={"level": level, "code": code, "units": units},
    ).result_rows
    if not runs:
        return None
    ids = [run_id for _, run_id, _, _, _ in runs]
    cells: dict[str, dict[date, tuple[list[float], list[float]]]] = {i: {} for i in ids}
    for run_id, on, sex, persons in client.query(
        f"""
        SELECT toString(run_id), on_date, sex, persons FROM {DATABASE}.forecast_population
        WHERE run_id IN {{ids:Array(UUID)}} ORDER BY run_id, on_date, sex, age_from
        """,
        parameters={"ids": ids},
    ).result_rows:
        male, female = cells[run_id].setdefault(on, ([], []))
        (male if sex == "male" else female).append(float(persons))
    variants = {
        variant: StoredVariant(
            run_id,
            created,
            {on: (tuple(m), tuple(f)) for on, (m, f) in cells[run_id].items()},
        )
        for variant, run_id, created, _, _ in runs
    }
    return StoredForecast(runs[0][3], max(r[4] for r in runs), variants)
