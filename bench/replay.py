"""The auditors' side of `popreg bench`: replay from offset 0, a checkpoint, and replay
from it, each run as the `popreg` command an auditor types, with its peak memory.

Replay from offset 0 is set against the plain consume + decode of the same log (its
reading floor); replay from a checkpoint against replay from offset 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.results import Figure
from schemas.settings import Settings, env_of

Report = Callable[[str], None]
AS_OF = "2026-12-31"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def run_popreg(settings: Settings, *args: str) -> Run:
    """Run `popreg ARGS` to completion; wall time and the child's peak resident memory,
    sampled every 50 ms (a forked child's own `ru_maxrss` starts at its parent's size,
    and the bench process holds the province)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "popreg", *args],
            env={**os.environ, **env_of(settings)},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        watched = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"popreg {' '.join(args)} failed: {errors.read().decode()[-2000:]}")
    return Run(seconds, peak / 2**20)


def replay_figures(
    settings: Settings, settled_through: str, decode_rate: float, report: Report
) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory(prefix="popreg-bench-replay-") as scratch:
        out = Path(scratch)
        report("popreg replay from offset 0")
        zero = run_popreg(
            settings, "replay", "--as-of", AS_OF, "--from-offset-zero", "--out", str(out / "zero")
        )
        zero_manifest = json.loads((out / "zero" / "manifest.json").read_text())
        records = zero_manifest["records_read"]
        yield Figure(
            "replay from offset 0 (read, fold, write Parquet)",
            records / zero.seconds,
            "events/s",
            "consume + decode",
            decode_rate,
        )
        yield Figure("replay from offset 0: wall time", zero.seconds, "s")
        yield Figure("replay from offset 0: peak memory", zero.peak_mib, "MiB")
        report(f"popreg checkpoint, settled through {settled_through}")
        taken = run_popreg(settings, "checkpoint", "--settled-through", settled_through)
        yield Figure(
            "checkpoint from offset 0: wall time", taken.seconds, "s", "replay from 0", zero.seconds
        )
        report("popreg replay from the checkpoint")
        warm = run_popreg(settings, "replay", "--as-of", AS_OF, "--out", str(out / "checkpoint"))
        manifest = json.loads((out / "checkpoint" / "manifest.json").read_text())
        same = manifest["content_hash"] == zero_manifest["content_hash"]
        if manifest["checkpoint"] is None or not same:
            refused = manifest["checkpoints_refused"]
            raise RuntimeError(f"replay from the checkpoint is not the replay from 0: {refused}")
        yield Figure(
            "replay from a checkpoint: wall time", warm.seconds, "s", "replay from 0", zero.seconds
        )
        yield Figure("replay from a checkpoint: peak memory", warm.peak_mib, "MiB")
