"""How long an event takes from publication to an analyst's query, under steady load.

Events are published at a steady rate, without waiting for acknowledgements; every
`sample_every`-th one is timed from just before it is produced until a query through
the analysts' endpoint first finds it in `vital_events` (or, if the fold rejected it,
in `rejections`). An event voided within the stream is not sampled: if its void comes
in the same batch, it counts nothing and never appears. A poller asks for all pending
samples at once, every few ms. The broker's acknowledgement of each sample is timed
too, to split the delay into the broker's part and the processor's and query's.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError

from producers.publisher import Publisher
from projections.indicators import ARRIVED
from schemas.models import Event, EventVoided
from schemas.settings import Settings

POLL_S = 0.1  # a poll costs the host a query: polling harder would slow what it measures
CHUNK = 200  # ids per poll: parameters travel in the URL


@dataclass(frozen=True)
class Freshness:
    rate: float  # events/s actually published
    samples: int
    p50_s: float
    p99_s: float
    acked_p50_s: float  # publication to the broker's acknowledgement
    acked_p99_s: float


def measure(
    settings: Settings,
    client: Any,
    events: Iterable[Event],
    since: datetime,
    rate: int,
    seconds: float,
    sample_every: int = 10,
    timeout_s: float = 120.0,
) -> Freshness:
    events = list(events)
    voided = {e.target_event_id for e in events if isinstance(e, EventVoided)}
    published: dict[str, float] = {}
    seen: dict[str, float] = {}
    acked: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()
    gave_up = threading.Event()
    failures: list[str] = []

    def poll() -> None:
        while not gave_up.is_set() and (not done.is_set() or len(seen) < len(published)):
            with lock:
                pending = [i for i in published if i not in seen]
            for start in range(0, len(pending), CHUNK):
                try:
                    ids = pending[start : start + CHUNK]
                    result = client.query(ARRIVED, parameters={"ids": ids, "since": since})
                except ClickHouseError as error:  # keep timing; say so if it never recovers
                    failures.append(f"{type(error).__name__}: {error}")
                    continue
                now = time.perf_counter()
                for (event_id,) in result.result_rows:
                    seen.setdefault(event_id, now)
            time.sleep(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    started = time.perf_counter()

    def paced() -> Iterator[Event]:
        """Events at `rate` per second; each sample's clock starts as it is handed over."""
        for n, event in enumerate(events):
            due = started + n / rate
            if due - started >= seconds:
                return
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            if n % sample_every == 0 and event.envelope.event_id not in voided:
                with lock:
                    published[str(event.envelope.event_id)] = time.perf_counter()
            yield event

    with Publisher(settings, check_world=False) as publisher:
        count = 0
        for _, result in publisher.stream(paced()):
            count += 1
            if (event_id := str(result.event_id)) in published:
                acked[event_id] = time.perf_counter()
    elapsed = time.perf_counter() - started
    sent_rate = count / elapsed
    done.set()
    poller.join(timeout_s)
    if poller.is_alive() or len(seen) < len(published):
        gave_up.set()  # else it polls on, and its errors bury this one once the stack is down
        raise RuntimeError(
            f"{len(published) - len(seen)} sampled events never reached ClickHouse"
            f" within {timeout_s:.0f} s: is the indicator processor running? (popreg status)"
            + (f"; {len(failures)} polls failed, last: {failures[-1]}" if failures else "")
        )
    delays = [seen[i] - published[i] for i in published]
    to_broker = [acked[i] - published[i] for i in published]
    return Freshness(sent_rate, len(delays), *p50_p99(delays), *p50_p99(to_broker))


def p50_p99(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[98]
