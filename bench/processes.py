"""Where a run's memory and CPU went: each embedded server's process tree and each
worker, by the name `popreg status` shows.

On two cores every part competes with every other, so a slow figure is read next to
who held the CPU meanwhile (PostgreSQL forks a backend per connection, so a server's
figure is its whole tree)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psutil

from bench.results import Figure
from infra import procs, stack
from infra.processors import PROCESSORS
from infra.supervisor import worker_name
from schemas.settings import Settings


def process_trees(settings: Settings) -> dict[str, list[psutil.Process]]:
    """The servers' process trees and the workers, by name; what is not running is left out."""
    data_dir = settings.resolved_data_dir
    names = [p.name for p in stack.parts(settings) if p.name != "processors"]
    trees: dict[str, list[psutil.Process]] = {}
    for name in [*names, *map(worker_name, PROCESSORS)]:
        record = procs.read_pid(data_dir, name)
        root = record.process() if record is not None else None
        if root is not None:
            with contextlib.suppress(psutil.Error):
                trees[name] = [root, *root.children(recursive=True)]
    return trees


def _total(tree: list[psutil.Process], measure: str) -> float:
    found = 0.0
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            if measure == "rss":
                found += proc.memory_info().rss
            else:
                times = proc.cpu_times()
                found += times.user + times.system
    return found


def cpu_seconds(settings: Settings) -> dict[str, float]:
    """CPU seconds each part, and this process (the bench), has used so far."""
    used = {name: _total(tree, "cpu") for name, tree in process_trees(settings).items()}
    return used | {"bench": _total([psutil.Process()], "cpu")}


def cpu_figures(
    what: str, before: dict[str, float], after: dict[str, float], seconds: float
) -> Iterator[Figure]:
    """Cores each part kept busy between two samples `seconds` apart."""
    for name, used in after.items():
        busy = (used - before.get(name, 0.0)) / seconds
        yield Figure(f"{what}: CPU of {name}", busy, "cores")


def memory_figures(settings: Settings) -> Iterator[Figure]:
    """Resident memory of each embedded server's process tree at the end of the run."""
    for name, tree in process_trees(settings).items():
        if not name.startswith("worker-"):
            yield Figure(f"{name}: resident memory at the end", _total(tree, "rss") / 2**20, "MiB")
