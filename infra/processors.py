"""The `processors` part: the supervisor that keeps popreg's stream workers running."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from infra import procs, supervisor
from infra.clickhouse import writer_client
from infra.part import Part
from projections import fold_snapshot as snapshot
from projections import registry_queries
from projections.clickhouse_sink import IndicatorSink
from schemas.settings import Settings

PROCESSORS = ["state", "indicators"]
UNAVAILABLE = "counts unavailable"


class Processors(Part):
    """All of popreg's workers, or `only` some of them (a benchmark measures one alone)."""

    name = "processors"

    def __init__(self, settings: Settings, only: list[str] | None = None) -> None:
        super().__init__(settings)
        self.workers = only or PROCESSORS

    @property
    def embedded(self) -> bool:
        return True  # popreg's own workers run wherever popreg runs, even with external servers

    @property
    def address(self) -> str:
        return ", ".join(self.workers)

    def data_path(self) -> Path | None:
        return None

    def require_binaries(self) -> None:
        """Workers are Python modules of this package: nothing to find."""

    def launch(self) -> procs.PidRecord:
        """The workers get these exact settings through a private file: they may have been
        given in code (the tests' ports, the benchmark's tuning), which the environment
        cannot carry, and they hold secrets (mode 0600)."""
        path = settings_path(self.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(self.settings.model_dump_json())
        argv = [sys.executable, "-m", "infra.supervisor", "--data-dir", str(self.data_dir)]
        return procs.spawn(self.data_dir, self.name, [*argv, *self.workers], self.address)

    def retry(self, timeout_s: float = 10.0) -> None:
        """Forgive the workers' failures (the servers they needed may be back now) and
        wait until the supervisor has taken the request."""
        token = supervisor.request_retry(self.data_dir)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            workers = supervisor.read_status(self.data_dir)
            if workers and all(w.get("retry") == token for w in workers.values()):
                return
            time.sleep(0.05)
        raise procs.StackError(
            f"the processors' supervisor did not answer within {timeout_s:.0f} s;"
            f" see {self.data_dir / 'logs'}"
        )

    def ready(self) -> bool:
        workers = supervisor.read_status(self.data_dir)
        return set(workers) == set(self.workers) and all(w.get("pid") for w in workers.values())

    def check(self) -> str:
        if not broker_answers(self.settings):
            raise procs.StackError(
                "the broker does not answer: the workers have nothing to consume"
            )
        workers = supervisor.read_status(self.data_dir)
        failing = [
            f"{name} failing ({w.get('failures_in_a_row')} exits in a row, last error:"
            f" {w.get('last_error')})"
            for name, w in workers.items()
            if w.get("failing")
        ]
        if failing:
            raise procs.StackError(
                f"worker(s) {'; '.join(failing)}; see {self.data_dir / 'logs'} and fix"
                " the cause (the supervisor keeps restarting them)"
            )
        down = [name for name in self.workers if not workers.get(name, {}).get("pid")]
        if down:
            raise procs.StackError(f"worker(s) {', '.join(down)} not running (restarting?)")
        done = {name: progress(self.settings, name) for name in workers}
        detail = "; ".join(
            f"{name} pid {w['pid']}, {w['restarts']} restarts, {done[name]}"
            for name, w in workers.items()
        )
        # A worker that cannot reach the database it writes to is running, not working.
        blind = [name for name, line in done.items() if line.startswith(UNAVAILABLE)]
        if blind:
            raise procs.StackError(
                f"worker(s) {', '.join(blind)} cannot reach their sink: {detail}"
            )
        return detail


def broker_answers(settings: Settings, timeout_s: float = 3.0) -> bool:
    """Whether the workers' broker answers a metadata request: without it they wait."""
    try:
        AdminClient(settings.kafka_config()).list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def settings_path(data_dir: Path) -> Path:
    return procs.run_dir(data_dir) / "processors-settings.json"


def progress(settings: Settings, processor: str) -> str:
    """What a processor has done, from the counts and positions it stores with its data."""
    if processor == "indicators":
        return indicator_progress(settings)
    try:
        found = counts(settings, processor)
    except psycopg.Error as error:
        return f"{UNAVAILABLE} ({error.__class__.__name__})"
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
    return (*row, shown(registry_queries.positions(settings.postgres_url, processor)))


def indicator_progress(settings: Settings) -> str:
    try:
        with indicator_sink(settings) as sink:
            counted, rejected = sink.counts()
            positions = sink.positions()
    except Exception as error:  # clickhouse-connect raises several kinds; status must not
        return f"{UNAVAILABLE} ({error.__class__.__name__})"
    return (
        f"counted {counted:,}, rejected {rejected:,}; positions {shown(positions)};"
        f" {snapshot_summary(settings)}"
    )


def snapshot_summary(settings: Settings) -> str:
    try:
        found = snapshot.summary(snapshot.directory(settings.resolved_data_dir))
    except (OSError, ValueError) as error:
        return f"fold snapshot unreadable ({error}): the next start folds the whole log"
    if found is None:
        return "no fold snapshot yet"
    return (
        f"fold snapshot at {shown(found.positions)}"
        f" ({found.events:,} events, {found.age_s / 60:.0f} min old)"
    )


def shown(positions: dict[int, int]) -> str:
    return " ".join(f"p{p}:{o}" for p, o in sorted(positions.items())) or "none"


@contextmanager
def indicator_sink(settings: Settings) -> Iterator[IndicatorSink]:
    client = writer_client(settings)
    try:
        yield IndicatorSink(client, "indicators", settings.topics.events)
    finally:
        client.close()


def positions(settings: Settings, processor: str) -> dict[int, int]:
    """The next offset per partition a processor stored with its data."""
    if processor == "indicators":
        with indicator_sink(settings) as sink:
            return sink.positions()
    return registry_queries.positions(settings.postgres_url, processor)
