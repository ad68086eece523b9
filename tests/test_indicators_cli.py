"""The analysts' commands against the real stack: `popreg indicators`, `pyramid` and
`sql`, reading through the read-only endpoint while the processors run."""

from __future__ import annotations

import json

import pytest

from schemas.settings import Settings
from tests.cli_env import popreg
from tests.id_space import Ids, synthetic
from tests.producing import publish

pytestmark = pytest.mark.stack


def test_indicators_pyramid_and_sql_print_what_clickhouse_holds(settings: Settings) -> None:
    publish(settings, synthetic(Ids.new(), households=40, years=(2023, 2024), seed=4, error_rate=0))
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0

    shown = popreg(
        settings, "indicators", "--level", "nation", "--period", "2024", "--format", "json"
    )
    assert shown.returncode == 0, shown.stderr
    values = {row["indicator"]: row["value"] for row in json.loads(shown.stdout)}
    counted = popreg(
        settings,
        "sql",
        "SELECT value AS births FROM popreg.indicator_values(level = 'nation', code = '',"
        " units = 'as_was', start = '2024-01-01', end = '2024-12-31')"
        " WHERE indicator = 'births'",
        "--format",
        "json",
    )
    assert counted.returncode == 0, counted.stderr
    assert values["births"] == json.loads(counted.stdout)[0]["births"] > 0

    pyramid = popreg(
        settings, "pyramid", "--level", "nation", "--on", "2024-12-31", "--format", "csv"
    )
    assert pyramid.returncode == 0, pyramid.stderr
    lines = pyramid.stdout.splitlines()
    assert lines[0] == "age_group,male,female,unknown" and lines[1].startswith("0-4,")
    table = popreg(
        settings, "indicators", "--level", "province", "--code", "96", "--period", "2024"
    )
    assert table.returncode == 0 and "total_fertility_rate" in table.stdout


def test_sql_refuses_writes_and_bad_arguments_say_what_is_wrong(settings: Settings) -> None:
    dropped = popreg(settings, "sql", "DROP TABLE popreg.vital_events")
    assert dropped.returncode == 1
    assert "READONLY" in dropped.stderr
    assert popreg(settings, "sql", "SELECT count() FROM popreg.communes").returncode == 0
    # row-level tables are not released (docs/decisions/0004-disclosure-control.md)
    rows = popreg(settings, "sql", "SELECT count() FROM popreg.vital_events")
    assert rows.returncode == 1 and "ACCESS_DENIED" in rows.stderr
    wrong = popreg(settings, "indicators", "--period", "2024-13")
    assert wrong.returncode == 1 and "2024-13" in wrong.stderr
    level = popreg(settings, "pyramid", "--level", "district")
    assert level.returncode == 1 and "commune, province or nation" in level.stderr
