"""`popreg bench`: popreg's speed as ratios to baselines measured in the same run.

These machines are noisy, so every popreg figure sits next to a baseline taken
moments before on the same broker (e.g. SDK publishing ÷ raw confluent-kafka
producing of the same bytes), and each pair is measured in alternation several times;
the median of each is reported.
"""

from __future__ import annotations

import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from bench import GROUPS, baselines, forecast_backtest, indicators, portal, processes, replay
from bench.results import Figure, Results, in_child, new_results, write
from infra import procs, stack
from infra.ports import free_ports
from infra.processors import Processors, positions
from infra.supervisor import read_status
from producers.publisher import Publisher, producer_defaults
from producers.synth import Synth, SynthConfig
from producers.synth.config import (
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from projections import log, rebuild
from schemas.admin_units import load
from schemas.models import Event
from schemas.settings import Settings
from schemas.wire import Codec


@dataclass(frozen=True)
class Scale:
    """How much synthetic Cà Mau to generate, and how much of it each figure uses."""

    households: int
    publish: int  # events in the SDK vs raw produce comparison
    live: int  # events the live projector and bare faust each consume
    freshness_s: float  # how long events are published at 1,000/s for freshness
    portal_s: float  # how long the portal's pages are timed, at most (200 cold loads each)
    backtest_households: int  # the forecast back-test's province, at its start in 2011


SIZES = {
    "small": Scale(4_000, 20_000, 20_000, freshness_s=10, portal_s=40, backtest_households=2_000),
    "province": Scale(
        290_000, 300_000, 200_000, freshness_s=60, portal_s=float("inf"), backtest_households=20_000
    ),
}


def scratch_topic(settings: Settings) -> str:
    name = f"bench.run.{uuid.uuid4().hex[:8]}"
    admin = AdminClient(settings.kafka_config())
    topic = NewTopic(name, num_partitions=settings.partitions, replication_factor=1)
    for future in admin.create_topics([topic]).values():
        future.result(30)
    return name


def rate(count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def raw_produce(producer: Producer, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """The baseline: confluent-kafka producing pre-encoded bytes, same producer settings."""
    for key, value in records:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    if producer.flush(120) > 0:
        raise RuntimeError("raw produce: messages left unacknowledged")


def sdk_publish(publisher: Publisher, events: list[Event]) -> None:
    failed = [r for _, r in publisher.stream(events) if not r.accepted]
    if failed:
        raise RuntimeError(f"SDK publish: {len(failed)} events not accepted: {failed[0]}")


def publish_figures(settings: Settings, events: list[Event], rounds: int = 3) -> Iterator[Figure]:
    """SDK publishing vs raw producing of the same events, alternated `rounds` times.

    Both clients are created and warmed first: an idempotent producer's first send
    waits ~0.5 s for its producer id, which is not a per-event cost.
    """
    topic = scratch_topic(settings)
    codec = Codec(settings.schema_registry_url)
    records = [(e.envelope.household_id.encode(), codec.encode(e, topic)) for e in events]
    producer = Producer(settings.kafka_config(**producer_defaults(settings)))
    topics = settings.topics.model_copy(update={"events": topic})
    with Publisher(settings.model_copy(update={"topics": topics})) as publisher:
        raw_produce(producer, topic, records[:1])
        sdk_publish(publisher, events[:1])
        raw, sdk = [], []
        for _ in range(rounds):
            raw.append(rate(len(records), lambda: raw_produce(producer, topic, records)))
            sdk.append(rate(len(events), lambda: sdk_publish(publisher, events)))
    baseline = "raw confluent-kafka produce"
    yield Figure("raw produce (baseline)", statistics.median(raw), "events/s")
    yield Figure(
        "SDK publish (validate + encode + produce)",
        statistics.median(sdk),
        "events/s",
        baseline,
        statistics.median(raw),
    )


@contextmanager
def scratch_stack(report: Callable[[str], None]) -> Iterator[Settings]:
    """A throwaway embedded stack on free ports, so a bench never touches real data.
    Its directory goes only once its servers are stopped: it holds their pid files, and
    servers whose directory is gone can no longer be stopped by `popreg down`."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="popreg-bench-")), ports=free_ports())
    try:
        stack.up(settings, report=report)
        yield settings
    finally:
        try:
            stack.down(settings)
        except procs.StackError as error:
            report(
                f"{error}; kept {settings.data_dir}: `popreg down --data-dir` it, then remove it"
            )
            raise
        shutil.rmtree(settings.resolved_data_dir)


def synthetic_events(households: int) -> Iterator[Event]:
    """A synthetic Cà Mau, 2015-2025: realistic sizes and mix, lazily; no deliberate
    mistakes, but the voids, amendments and crossing late registrations a registry
    receives, at the rates `popreg synth` uses."""
    config = SynthConfig(
        province="96",
        households=households,
        first_year=2015,
        last_year=2025,
        seed=7,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        error_rate=0.0,
        void_rate=REALISTIC_VOID_RATE,
        amend_rate=REALISTIC_AMEND_RATE,
        crossing_rate=REALISTIC_CROSSING_RATE,
    )
    return Synth(config, load()).events()


def held_back(events: Iterable[Event], count: int, into: list[Event]) -> Iterator[Event]:
    """All but the last `count` events; those are in `into` once this is exhausted."""
    window: deque[Event] = deque()
    for event in events:
        window.append(event)
        if len(window) > count:
            yield window.popleft()
    into.extend(window)


def publish_log(settings: Settings, events: Iterable[Event]) -> int:
    """Publish to the events topic through the SDK; returns how many were accepted."""
    with Publisher(settings, check_world=False) as publisher:
        return sum(1 for _, r in publisher.stream(events) if r.accepted)


def bare_faust_rate(settings: Settings, count: int, timeout_s: float) -> float:
    """Events/s of bare faust over `count` records, from its first batch to its last."""
    run = procs.run_dir(settings.resolved_data_dir)
    config, out = run / "bench-settings.json", run / "bench-faust-counted.json"
    config.write_text(settings.model_dump_json())
    out.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "bench.faust_consumer", "--settings", str(config)]
    argv += ["--count", str(count), "--out", str(out)]
    record = procs.spawn(settings.resolved_data_dir, "bench-faust", argv, "-")
    try:
        procs.wait_until(record, out.exists, timeout_s, "bare faust consumer")
    finally:
        procs.stop(settings.resolved_data_dir, "bench-faust", timeout_s=10)
    doc = json.loads(out.read_text())
    return float(doc["count"]) / max(float(doc["done_at"] - doc["first_batch_at"]), 1e-9)


@dataclass(frozen=True)
class ProcessorRun:
    rate: float  # events/s
    peak_mib: float  # the worker's peak resident memory


def processor_rate(
    settings: Settings, name: str, ends: dict[int, int], timeout_s: float
) -> ProcessorRun:
    """Events/s of one processor running alone, from its first stored batch until it
    has passed `ends` on every partition (positions as it stores them with its data)."""
    processors = Processors(settings, only=[name])
    processors.start()
    try:
        deadline = time.monotonic() + timeout_s
        first: tuple[float, int] | None = None
        while time.monotonic() < deadline:
            done = positions(settings, name)
            now = time.perf_counter()
            if done and first is None:
                first = (now, sum(done.values()))
            if first is not None and all(done.get(p, 0) >= end for p, end in ends.items()):
                rate_of = (sum(done.values()) - first[1]) / max(now - first[0], 1e-9)
                return ProcessorRun(rate_of, peak_mib(settings, name))
            time.sleep(0.05)
    finally:
        processors.stop()
    raise RuntimeError(f"the {name} processor did not catch up within {timeout_s:.0f} s")


def peak_mib(settings: Settings, processor: str) -> float:
    """The running worker's peak resident memory (VmHWM), from /proc."""
    pid = read_status(settings.resolved_data_dir).get(processor, {}).get("pid")
    status = Path(f"/proc/{pid}/status")
    if not isinstance(pid, int) or not status.exists():
        raise RuntimeError(f"the {processor} worker is not running")
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def live_figures(settings: Settings, live: int, report: Callable[[str], None]) -> Iterator[Figure]:
    """Each processor alone vs bare faust, each consuming the same `live` events."""
    topic = settings.topics.events
    ends = log.place_markers(settings, topic, log.partition_count(settings, topic))
    report(f"bare faust consuming {live:,} events")
    faust_rate = bare_faust_rate(settings, live, timeout_s=600)
    yield Figure("bare faust consume (baseline)", faust_rate, "events/s")
    for name, what in (
        ("state", "state projector (faust → PostgreSQL)"),
        ("indicators", "indicator processor (faust → ClickHouse)"),
    ):
        report(f"the {name} processor consuming {live:,} events")
        run = processor_rate(settings, name, ends, timeout_s=3600)
        yield Figure(what, run.rate, "events/s", "bare faust consume", faust_rate)
        yield Figure(f"{name} processor: peak memory", run.peak_mib, "MiB")


def rebuild_figures(settings: Settings, report: Callable[[str], None]) -> Iterator[Figure]:
    """`popreg rebuild state` vs a plain confluent-kafka consume + decode of the same log."""
    Processors(settings).stop()
    report("plain confluent-kafka consume + decode of the whole log")
    started = time.perf_counter()
    _, batches = log.read_log(settings, settings.topics.events)
    count = sum(len(batch) for batch in batches)
    decode_rate = count / (time.perf_counter() - started)
    report(f"popreg rebuild state over {count:,} records")
    result = in_child(rebuild_state_quietly, settings)
    yield Figure("confluent-kafka consume + decode (baseline)", decode_rate, "events/s")
    yield Figure(
        "rebuild state (read, fold, COPY)",
        result.events / result.seconds,
        "events/s",
        "consume + decode",
        decode_rate,
    )
    for phase, seconds in (("read", result.read_s), ("fold", result.fold_s)):
        yield Figure(f"rebuild: {phase} phase alone", result.events / seconds, "events/s")
    yield Figure("rebuild: write phase alone (COPY)", result.events / result.write_s, "events/s")


def against_stores(known: list[Figure], baselines: Iterable[Figure]) -> Iterator[Figure]:
    """The baselines, then each processor's rate against the store it writes to."""
    found = {f.name: f for f in [*known, *baselines]}
    yield from (f for f in found.values() if f not in known)
    for processor, store in (
        ("state projector (faust → PostgreSQL)", "PostgreSQL COPY into a persons-shaped table"),
        ("indicator processor (faust → ClickHouse)", "ClickHouse insert of population deltas"),
    ):
        base = found[f"{store} (baseline)"]
        yield Figure(
            f"{processor} vs its store", found[processor].value, "events/s", store, base.value
        )


def rebuild_state_quietly(settings: Settings) -> rebuild.RebuildResult:
    return rebuild.rebuild_state(settings, load(), lambda stage, n: None)


@contextmanager
def logs_kept(settings: Settings, out_dir: Path) -> Iterator[None]:
    """The scratch stack's logs, copied next to the results (`run-logs/`, or
    `failed-run-logs/` if the run failed): the processors' batch lines tell where the
    time went."""
    kept = out_dir / "run-logs"
    try:
        yield
    except BaseException:
        kept = out_dir / "failed-run-logs"
        raise
    finally:
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(settings.resolved_data_dir / "logs", kept)


def run(
    scale: str,
    out_dir: Path,
    report: Callable[[str], None],
    only: Iterable[str] = GROUPS,
    freshness_rate: int = indicators.FRESHNESS_RATE,
) -> Results:
    """Every group of figures, or `only` some: the log is always published and rebuilt
    (replay, queries, portal and freshness need the rebuilt stores; the forecast
    back-test alone needs no stack)."""
    size = SIZES[scale]
    results = new_results(scale)
    if set(only) == {"forecast"}:  # needs no stack: its warehouse is its own
        results.figures.extend(forecast_backtest.backtest_figures(size.backtest_households, report))
        write(results, out_dir)
        return results
    wanted = set(only) | {"rebuild"}
    newest: list[Event] = []  # the freshness stream: recorded after everything in the log
    count = int(size.freshness_s * freshness_rate) + 1
    events = held_back(synthetic_events(size.households), count, newest)
    with scratch_stack(report) as settings, logs_kept(settings, out_dir):
        Processors(settings).stop()
        report(f"generating {size.publish:,} synthetic events")
        first = list(itertools.islice(events, size.publish))

        def record(figures: Iterable[Figure]) -> list[Figure]:
            """Keep the figures and write what is known so far: a late failure loses nothing."""
            found = list(figures)
            results.figures.extend(found)
            write(results, out_dir)
            return found

        if "publish" in wanted:
            report("publishing: raw confluent-kafka vs the SDK, alternated")
            record(publish_figures(settings, first))
        live = publish_log(settings, first[: size.live])
        if "live" in wanted:
            record(live_figures(settings, live, report))
        report("publishing the rest of the synthetic province")
        rest = publish_log(settings, itertools.chain(first[size.live :], events))
        report(f"{live + rest:,} events in the log")
        decode_rate = record(rebuild_figures(settings, report))[0].value
        record(indicators.rebuild_figures(settings, decode_rate, report))
        if "baselines" in wanted:
            report("baselines: raw consume, COPY, ClickHouse insert")
            record(against_stores(results.figures, baselines.baseline_figures(settings)))
        if "replay" in wanted:
            record(replay.replay_figures(settings, "2025-01-01", decode_rate, report))
        if "queries" in wanted:
            record(indicators.query_figures(settings, 2025, report))
        if "portal" in wanted:
            record(portal.portal_figures(settings, results.figures, report, budget_s=size.portal_s))
        if "freshness" in wanted:
            record(
                indicators.freshness_figures(
                    settings, size.freshness_s, newest, report, freshness_rate
                )
            )
        record(processes.memory_figures(settings))
    if "forecast" in wanted:  # on a warehouse of its own (bench/forecast_backtest.py)
        record(forecast_backtest.backtest_figures(size.backtest_households, report))
    write(results, out_dir)
    return results
