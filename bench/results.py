"""What `popreg bench` reports: figures, each beside the baseline measured with it."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from schemas.settings import Settings
from schemas.version import VERSION

T = TypeVar("T")


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    samples: tuple[float, ...] = ()  # what a percentile was taken from, kept in the JSON

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None:
            return None
        return self.value / self.baseline_value


@dataclass
class Results:
    scale: str
    started_at: str
    machine: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["figures"] = [
            {k: v for k, v in asdict(f).items() if k != "samples" or v} | {"ratio": f.ratio}
            for f in self.figures
        ]
        return doc

    def markdown(self) -> str:
        lines = [
            f"popreg {VERSION} bench, scale {self.scale}, {self.started_at}, "
            f"{self.machine['cpus']} CPUs, {self.machine['python']}",
            "",
            "| figure | value | baseline | baseline value | ratio |",
            "|---|---:|---|---:|---:|",
        ]
        for f in self.figures:
            ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
            base = "" if f.baseline_value is None else f"{shown(f.baseline_value)} {f.unit}"
            lines.append(
                f"| {f.name} | {shown(f.value)} {f.unit} | {f.baseline or ''} | {base} | {ratio} |"
            )
        return "\n".join(lines) + "\n"


def shown(value: float) -> str:
    """Whole numbers with thousands separators; below 10 (cores, seconds), two decimals."""
    return f"{value:.2f}" if abs(value) < 10 and value != int(value) else f"{value:,.0f}"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write(results: Results, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results.to_json(), indent=2) + "\n", "utf-8")
    md_path.write_text(results.markdown(), "utf-8")
    return json_path, md_path


def new_results(scale: str) -> Results:
    return Results(scale, datetime.now(UTC).isoformat(timespec="seconds"), machine())


def in_child(work: Callable[[Settings], T], settings: Settings) -> T:
    """`work(settings)` in a forked process: a bulk fold of the province takes gigabytes
    that a Python process keeps once freed (~12 GB at province scale), and the
    processors measured next need them: held by the bench, they leave the freshness
    figure without memory."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(work, settings).result()
