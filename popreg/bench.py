"""`popreg bench`: popreg's speed as ratios to baselines measured in the same run.

These machines are noisy, so every popreg figure sits next to a baseline taken
moments before on the same broker (e.g. SDK publishing ÷ raw confluent-kafka
producing of the same bytes), and each pair is measured in alternation several times;
the median of each is reported.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from infra import stack
from infra.ports import free_ports
from popreg import __version__
from popreg.settings import Settings
from producers.publisher import PRODUCER_DEFAULTS, Publisher
from producers.synth import Synth, SynthConfig
from projections.admin_units import load
from schemas.codec import Codec
from schemas.models import Event

SCALES = {"small": 30_000, "province": 300_000}


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None

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
        doc["figures"] = [{**asdict(f), "ratio": f.ratio} for f in self.figures]
        return doc

    def markdown(self) -> str:
        lines = [
            f"popreg {__version__} bench, scale {self.scale}, {self.started_at}, "
            f"{self.machine['cpus']} CPUs, {self.machine['python']}",
            "",
            "| figure | value | baseline | baseline value | ratio |",
            "|---|---:|---|---:|---:|",
        ]
        for f in self.figures:
            ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
            base = "" if f.baseline_value is None else f"{f.baseline_value:,.0f} {f.unit}"
            lines.append(
                f"| {f.name} | {f.value:,.0f} {f.unit} | {f.baseline or ''} | {base} | {ratio} |"
            )
        return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def scratch_topic(settings: Settings) -> str:
    name = f"popreg.bench.{uuid.uuid4().hex[:8]}"
    admin = AdminClient(settings.kafka_config())
    topic = NewTopic(name, num_partitions=settings.topics.partitions, replication_factor=1)
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
    producer = Producer(settings.kafka_config(**PRODUCER_DEFAULTS))
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


def write(results: Results, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results.to_json(), indent=2) + "\n", "utf-8")
    md_path.write_text(results.markdown(), "utf-8")
    return json_path, md_path


def new_results(scale: str) -> Results:
    return Results(scale, datetime.now(UTC).isoformat(timespec="seconds"), machine())


@contextmanager
def scratch_stack(report: Callable[[str], None]) -> Iterator[Settings]:
    """A throwaway embedded stack on free ports, so a bench never touches real data."""
    with tempfile.TemporaryDirectory(prefix="popreg-bench-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), ports=free_ports())
        stack.up(settings, report=report)
        try:
            yield settings
        finally:
            stack.down(settings)


def synthetic_events(count: int) -> list[Event]:
    """The first `count` events of a clean synthetic Cà Mau: realistic sizes and mix."""
    config = SynthConfig(
        province="96",
        households=max(count // 5, 100),
        first_year=2015,
        last_year=2025,
        seed=7,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        error_rate=0.0,
    )
    return list(itertools.islice(Synth(config, load()).events(), count))


def run(scale: str, out_dir: Path, report: Callable[[str], None]) -> Results:
    results = new_results(scale)
    report(f"generating {SCALES[scale]:,} synthetic events")
    events = synthetic_events(SCALES[scale])
    with scratch_stack(report) as settings:
        report("publishing: raw confluent-kafka vs the SDK, alternated")
        results.figures.extend(publish_figures(settings, events))
    write(results, out_dir)
    return results
