"""The indicator processor against the real stack: ClickHouse holds exactly the rows of
the fold, whatever is killed, redelivered or corrected, and nothing personal.

The ClickHouse tables are shared by every test of a session, so each test compares
only the rows of its own events (by event_id) with the fold of its own events.
"""

from __future__ import annotations

import ast
import os
import re
import signal
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from infra import secrets
from infra.clickhouse import writer_client
from infra.processors import progress
from infra.procs import log_path
from infra.supervisor import read_status, worker_name
from projections import fold_snapshot as snapshot
from projections.clickhouse_schema import DATABASE
from projections.domain.checkpoint import Refused
from projections.domain.indicator_rows import COLUMNS, Row, fold_all
from projections.domain.record import Record
from projections.log import partition_count, place_markers
from schemas.admin_units import load
from schemas.models import Event
from schemas.settings import Settings
from tests.builders import event as make_event
from tests.builders import family
from tests.cli_env import popreg
from tests.conftest import SNAPSHOT_EVERY
from tests.histories import CASES, in_log_order
from tests.id_space import Ids, retag, synthetic
from tests.indicator_store import CONSUMER, expected, held, sink
from tests.producing import Offsets, merge, publish
from tests.state_store import archived
from tests.verdicts import registry_verdicts, row_verdicts
from tests.waiting import wait_counted, wait_projected, wait_until

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def settings(test_stack: Any) -> Settings:
    found: Settings = test_stack.settings
    return found


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    found = writer_client(settings)
    yield found
    found.close()


def quiesce(client: Any, settings: Settings) -> None:
    topic = settings.topics.events
    ends = place_markers(settings, topic, partition_count(settings, topic))
    wait_counted(client, settings, ends)


def worker_pid(settings: Settings) -> int | None:
    pid = read_status(settings.resolved_data_dir).get(CONSUMER, {}).get("pid")
    return pid if isinstance(pid, int) else None


def kill_and_wait_restart(settings: Settings) -> None:
    pid = worker_pid(settings)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: worker_pid(settings) not in (None, pid),
        60,
        lambda: f"no restart: {read_status(settings.resolved_data_dir)}",
    )


def test_a_synthetic_history_counts_exactly_its_fold(settings: Settings, client: Any) -> None:
    events = synthetic(Ids.new(), households=150, years=(2021, 2024), seed=5, error_rate=0.03)
    wait_counted(client, settings, publish(settings, events))
    assert held(client, settings, events) == expected(settings, events)


@pytest.mark.durability
@pytest.mark.fault
def test_kill_9_mid_stream_and_half_written_batches_leave_every_count_exact(
    settings: Settings, client: Any
) -> None:
    events = synthetic(Ids.new(), households=400, years=(2022, 2024), seed=9, error_rate=0.02)
    chunks = [events[i : i + 500] for i in range(0, len(events), 500)]
    assert len(chunks) >= 5
    written: Offsets = {}
    for n, chunk in enumerate(chunks):
        written = merge(written, publish(settings, chunk))
        if n in (1, 3):
            kill_and_wait_restart(settings)
    # A batch whose rows landed but whose positions did not, as a crash between the
    # two writes leaves it: the next start must cancel the rows.
    wait_counted(client, settings, written)
    half: list[Row] = [(t, v) for t, v in fold_all_of(settings, chunks[0]) if t != "rejections"]
    sink(client, settings).write(half, {})
    assert held(client, settings, events) != expected(settings, events)
    kill_and_wait_restart(settings)
    quiesce(client, settings)
    assert held(client, settings, events) == expected(settings, events)


def fold_all_of(settings: Settings, events: list[Event]) -> list[Row]:
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    records = [Record(0, n, e, None, None) for n, e in enumerate(events)]
    return list(fold_all(records, load(), secret).all_rows())


def births_in(client: Any, commune: str, month: str) -> int:
    result = client.query(
        f"SELECT sum(sign) FROM {DATABASE}.vital_events WHERE event_type = 'BirthRegistered'"
        " AND commune_code = {c:String} AND toStartOfMonth(occurred_on) = {m:Date32}",
        parameters={"c": commune, "m": month},
    )
    return int(result.result_rows[0][0] or 0)


