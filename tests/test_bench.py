"""The bench's figures and report (pure); `make bench` runs the measurements."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from bench.results import Figure, new_results, write
from infra import procs, stack
from schemas.settings import Settings

SERVERS = ("s3store", "broker", "postgres", "clickhouse")
STACK_UP_S = 300


def test_a_figure_is_reported_as_a_ratio_to_its_baseline(tmp_path: Path) -> None:
    results = new_results("small")
    results.figures += [
        Figure("raw produce (baseline)", 50_000, "events/s"),
        Figure("SDK publish", 25_000, "events/s", "raw produce", 50_000),
        Figure("freshness: CPU of broker", 0.25, "cores"),
        Figure("query p50", 2.5, "ms", samples=(1.0, 2.5, 9.0)),
    ]
    json_path, md_path = write(results, tmp_path)
    doc = json.loads(json_path.read_text("utf-8"))
    assert [f["ratio"] for f in doc["figures"]] == [None, 0.5, None, None]
    assert [f.get("samples") for f in doc["figures"]] == [None, None, None, [1.0, 2.5, 9.0]]
    markdown = md_path.read_text("utf-8")
    assert "| SDK publish | 25,000 events/s | raw produce | 50,000 events/s | 0.50 |" in markdown
    assert "| freshness: CPU of broker | 0.25 cores |  |  |  |" in markdown
    assert "| query p50 | 2.50 ms |  |  |  |" in markdown  # the samples stay in the JSON


def test_the_freshness_rate_is_a_positive_number_of_events_per_second() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "popreg", "bench", "--freshness-rate", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert refused.returncode == 2
    assert "'--freshness-rate': Input should be greater than or equal to 1" in refused.stderr


@pytest.mark.parametrize(
    ("sent", "code"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 128 + signal.SIGINT)],
)
def test_a_stopped_bench_stops_its_scratch_stack(
    tmp_path: Path, sent: signal.Signals, code: int
) -> None:
    """SIGTERM (what `kill` and service managers send) or Ctrl-C once the scratch stack is
    up: the bench stops every server it started, by pid, and removes the stack's
    directory."""
    bench = subprocess.Popen(
        [sys.executable, "-m", "popreg", "bench", "--out", str(tmp_path / "out")],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    assert bench.stdout is not None
    seen: list[str] = []
    stuck = threading.Timer(STACK_UP_S, bench.kill)  # ends the read below if it hangs
    stuck.start()
    for line in bench.stdout:  # the stack is up once the bench generates events
        seen.append(line)
        if "synthetic events" in line:
            break
    else:
        raise AssertionError(f"the bench ended before its stack was up: {''.join(seen)}")
    stuck.cancel()
    (scratch,) = tmp_path.glob("popreg-bench-*")
    try:
        started = [procs.read_pid(scratch, name) for name in SERVERS]
        assert all(started), f"pid files in {scratch}: {list(procs.run_dir(scratch).iterdir())}"
        bench.send_signal(sent)
        rest = bench.communicate(timeout=180)[0]
        assert bench.returncode == code, "".join([*seen, rest])
        assert not [r.name for r in started if r is not None and psutil.pid_exists(r.pid)]
        assert not scratch.exists()
    finally:  # had it failed, what the bench left running is stopped here
        bench.kill()
        if scratch.exists():
            stack.down(Settings(data_dir=scratch))


def as_at_a_terminal() -> None:
    """Ctrl-C reaches a command run at a terminal; a command started in the background
    by a non-interactive shell (as CI may run the tests) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_forecast_back_test_is_reported_without_a_stack(tmp_path: Path) -> None:
    """`popreg bench --only forecast` (a generated province of 2,000 households from 2011,
    projected from 2020 as known then): each horizon's three errors, in bounds a
    projection of constant rates should keep."""
    done = subprocess.run(
        [sys.executable, "-m", "popreg", "bench", "--scale", "small", "--only", "forecast",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = {
        f["name"]: f["value"]
        for f in json.loads((tmp_path / "results.json").read_text("utf-8"))["figures"]
    }
    assert figures["forecast back-test: residents on the base date"] > 5_000
    for years in range(1, 6):
        assert 0 <= figures[f"forecast back-test {years} y: province total APE"] < 5
        assert 0 <= figures[f"forecast back-test {years} y: communes' MAPE"] < 25
        assert 0 <= figures[f"forecast back-test {years} y: age-sex dissimilarity"] < 6
    assert not list(tmp_path.glob("logs*"))  # no stack was started: no logs kept
