"""`popreg report` against the real stack: the annual report of a synthetic Cà Mau, its
population figure the one `popreg indicators --format json` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal.report import format_number
from schemas.settings import Settings
from tests.cli_env import env_for, popreg
from tests.id_space import Ids, synthetic
from tests.producing import publish

pytestmark = pytest.mark.stack

ARTIFACTS = Path(__file__).parent / "artifacts"
# `popreg report` itself, or the same typer function run alone while popreg/cli.py
# does not register it yet.
STANDALONE = "import typer; from popreg.commands.report import report; typer.run(report)"


def run_report(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    from popreg.cli import app

    if any(
        c.name == "report" or getattr(c.callback, "__name__", "") == "report"
        for c in app.registered_commands
    ):
        return popreg(settings, "report", *args, timeout=180)
    return subprocess.run(
        [sys.executable, "-c", STANDALONE, *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_report_prints_what_popreg_indicators_says(settings: Settings, tmp_path: Path) -> None:
    publish(settings, synthetic(Ids.new(), households=40, years=(2023, 2024), seed=7, error_rate=0))
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0

    out = tmp_path / "ca-mau-2024.pdf"
    made = run_report(settings, "--province", "96", "--year", "2024", "--out", str(out))
    assert made.returncode == 0, made.stderr
    shown = popreg(
        settings,
        "indicators",
        "--level",
        "province",
        "--code",
        "96",
        "--period",
        "2024",
        "--format",
        "json",
    )
    assert shown.returncode == 0, shown.stderr
    values = {row["indicator"]: row["value"] for row in json.loads(shown.stdout)}
    assert values["population_end"] > 0

    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Tỉnh Cà Mau" in text and "Báo cáo dân số năm 2024" in text
    assert format_number(values["population_end"], whole=True) in text
    assert format_number(values["births"], whole=True) in text
    # 2024: five pages, the last the map of the 63 provinces before the reform
    assert text.count("\f") == 5

    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(out, ARTIFACTS / "report-ca-mau-2024.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(out), str(ARTIFACTS / "report-ca-mau-2024")],
        check=True,
    )


def test_report_refuses_a_unit_that_does_not_exist(settings: Settings, tmp_path: Path) -> None:
    both = run_report(settings, "--year", "2024", "--out", str(tmp_path / "x.pdf"))
    assert both.returncode != 0 and "--province" in both.stderr
    unknown = run_report(
        settings, "--province", "99", "--year", "2025", "--out", str(tmp_path / "x.pdf")
    )
    assert unknown.returncode == 1 and "99" in unknown.stderr
    assert not (tmp_path / "x.pdf").exists()
