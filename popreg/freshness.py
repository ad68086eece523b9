"""How long an event takes from publication to an analyst's query, under steady load.

Events are published at a steady rate in small slices; every `sample_every`-th one
is timed from just before it is produced until a query through the analysts'
endpoint first finds it in `vital_events` (or, if the fold rejected it, in
`rejections`). A poller asks for all pending samples at once, every few ms.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from popreg.settings import Settings
from producers.publisher import Publisher
from projections.clickhouse_schema import DATABASE
from schemas.models import Event

SLICE_S = 0.01
POLL_S = 0.005
FOUND = (
    f"SELECT toString(event_id) FROM {DATABASE}.vital_events WHERE event_id IN {{ids:Array(UUID)}}"
    f" UNION ALL SELECT toString(event_id) FROM {DATABASE}.rejections"
    " WHERE event_id IN {ids:Array(UUID)}"
)


@dataclass(frozen=True)
class Freshness:
    rate: float  # events/s actually published
    samples: int
    p50_s: float
    p99_s: float


def measure(
    settings: Settings,
    client: Any,
    events: Iterator[Event],
    rate: int,
    seconds: float,
    sample_every: int = 10,
    timeout_s: float = 120.0,
) -> Freshness:
    published: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    def poll() -> None:
        while not done.is_set() or len(seen) < len(published):
            with lock:
                pending = [i for i in published if i not in seen]
            if pending:
                result = client.query(FOUND, parameters={"ids": pending})
                now = time.perf_counter()
                for (event_id,) in result.result_rows:
                    seen.setdefault(event_id, now)
            time.sleep(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    per_slice = max(1, round(rate * SLICE_S))
    count = 0
    started = time.perf_counter()
    with Publisher(settings, check_world=False) as publisher:
        while (elapsed := time.perf_counter() - started) < seconds:
            batch = [next(events) for _ in range(per_slice)]
            now = time.perf_counter()
            with lock:
                for n, event in enumerate(batch, count):
                    if n % sample_every == 0:
                        published[str(event.envelope.event_id)] = now
            publisher.publish_many(batch)
            count += len(batch)
            behind = count / rate - (time.perf_counter() - started)
            if behind > 0:
                time.sleep(behind)
    sent_rate = count / elapsed
    done.set()
    poller.join(timeout_s)
    if poller.is_alive() or len(seen) < len(published):
        raise RuntimeError(
            f"{len(published) - len(seen)} sampled events never reached ClickHouse"
            f" within {timeout_s:.0f} s: is the indicator processor running? (popreg status)"
        )
    delays = sorted(seen[i] - published[i] for i in published)
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    return Freshness(sent_rate, len(delays), statistics.median(delays), cuts[98])
