"""`popreg worker state|indicators` against the running stack, from the environment alone.

A container or a systemd unit gives a worker nothing but `POPREG_*` variables: no
settings file, no popreg.toml. Each test starts the worker that way, publishes a small
synthetic history and waits, with a deadline, until the worker has stored positions
past it; then the store must hold exactly the fold of those events.

The stack's own supervised workers are stopped meanwhile (as `popreg rebuild` pauses
them) and started again after, so what is applied is this worker's doing. The worker
gets a batch size the supervisor's settings file does not hold: batches no bigger
than it show that the settings came from the environment.

Only the session's stack fixture (tests/conftest.py) comes from the tests; the events,
their own ids and what the stores must hold are made here from popreg's own modules.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from infra import secrets
from infra.clickhouse import writer_client
from infra.processors import Processors, positions
from infra.supervisor import read_status
from producers.publisher import Publisher
from producers.synth import Synth, SynthConfig
from projections.clickhouse_sink import IndicatorSink, canonical_rows
from projections.domain.history import fold_log
from projections.domain.indicator_rows import Row, fold_all
from projections.domain.record import Record
from projections.domain.state_rows import COLUMNS, current_rows
from schemas.admin_units import load
from schemas.models import Event
from schemas.settings import Settings, env_of
from schemas.validation import event_json, parse_event

pytestmark = pytest.mark.stack

BATCH_SIZE = 7  # the supervisor's settings file says 3,000
BATCH_LINE = re.compile(r"batch of (\d+):")
SYNTH_ID = re.compile(r"(?<![\w-])([HP])\d{2}-(\d+)(?![\w-])")
EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UNITS = load()
Offsets = dict[int, int]  # partition -> highest offset written there
DEADLINE_S = 180.0  # a cold start on a busy machine, then the events
STOP_S = 30.0


@pytest.fixture(scope="module")
def settings(test_stack: Any) -> Settings:
    found: Settings = test_stack.settings
    return found


def worker_environment(settings: Settings) -> dict[str, str]:
    """What an operator exports for a worker: the data dir, ports and topic of this
    stack, the servers it points at, and nothing popreg-related inherited."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("POPREG_")}
    env.update(env_of(settings))
    servers = {
        "POPREG_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "POPREG_SCHEMA_REGISTRY_URL": settings.schema_registry_url,
        "POPREG_POSTGRES_DSN": settings.postgres_dsn,
        "POPREG_CLICKHOUSE_DSN": settings.clickhouse_dsn,
    }
    env.update({name: value for name, value in servers.items() if value is not None})
    env["POPREG_PROCESSORS__BATCH_SIZE"] = str(BATCH_SIZE)
    return env


@contextmanager
def supervised_workers_stopped(settings: Settings) -> Iterator[None]:
    processors = Processors(settings)
    processors.stop()
    assert processors.running() is None
    assert not read_status(settings.resolved_data_dir), "the supervisor's workers still run"
    try:
        yield
    finally:
        processors.start()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def batch_sizes(self) -> list[int]:
        return [int(n) for n in BATCH_LINE.findall(self.log.read_text(errors="replace"))]

    def wait_for(self, done: Callable[[], bool], what: Callable[[], str]) -> None:
        """Until `done`, failing at once if the worker exits, or at the deadline."""
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            code = self.process.poll()
            if code is not None:
                pytest.fail(f"the worker exited with {code}: {what()}\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {DEADLINE_S:.0f} s: {what()}\n{self.tail()}")
            time.sleep(0.1)


@contextmanager
def worker(settings: Settings, processor: str, tmp_path: Path) -> Iterator[Worker]:
    """`popreg worker PROCESSOR`, no settings file, in a directory with no popreg.toml;
    stopped by pid: SIGTERM, then SIGKILL."""
    log = tmp_path / f"worker-{processor}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "popreg", "worker", processor],
            env=worker_environment(settings),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Worker(process, log)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_S)


# --- this test's own events on the shared stack ------------------------------------------


def own_history(seed: int) -> tuple[str, list[Event]]:
    """A small synthetic province (with the generator's deliberate mistakes) whose
    household, person and event ids are this test's own: the stores are shared by
    every test of the session."""
    config = SynthConfig("96", 6, 2023, 2024, seed, datetime(2025, 3, 1, tzinfo=UTC), 0.02)
    tag = "w" + uuid.uuid4().hex[:10]

    def moved(text: str) -> str:
        text = SYNTH_ID.sub(lambda m: f"{m[1]}{tag}-{m[2]}", text)
        return EVENT_ID.sub(lambda m: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}/{m[0]}")), text)

    events = Synth(config, UNITS).events()
    return tag, [parse_event(json.loads(moved(json.dumps(event_json(e))))) for e in events]