class WorkerLog:
    """What the indicator worker logs from now on (its log is appended across starts)."""

    def __init__(self, settings: Settings) -> None:
        self.path = log_path(settings.resolved_data_dir, worker_name(CONSUMER))
        self.start = self.path.stat().st_size

    def since(self) -> str:
        with self.path.open("rb") as file:
            file.seek(self.start)
            return file.read().decode(errors="replace")


def snapshot_positions(settings: Settings) -> dict[int, int]:
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    root = snapshot.directory(settings.resolved_data_dir)
    try:
        return snapshot.load(root, settings.topics.events, load(), secret).positions
    except Refused:
        return {}


@pytest.mark.durability
@pytest.mark.fault
def test_a_restart_resumes_from_the_snapshot_and_counts_exactly(
    settings: Settings, client: Any
) -> None:
    """The worker snapshots its fold in a forked child every SNAPSHOT_EVERY events; a
    kill -9 after that resumes from the snapshot (no fold of the whole log), and the
    events after it, some published while the worker was down, count exactly."""
    events = synthetic(Ids.new(), households=400, years=(2022, 2024), seed=21, error_rate=0.02)
    half = len(events) // 2
    assert half > 2 * SNAPSHOT_EVERY
    before = sink(client, settings).positions()
    wait_counted(client, settings, publish(settings, events[:half]))

    def snapshot_taken_since() -> bool:  # a snapshot that holds part of the first half
        found = snapshot_positions(settings)
        return (
            all(found.get(p, 0) >= o for p, o in before.items())
            and sum(found.values()) >= sum(before.values()) + SNAPSHOT_EVERY
        )

    wait_until(snapshot_taken_since, 120, lambda: f"snapshot at {snapshot_positions(settings)}")
    assert "; fold snapshot at p0:" in progress(settings, CONSUMER)  # as `popreg status` says
    log = WorkerLog(settings)
    pid = worker_pid(settings)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    publish(settings, events[half:])
    wait_until(lambda: worker_pid(settings) not in (None, pid), 60, lambda: "no restart")
    quiesce(client, settings)
    assert "resumed from the snapshot at" in log.since()
    assert "folding the log from offset 0" not in log.since()
    assert held(client, settings, events) == expected(settings, events)


def failed_snapshots(logged: str) -> list[dict[int, int]]:
    """The positions of the snapshots whose child the worker logged as failed."""
    started = {
        int(pid): ast.literal_eval(at)
        for at, pid in re.findall(r"writing a snapshot at (\{[^}]*\}) \(child (\d+)\)", logged)
    }
    ended = re.findall(r"the snapshot child (\d+) ended with [1-9]", logged)
    return [started[int(pid)] for pid in ended if int(pid) in started]


def covers(found: dict[int, int], stored: dict[int, int]) -> bool:
    return all(found.get(p, 0) >= o for p, o in stored.items())


@pytest.mark.fault
def test_a_failed_snapshot_is_written_again_while_no_event_comes(
    settings: Settings, client: Any
) -> None:
    """A snapshot child that fails (its directory is a file here) leaves its events
    unsaved; the worker, with no batch to wake it, reaps the child and starts another
    by itself, which saves them once the directory is back."""
    root = snapshot.directory(settings.resolved_data_dir)
    aside = root.with_name(f"{root.name}.aside")
    log = WorkerLog(settings)
    if root.exists():
        root.rename(aside)
    root.write_text("not a directory")
    try:
        events = synthetic(Ids.new(), households=100, years=(2023, 2024), seed=8, error_rate=0.02)
        assert len(events) >= SNAPSHOT_EVERY
        wait_counted(client, settings, publish(settings, events))
        stored = sink(client, settings).positions()
        wait_until(  # the snapshot of every event taken failed, reaped without a batch
            lambda: any(covers(f, stored) for f in failed_snapshots(log.since())),
            60,
            lambda: f"no failed snapshot at {stored}: {failed_snapshots(log.since())}",
        )
    finally:
        root.unlink()
        if aside.exists():
            aside.rename(root)
    assert sink(client, settings).positions() == stored  # no batch came since
    wait_until(
        lambda: covers(snapshot_positions(settings), stored),
        60,
        lambda: f"snapshot at {snapshot_positions(settings)}, want {stored}",
    )
    assert held(client, settings, events) == expected(settings, events)


