"""The embedded stack as an operator drives it: up, status, down, failures."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from bench import run
from infra import broker, postgres, procs, seaweed, stack
from infra.clickhouse import ClickHouse
from infra.kafka import ensure_topics, topic_partitions
from infra.procs import StackError
from infra.supervisor import read_status
from schemas.settings import LOOPBACK, KafkaSettings, Settings
from tests.cli_env import popreg, status_json
from tests.conftest import StackUnderTest, embedded_settings
from tests.kafka_helpers import consume_until, new_topic

pytestmark = pytest.mark.stack


def stack_pids(settings: Settings) -> set[int]:
    pids: set[int] = set()
    for part in stack.parts(settings):
        record = part.running()
        if record is not None:
            proc = psutil.Process(record.pid)
            pids |= {proc.pid, *(child.pid for child in proc.children(recursive=True))}
    return pids


def recorded_pids(settings: Settings) -> set[int]:
    """The servers' and workers' own pids, without the children that come and go
    (PostgreSQL's backends, a worker's forked snapshot writer)."""
    workers = read_status(settings.resolved_data_dir).values()
    pids = {r.pid for part in stack.parts(settings) if (r := part.running()) is not None}
    return pids | {w["pid"] for w in workers if isinstance(w.get("pid"), int)}


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Every process whose command line names the data directory."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(data_dir) in arg for arg in cmdline):
            found.append(proc)
    return found


def test_status_json_lists_every_part_healthy(test_stack: StackUnderTest) -> None:
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    code, doc = status_json(test_stack.settings)
    assert code == 0, doc
    assert doc["healthy"] is True
    parts = {p["name"]: p for p in doc["parts"]}
    assert {"broker", "postgres", "clickhouse", "s3store"} <= set(parts)
    for part in parts.values():
        assert part["healthy"] is True, part
        assert isinstance(part["pid"], int)
    servers = [p for name, p in parts.items() if name != "processors"]
    assert all("127.0.0.1" in p["address"] for p in servers), servers
    assert "state pid" in parts["processors"]["detail"]  # the workers listen on nothing


def test_every_server_listens_on_loopback_only(test_stack: StackUnderTest) -> None:
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    pids = stack_pids(test_stack.settings)
    listening = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]
    assert len(listening) >= 4
    assert {c.laddr.ip for c in listening} == {LOOPBACK}


def test_the_embedded_postgres_runs_with_its_tuning(test_stack: StackUnderTest) -> None:
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    with psycopg.connect(test_stack.settings.postgres_url) as conn:
        found = {name: conn.execute(f"SHOW {name}").fetchone() for name in postgres.TUNING}
    assert found == {name: (value,) for name, value in postgres.TUNING.items()}


def test_the_state_projector_runs_nicer_in_every_thread(test_stack: StackUnderTest) -> None:
    """Threads take their niceness from the thread that starts them (Linux: per thread),
    so the worker sets it before it starts any."""
    workers = read_status(test_stack.settings.resolved_data_dir)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    for name, nice in (("state", 10), ("indicators", 0)):
        pid = workers[name]["pid"]
        assert isinstance(pid, int)
        deadline = time.monotonic() + 60
        while len(threads := psutil.Process(pid).threads()) < 2:  # librdkafka's, faust's
            assert time.monotonic() < deadline, f"the {name} worker started no thread"
            time.sleep(0.1)
        found = {os.getpriority(os.PRIO_PROCESS, t.id) for t in threads}
        assert found == {min(ours + nice, 19)}, f"{name} worker threads at {found}"
        assert autogroup_niceness(pid) == nice, f"the {name} worker's session"


def autogroup_niceness(pid: int) -> int:
    """The niceness the scheduler shares the CPU between sessions by ("/autogroup-7 nice 10")."""
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


def test_the_state_projectors_postgresql_backend_runs_as_nice_as_it(
    test_stack: StackUnderTest,
) -> None:
    """Its writes are its backend's work: at niceness 0 that would take the CPU the
    indicator path is given first."""
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    deadline = time.monotonic() + 60
    with psycopg.connect(test_stack.settings.postgres_url, autocommit=True) as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE application_name = 'popreg-state'"
        while not (pids := [pid for (pid,) in conn.execute(query).fetchall()]):
            assert time.monotonic() < deadline, "the state projector holds no connection"
            time.sleep(0.1)
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pids} == {min(ours + 10, 19)}
    assert {autogroup_niceness(pid) for pid in pids} == {10}


def test_status_counts_the_record_batches_the_broker_stored(test_stack: StackUnderTest) -> None:
    """Each flush of one record is one stored batch; status names the fullest partition
    of the event log and warns past the count where fetches slowed down."""
    if test_stack.backend != "embedded":
        pytest.skip("counts what the embedded broker stored")
    settings = test_stack.settings
    topic = new_topic(settings, partitions=2)
    producer = Producer(settings.kafka_config(**{"enable.idempotence": True}))
    for partition, flushes in ((0, 5), (1, 2)):
        for n in range(flushes):
            producer.produce(topic, value=b"x%d" % n, partition=partition)
            assert producer.flush(30) == 0
    assert seaweed.Seaweed(settings).stored_batches(topic) == {0: 5, 1: 2}
    assert seaweed.Seaweed(settings).stored_batches("no.such.topic") == {}

    events = seaweed.Seaweed(settings).stored_batches(settings.topics.events)
    detail = broker.Broker(settings).check()
    assert f"{max(events.values(), default=0):,} stored record batch" in detail  # or batches
    assert "over 3,000" not in detail
    many = {0: broker.SLOW_FETCHES_PAST + 1}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seaweed.Seaweed, "stored_batches", lambda self, topic: many)
        assert "3,001 stored record batches in its fullest partition (over 3,000" in (
            broker.Broker(settings).stored_batches()
        )
        many = {0: seaweed.COUNTED_UP_TO}
        assert "at least 100,000 stored record batches" in broker.Broker(settings).stored_batches()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seaweed.Seaweed, "port_of", lambda self, flag: 9)  # nothing listens
        detail = broker.Broker(settings).check()  # the broker itself is healthy
        assert detail.startswith("produce+consume round trip"), detail
        assert "stored record batches not counted (URLError" in detail, detail


def test_up_again_is_a_no_op(test_stack: StackUnderTest) -> None:
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    before = recorded_pids(test_stack.settings)
    result = stack.up(test_stack.settings)
    assert result.started == []
    assert result.topics_created == []
    assert recorded_pids(test_stack.settings) == before


def test_up_fails_fast_naming_a_taken_port(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, settings.ports.postgres))
        squatter.listen()
        started = time.monotonic()
        result = popreg(settings, "up")
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert f"port {settings.ports.postgres}" in result.stderr
    assert "PostgreSQL" in result.stderr
    assert elapsed < 10
    assert processes_using(tmp_path) == []


def test_up_refuses_when_the_disk_is_full(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    settings.embedded.min_free_disk_mb = 1 << 40
    with pytest.raises(procs.StackError, match="disk full"):
        stack.up(settings)


def test_up_names_a_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seaweed, "weed_binary", lambda: None)
    with pytest.raises(procs.StackError, match="`weed` is missing"):
        stack.up(embedded_settings(tmp_path))


def test_external_servers_are_used_not_started(test_stack: StackUnderTest, tmp_path: Path) -> None:
    """With Kafka and PostgreSQL configured, `up` starts only the embedded ClickHouse
    (processors left out: the session's own projector already consumes that broker)."""
    if test_stack.backend != "embedded":
        pytest.skip("points a second stack at the embedded one")
    outer = test_stack.settings
    settings = embedded_settings(tmp_path)
    settings.kafka = KafkaSettings(bootstrap_servers=outer.bootstrap_servers)
    settings.postgres_dsn = outer.postgres_url
    try:
        result = stack.up(settings, with_processors=False)
        assert result.started == ["clickhouse"]
        modes = {s.name: (s.mode, s.healthy) for s in result.statuses}
        assert modes == {
            "broker": ("external", True),
            "postgres": ("external", True),
            "clickhouse": ("embedded", True),
        }
        assert "***" in next(s.address for s in result.statuses if s.name == "postgres")
    finally:
        stack.down(settings)
    assert processes_using(tmp_path) == []
    assert stack_pids(outer)  # the outer stack is untouched


@pytest.mark.durability
def test_cli_lifecycle_keeps_events_and_tells_the_truth(tmp_path: Path) -> None:
    """`popreg up && status && down && up`: a record produced before is read back after;
    `down` leaves no process; a killed part shows as down and `up` brings it back."""
    settings = embedded_settings(tmp_path)
    try:
        assert popreg(settings, "up").returncode == 0
        before = popreg(settings, "roundtrip")
        assert before.returncode == 0, before.stderr
        offset = int(before.stdout.split("at offset ")[1].split()[0])
        assert status_json(settings)[0] == 0

        down = popreg(settings, "down")
        assert down.returncode == 0, down.stderr
        assert processes_using(tmp_path) == []
        code, doc = status_json(settings)
        assert code == 1
        assert doc["healthy"] is False
        assert {p["detail"] for p in doc["parts"]} == {"not running"}

        assert popreg(settings, "up").returncode == 0
        consumer = Consumer(settings.kafka_config(**{"group.id": "lifecycle"}))
        consumer.assign([TopicPartition(settings.topics.healthcheck, 0, offset)])
        (msg,) = consume_until(consumer, lambda seen: len(seen) >= 1)
        consumer.close()
        assert msg.offset() == offset

        host = ClickHouse(settings).running()
        assert host is not None
        os.kill(host.pid, signal.SIGKILL)
        psutil.Process(host.pid).wait(10)
        code, doc = status_json(settings)
        assert code == 1
        clickhouse = next(p for p in doc["parts"] if p["name"] == "clickhouse")
        assert (clickhouse["healthy"], clickhouse["detail"]) == (False, "not running")
        assert popreg(settings, "up").returncode == 0
        assert status_json(settings)[0] == 0
    finally:
        popreg(settings, "down")
    assert processes_using(tmp_path) == []


def test_an_existing_topic_keeps_its_partitions_unless_the_settings_name_others(
    settings: Settings,
) -> None:
    """A stack created with another default partition count comes up as it was; a count
    named explicitly that the topic does not have is refused (repartitioning would
    break per-household order)."""
    assert settings.topics.partitions is None and settings.partitions == 2
    name = f"popreg.test-parts-{time.time_ns()}"
    topics = settings.topics.model_copy(
        update={"events": name, "rejected": f"{name}.rejected", "partitions": 3}
    )
    made = settings.model_copy(update={"topics": topics})
    assert topics.events in ensure_topics(made)
    assert topic_partitions(made)[topics.events] == 3
    by_default = settings.model_copy(
        update={"topics": topics.model_copy(update={"partitions": None})}
    )
    assert ensure_topics(by_default) == []
    assert topic_partitions(by_default)[topics.events] == 3
    other = settings.model_copy(update={"topics": topics.model_copy(update={"partitions": 4})})
    with pytest.raises(StackError, match="has 3 partitions, settings ask for 4"):
        ensure_topics(other)


def test_a_scratch_stack_goes_with_its_directory_or_keeps_both(test_stack: StackUnderTest) -> None:
    """The bench's stack: its pid files are how its servers are stopped, so a directory
    removed while they run (here a `popreg down` holds the stack's lock) would leave
    them running with nothing to stop them by."""
    if test_stack.backend != "embedded":
        pytest.skip("checks the embedded parts")
    said: list[str] = []
    with run.scratch_stack(said.append) as settings:
        pass
    assert not settings.resolved_data_dir.exists()
    with (
        pytest.raises(StackError, match="another `popreg up/down` is running"),
        run.scratch_stack(said.append) as settings,
    ):
        lock = (settings.resolved_data_dir / "run" / "stack.lock").open("w")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert procs.read_pid(settings.resolved_data_dir, "postgres") is not None
        assert f"kept {settings.data_dir}" in said[-1]
    finally:
        lock.close()
        stack.down(settings)
        shutil.rmtree(settings.resolved_data_dir)
