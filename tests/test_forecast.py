"""`popreg forecast` on the real stack: a generated province projected from the
registry, each year balanced, the base the registry's own residents, and the stored run
read back by an analyst."""

from __future__ import annotations

import json
from datetime import date

import pytest

from infra.clickhouse import analyst_client
from projections.forecast_communes import project_province_communes
from projections.forecast_inputs import measured
from projections.indicators import population_pyramid
from schemas.settings import Settings
from tests.cli_env import popreg
from tests.id_space import Ids, synthetic
from tests.producing import publish

pytestmark = pytest.mark.stack
BASE = date(2025, 12, 31)
FORMER, TODAYS = "31999", "31825"  # a commune of Cà Mau before 2025-07-01, one of today's


def test_a_province_projected_to_2035_balances_and_is_stored(settings: Settings) -> None:
    publish(
        settings, synthetic(Ids.new(), households=60, years=(2019, 2025), seed=11, error_rate=0)
    )
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    client = analyst_client(settings)
    try:
        inputs = measured(client, "province", "96", BASE, "current")
        pyramid = population_pyramid(client, "province", "96", BASE, "current")
    finally:
        client.close()
    registered = sum(g.male + g.female for g in pyramid)
    assert inputs.base.population.total() == registered > 0
    assert inputs.window.births_male + inputs.window.births_female > 0
    assert inputs.window.deaths.total() > 0 and inputs.window.exposures.total() > 0

    printed = popreg(
        settings, "forecast", "--level", "province", "--code", "96", "--base-date",
        BASE.isoformat(), "--until", "2035", "--variant", "all", "--format", "json", "--store",
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    rows = json.loads(printed.stdout)
    for variant in ("low", "medium", "high"):
        years = [r for r in rows if r["variant"] == variant]
        assert [r["on"] for r in years] == [f"{y}-12-31" for y in range(2026, 2036)]
        previous = registered
        for r in years:  # population = previous + births - deaths + net migration
            change = r["births"] - r["deaths"] + r["net_migration"]
            assert r["population"] == pytest.approx(previous + change, abs=1e-6), r
            assert r["population"] == pytest.approx(r["male"] + r["female"], abs=1e-6)
            previous = r["population"]
    by = {v: [r for r in rows if r["variant"] == v][-1] for v in ("low", "medium", "high")}
    assert by["low"]["tfr"] == pytest.approx(by["medium"]["tfr"] - 0.5)
    assert by["low"]["population"] < by["medium"]["population"] < by["high"]["population"]

    runs = [line.split()[3] for line in printed.stderr.splitlines() if "stored as run" in line]
    assert len(runs) == 3
    read = popreg(
        settings, "sql",
        "SELECT r.variant AS variant, count() AS cells, round(sum(p.persons)) AS persons"
        " FROM popreg.forecast_population AS p"
        " INNER JOIN popreg.forecast_runs AS r USING (run_id)"
        f" WHERE run_id IN ('{runs[0]}', '{runs[1]}', '{runs[2]}') AND p.on_date = '2035-12-31'"
        " GROUP BY r.variant ORDER BY r.variant",
        "--format", "json",
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    stored = {r["variant"]: r for r in json.loads(read.stdout)}
    assert stored["medium"]["cells"] == 42  # 21 age groups, two sexes
    assert stored["medium"]["persons"] == round(by["medium"]["population"])


def test_a_commune_is_projected_within_its_province(settings: Settings) -> None:
    """A commune's years balance from its registered residents, and every commune of
    the province, projected together, adds up to the province's own projection."""
    publish(
        settings, synthetic(Ids.new(), households=60, years=(2019, 2025), seed=12, error_rate=0)
    )
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    client = analyst_client(settings)
    try:
        found = project_province_communes(client, "96", BASE, 2035, ("medium",))["medium"]
        sizes = {
            c: population_pyramid(client, "commune", c, BASE, "current") for c in found.communes
        }
    finally:
        client.close()
    registered = {c: sum(g.male + g.female for g in rows) for c, rows in sizes.items()}
    commune = max(registered, key=lambda c: registered[c])
    assert registered[commune] > 0
    for i, step in enumerate(found.projection.steps):
        at = [c.steps[i] for c in found.communes.values()]
        assert sum(s.population.total() for s in at) == pytest.approx(step.population.total())
        assert sum(s.births_total for s in at) == pytest.approx(step.births_total)

    printed = popreg(
        settings, "forecast", "--level", "commune", "--code", commune, "--base-date",
        BASE.isoformat(), "--until", "2035", "--format", "json", "--store",
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    rows = json.loads(printed.stdout)
    assert [r["on"] for r in rows] == [f"{y}-12-31" for y in range(2026, 2036)]
    previous = registered[commune]
    for r in rows:
        change = r["births"] - r["deaths"] + r["net_migration"]
        assert r["population"] == pytest.approx(previous + change, abs=1e-6), r
        previous = r["population"]
    assert rows[-1]["population"] == pytest.approx(
        found.communes[commune].steps[-1].population.total()
    )
    (run,) = [line.split()[3] for line in printed.stderr.splitlines() if "stored as run" in line]
    read = popreg(
        settings, "sql",
        f"SELECT JSONExtractString(assumptions, 'method') AS method FROM popreg.forecast_runs"
        f" WHERE run_id = '{run}'", "--format", "json",
    )  # fmt: skip
    assert json.loads(read.stdout) == [{"method": "hamilton-perry raked to province 96"}]
    table = popreg(settings, "forecast", "--level", "commune", "--code", commune)
    assert table.returncode == 0 and "Hamilton-Perry" in table.stdout


def test_bad_arguments_say_what_is_wrong(settings: Settings) -> None:
    late = popreg(settings, "forecast", "--base-date", "2025-12-31", "--until", "2020")
    assert late.returncode == 1 and "--until" in late.stderr
    wrong = popreg(settings, "forecast", "--base-date", "31/12/2025")
    assert wrong.returncode == 1 and "--base-date" in wrong.stderr
    nobody = popreg(settings, "forecast", "--level", "commune", "--code", "99999")
    assert nobody.returncode == 1 and "99999" in nobody.stderr
    former = popreg(settings, "forecast", "--level", "commune", "--code", FORMER)
    assert former.returncode == 1 and "former commune" in former.stderr
    as_was = popreg(
        settings, "forecast", "--level", "commune", "--code", TODAYS, "--units", "as_was"
    )
    assert as_was.returncode == 1 and "--units current" in as_was.stderr