def test_a_void_of_a_birth_lowers_that_months_births_by_one(
    settings: Settings, client: Any
) -> None:
    ids = Ids.new()
    story = family(ids.household(1), ids.tag)
    birth = story[4]
    commune = birth.envelope.commune_code
    wait_counted(client, settings, publish(settings, story))
    before = births_in(client, commune, "2024-03-01")
    void = make_event(
        "EventVoided",
        birth.envelope.household_id,
        "2024-03-20",
        target_event_id=str(birth.envelope.event_id),
        reason="registered twice",
    )
    wait_counted(client, settings, publish(settings, [void]))
    assert births_in(client, commune, "2024-03-01") == before - 1
    assert held(client, settings, [*story, void]) == expected(settings, [*story, void])


def test_late_events_count_as_the_registry_judges_them(settings: Settings, client: Any) -> None:
    """The three crossing histories of `test_one_truth`, each event published on its own
    (so the late one arrives after the later event it crosses was counted): ClickHouse
    holds the one fold's rows, and every event has the registry's verdict in both
    stores (the birth counts, the household closes on the last move-out, the marriage
    counts)."""
    events = [e for case in CASES.values() for e in retag(case(), Ids.new())]
    for event in in_log_order(events):
        offsets = publish(settings, [event])
        wait_counted(client, settings, offsets)
        wait_projected(settings, offsets)
    assert held(client, settings, events) == expected(settings, events)
    rows = [(table, (UUID(str(values[0])), *values[1:], n))
            for (table, values), n in held(client, settings, events).items()]  # fmt: skip
    in_clickhouse = row_verdicts(rows)
    in_postgres = {
        event_id: row["reason"] for event_id, row in archived(settings, in_clickhouse).items()
    }
    assert in_clickhouse == in_postgres == registry_verdicts(events)
    assert all(verdict is None for verdict in in_clickhouse.values())


def test_clickhouse_holds_no_name_national_id_or_address(settings: Settings, client: Any) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=60, years=(2023, 2024), seed=13, error_rate=0.0)
    wait_counted(client, settings, publish(settings, events))
    personal: set[str] = set()
    for e in events:
        data = e.model_dump(mode="json")
        personal |= {data["envelope"]["household_id"], data.get("address") or ""}
        for person in [data.get("person"), data.get("child"), *data.get("persons", [])]:
            if person:
                personal |= {person["person_id"], person["full_name"]}
                personal.add(person.get("national_id") or "")
    personal.discard("")
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = {d:String} AND engine != 'View'",
        parameters={"d": DATABASE},
    ).result_rows
    assert {t for (t,) in tables} >= set(COLUMNS)
    found = []
    for (table,) in tables:
        raw = client.raw_query(f"SELECT * FROM {DATABASE}.{table} FORMAT TSV").decode()
        found += [value for value in personal if value in raw]
    assert found == []


def test_rebuild_equals_the_live_tables_and_live_continues(settings: Settings, client: Any) -> None:
    """`popreg rebuild indicators` folds the whole log (every test's events so far) into
    the net rows the live processor wrote; the live processor then carries on from the
    positions the rebuild stored."""
    events = synthetic(Ids.new(), households=100, years=(2021, 2024), seed=11, error_rate=0.03)
    wait_counted(client, settings, publish(settings, events))
    quiesce(client, settings)
    live = sorted(sink(client, settings).net_rows(), key=repr)

    log = WorkerLog(settings)
    result = popreg(settings, "rebuild", "indicators", timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(sink(client, settings).net_rows(), key=repr) == live
    assert "the fold's snapshot for the processor written in" in result.stdout

    more = synthetic(Ids.new(), households=20, years=(2023, 2024), seed=12, error_rate=0.0)
    wait_counted(client, settings, publish(settings, more))
    assert held(client, settings, more) == expected(settings, more)
    assert "resumed from the snapshot at" in log.since()
    assert "; 0 rows written to reconcile ClickHouse" in log.since(), log.since()[-3000:]
