"""The `processors` part: the supervisor that keeps popreg's stream workers running."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from infra import procs, supervisor
from infra.part import Part
from popreg.settings import Settings
from projections import registry_queries

PROCESSORS = ["state"]


class Processors(Part):
    name = "processors"

    @property
    def embedded(self) -> bool:
        return True  # popreg's own workers run wherever popreg runs, even with external servers

    @property
    def address(self) -> str:
        return ", ".join(PROCESSORS)

    def data_path(self) -> Path | None:
        return None

    def require_binaries(self) -> None:
        """Workers are Python modules of this package: nothing to find."""

    def launch(self) -> procs.PidRecord:
        """The workers get these exact settings through a private file (it holds secrets)."""
        path = settings_path(self.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(self.settings.model_dump_json())
        argv = [sys.executable, "-m", "infra.supervisor", "--data-dir", str(self.data_dir)]
        return procs.spawn(self.data_dir, self.name, [*argv, *PROCESSORS], self.address)

    def ready(self) -> bool:
        workers = supervisor.read_status(self.data_dir)
        return set(workers) == set(PROCESSORS) and all(w.get("pid") for w in workers.values())

    def check(self) -> str:
        workers = supervisor.read_status(self.data_dir)
        down = [name for name in PROCESSORS if not workers.get(name, {}).get("pid")]
        if down:
            raise procs.StackError(f"worker(s) {', '.join(down)} not running (restarting?)")
        return "; ".join(
            f"{name} pid {w['pid']}, {w['restarts']} restarts, {progress(self.settings, name)}"
            for name, w in workers.items()
        )


def settings_path(data_dir: Path) -> Path:
    return procs.run_dir(data_dir) / "processors-settings.json"


def progress(settings: Settings, processor: str) -> str:
    """What a processor has done, from the counts and positions it stores with its data."""
    try:
        found = counts(settings, processor)
    except psycopg.Error as error:
        return f"counts unavailable ({error.__class__.__name__})"
    if found is None:
        return "nothing processed yet"
    applied, rejected, voided, duplicates, undecodable, behind = found
    return (
        f"applied {applied:,}, rejected {rejected + undecodable:,}, voided {voided:,},"
        f" duplicates {duplicates:,}; positions {behind}"
    )


def counts(settings: Settings, processor: str) -> tuple[int, int, int, int, int, str] | None:
    with psycopg.connect(settings.postgres_url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT applied, rejected, voided, duplicates, undecodable FROM processor_counts"
            " WHERE consumer = %s",
            (processor,),
        ).fetchone()
    if row is None:
        return None
    positions = registry_queries.positions(settings.postgres_url, processor)
    shown = " ".join(f"p{p}:{o}" for p, o in sorted(positions.items())) or "none"
    return (*row, shown)
