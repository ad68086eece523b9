"""Keeps the stream processors running: restarts a worker that dies, with backoff.

`popreg up` starts this process (the `processors` part); it starts one worker per
processor (`python -m popreg worker NAME --settings FILE`: the file holds the settings
`popreg up` ran with, which may have been given in code rather than in the
environment; see docs/decisions/0010), records each worker's pid, and writes
`run/processors.json` (pid, restarts, last exit, last error, whether it is failing) for
`popreg status`. A worker that exits is restarted after 1 s, doubling up to 30 s while it
keeps failing; the delay resets once a worker has written a batch or run for a minute.
Every restart is logged. SIGTERM stops the workers (SIGTERM, then SIGKILL) and then the
supervisor.

The web portal is kept running the same way, by a second supervisor (`--group portal`,
its files `run/portal-*.json`): it restarts the portal's server (`python -m portal`) when
it dies, without tying it to the processors' fate.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

import psutil

from infra import procs
from infra import worker_health as health
from schemas.settings import Settings

log = logging.getLogger("popreg.supervisor")
FIRST_DELAY_S, MAX_DELAY_S, STABLE_S = 1.0, 30.0, 60.0
# A worker that exits twice with nothing written between is failing, not restarting:
# `popreg status` says so, with its last error, while it is running too.
FAILING_AFTER = 2
REPORTED = (
    "pid",
    "restarts",
    "last_exit",
    "failures_in_a_row",
    "failing",
    "last_error",
    "retry",
)
GROUP = "processors"
PORTAL = "portal"  # the worker of the portal's group: the web server, not a stream worker


@dataclass
class Worker:
    name: str
    pid: int | None = None
    started_at: float = 0.0
    restarts: int = 0
    last_exit: int | None = None
    next_start: float = 0.0
    delay_s: float = FIRST_DELAY_S
    failures_in_a_row: int = 0  # exits with no batch written and no stable run between
    last_error: str | None = None
    failing: bool = False
    retry: str | None = None  # the last retry request taken (`request_retry`)


def worker_name(processor: str) -> str:
    return f"worker-{processor}"


def status_path(data_dir: Path, group: str = GROUP) -> Path:
    return procs.run_dir(data_dir) / f"{group}-status.json"


def retry_path(data_dir: Path, group: str = GROUP) -> Path:
    return procs.run_dir(data_dir) / f"{group}-retry"


def settings_file(data_dir: Path, group: str = GROUP) -> Path:
    return procs.run_dir(data_dir) / f"{group}-settings.json"


def command(name: str, settings: Path) -> list[str]:
    """How a worker of either group is run, with the settings `popreg up` ran with."""
    if name == PORTAL:
        return [sys.executable, "-m", "portal", "--settings", str(settings)]
    return [sys.executable, "-m", "popreg", "worker", name, "--settings", str(settings)]


def request_retry(data_dir: Path, group: str = GROUP) -> str:
    """Ask the supervisor to forgive its workers' failures and start a waiting one now:
    `popreg up` does, once it has started what they needed. Returns the request's token,
    which each worker's status shows (`retry`) once the supervisor took it."""
    token = str(time.time_ns())
    path = retry_path(data_dir, group)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(token)
    temporary.replace(path)
    return token


def read_status(data_dir: Path, group: str = GROUP) -> dict[str, dict[str, object]]:
    try:
        found: dict[str, dict[str, object]] = json.loads(status_path(data_dir, group).read_text())
    except (OSError, ValueError):
        return {}
    return found


class Supervisor:
    def __init__(self, data_dir: Path, processors: list[str], group: str = GROUP) -> None:
        self.data_dir = data_dir
        self.group = group
        self.workers = {name: Worker(name) for name in processors}
        self.stopping = False
        self.settings_file = settings_file(data_dir, group)
        settings = Settings.model_validate_json(self.settings_file.read_text())
        self.nice = {str(name): n for name, n in settings.processors.nice.items()}

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while not self.stopping:
            self._take_retry()
            for worker in self.workers.values():
                self._tend(worker)
            self._write_status()
            time.sleep(0.2)
        self._stop_workers()

    def _take_retry(self) -> None:
        try:
            token = retry_path(self.data_dir, self.group).read_text().strip()
        except OSError:
            return
        now = time.monotonic()
        for worker in self.workers.values():
            if worker.retry != token:
                worker.retry = token
                worker.failures_in_a_row, worker.failing = 0, False
                worker.delay_s = FIRST_DELAY_S
                worker.next_start = min(worker.next_start, now)

    def _tend(self, worker: Worker) -> None:
        now = time.monotonic()
        if worker.pid is not None:
            process = _alive(worker.pid)
            if process is not None:
                if now - worker.started_at > STABLE_S or health.progressed(
                    self.data_dir, worker.name, worker.pid
                ):
                    worker.delay_s = FIRST_DELAY_S
                    worker.failures_in_a_row = 0
                worker.failing = worker.failures_in_a_row >= FAILING_AFTER
                return
            worker.last_exit = _exit_code(worker.pid)
            worker.failures_in_a_row += 1
            worker.failing = worker.failures_in_a_row >= FAILING_AFTER
            worker.last_error = health.last_error(self.data_dir, worker.name) or (
                f"exited with code {worker.last_exit}"
            )
            worker.pid = None
            worker.next_start = now + worker.delay_s
            log.warning(
                "worker %s exited (code %s); restarting in %.0f s",
                worker.name,
                worker.last_exit,
                worker.delay_s,
            )
            worker.delay_s = min(worker.delay_s * 2, MAX_DELAY_S)
            worker.restarts += 1
            return
        if now >= worker.next_start:
            argv = command(worker.name, self.settings_file)
            nice = self.nice.get(worker.name, 0)
            record = procs.spawn(self.data_dir, worker_name(worker.name), argv, "-", nice=nice)
            worker.pid, worker.started_at = record.pid, now
            log.info("worker %s started, pid %d", worker.name, record.pid)

    def _write_status(self) -> None:
        doc = {
            name: {k: v for k, v in asdict(w).items() if k in REPORTED}
            for name, w in self.workers.items()
        }
        path = status_path(self.data_dir, self.group)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(doc))
        temporary.replace(path)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_workers(self) -> None:
        for worker in self.workers.values():
            result = procs.stop(self.data_dir, worker_name(worker.name), timeout_s=15)
            log.info("worker %s: %s", worker.name, result)
        status_path(self.data_dir, self.group).unlink(missing_ok=True)


def _alive(pid: int) -> psutil.Process | None:
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
    if process.status() == psutil.STATUS_ZOMBIE:
        return None
    return process


def _exit_code(pid: int) -> int | None:
    """The exit code of a finished child (None if it was already reaped elsewhere)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--group", default=GROUP, help="processors, or portal")
    parser.add_argument("processors", nargs="+")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    Supervisor(args.data_dir, args.processors, args.group).run()


if __name__ == "__main__":
    main()