def publish(settings: Settings, events: Iterable[Event]) -> Offsets:
    """Through the SDK, every event accepted; the highest offset written per partition."""
    with Publisher(settings, check_world=False) as publisher:
        results = publisher.publish_many(list(events))
    assert all(r.accepted for r in results), [r for r in results if not r.accepted][:3]
    found: Offsets = {}
    for r in results:
        assert r.partition is not None and r.offset is not None
        found[r.partition] = max(r.offset, found.get(r.partition, -1))
    return found


def positions_past(settings: Settings, processor: str, offsets: Offsets) -> bool:
    """Whether the processor has stored positions past `offsets` with its data."""
    stored = positions(settings, processor)
    return all(stored.get(p, 0) > o for p, o in offsets.items())


def ordered(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


def registry_rows(settings: Settings, tag: str) -> dict[str, list[tuple[Any, ...]]]:
    """The current rows PostgreSQL holds of this test's households and persons."""
    where = {
        "households": ("household_id", f"H{tag}-%"),
        "household_members": ("household_id", f"H{tag}-%"),
        "persons": ("person_id", f"P{tag}-%"),
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(settings.postgres_url) as conn:
        for table, columns in COLUMNS.items():
            column, pattern = where[table]
            names = ", ".join(f'"{c}"' for c in columns)
            query = f"SELECT {names} FROM {table} WHERE {column} LIKE %s"
            found[table] = ordered(conn.execute(query, (pattern,)).fetchall())
    return found


def outcomes(settings: Settings, event_ids: Iterable[UUID]) -> dict[UUID, str]:
    with psycopg.connect(settings.postgres_url) as conn:
        rows = conn.execute(
            "SELECT event_id, outcome FROM events WHERE event_id = ANY(%s)", (list(event_ids),)
        ).fetchall()
    return dict(rows)


def net(rows: list[Row]) -> Counter[Row]:
    counted: Counter[Row] = Counter()
    for table, values in rows:
        counted[(table, values[:-1])] += values[-1]
    return +counted


# --- the tests ----------------------------------------------------------------------------


def test_the_state_worker_applies_events_from_the_environment_alone(
    settings: Settings, tmp_path: Path
) -> None:
    tag, events = own_history(seed=11)
    with supervised_workers_stopped(settings), worker(settings, "state", tmp_path) as running:
        offsets = publish(settings, events)
        running.wait_for(
            lambda: positions_past(settings, "state", offsets),
            lambda: f"state positions {positions(settings, 'state')}, want > {offsets}",
        )
        sizes = running.batch_sizes()
    unique = {e.envelope.event_id: e for e in events}
    registry, verdicts = fold_log(unique.values(), UNITS)
    expected = current_rows(registry, registry.households, registry.persons)
    assert registry_rows(settings, tag) == {t: ordered(r) for t, r in expected.items()}
    want = {i: "applied" if verdicts[i] is None else "rejected" for i in unique}
    assert outcomes(settings, unique) == want
    assert len(events) > BATCH_SIZE
    assert sizes, "the worker logged no batch"
    assert max(sizes) <= BATCH_SIZE, f"batches of {max(sizes)}: not the environment's settings"


def test_the_indicator_worker_counts_events_from_the_environment_alone(
    settings: Settings, tmp_path: Path
) -> None:
    _, events = own_history(seed=12)
    with (
        supervised_workers_stopped(settings),
        worker(settings, "indicators", tmp_path) as running,
    ):
        offsets = publish(settings, events)
        running.wait_for(
            lambda: positions_past(settings, "indicators", offsets),
            lambda: f"indicator positions {positions(settings, 'indicators')}, want > {offsets}",
        )
        sizes = running.batch_sizes()
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    records = [Record(0, n, e, None, None) for n, e in enumerate(events)]
    expected = net(canonical_rows(fold_all(records, UNITS, secret).all_rows()))
    event_ids = {str(e.envelope.event_id) for e in events}
    client = writer_client(settings)
    try:
        rows = IndicatorSink(client, "indicators", settings.topics.events).net_rows()
    finally:
        client.close()
    held = net([r for r in rows if r[1][0] in event_ids])
    assert held, "no row of these events in ClickHouse"
    assert held == expected
    assert sizes, "the worker logged no batch"
    assert max(sizes) <= BATCH_SIZE, f"batches of {max(sizes)}: not the environment's settings"
