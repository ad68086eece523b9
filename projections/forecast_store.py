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
