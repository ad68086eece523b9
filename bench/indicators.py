"""The indicator side of `popreg bench`: bulk rebuild, query latency and freshness.

Each figure has a baseline from the same run: the rebuild against a plain consume +
decode of the log, a query against `SELECT 1` through the same analysts' endpoint.
Freshness has no fair baseline (nothing else travels the whole path); it is reported
next to its aim, p99 under 2 s at 1,000 events/s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date

from bench import freshness
from bench.processes import cpu_figures, cpu_seconds
from bench.results import Figure, in_child
from infra import secrets
from infra.clickhouse import analyst_client, writer_client
from infra.processors import PROCESSORS, Processors, positions
from projections import indicators
from projections.domain.indicator_catalog import Period
from projections.domain.indicator_rows import COLUMNS
from projections.indicator_rebuild import IndicatorRebuild, rebuild_indicators
from projections.log import partition_count, place_markers
from schemas.admin_units import load
from schemas.models import Event
from schemas.settings import Settings
from stream_processors.indicator_worker import CONSUMER

Report = Callable[[str], None]
FRESHNESS_RATE = 1000  # events/s: the aim's rate


def rebuild_quietly(settings: Settings) -> IndicatorRebuild:
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    client = writer_client(settings)
    try:
        return rebuild_indicators(settings, client, CONSUMER, load(), secret, lambda s, n: None)
    finally:
        client.close()


def rebuild_figures(settings: Settings, decode_rate: float, report: Report) -> Iterator[Figure]:
    report("popreg rebuild indicators over the whole log")
    result = in_child(rebuild_quietly, settings)
    yield Figure(
        "rebuild indicators (read, fold, insert)",
        result.events / result.seconds,
        "events/s",
        "consume + decode",
        decode_rate,
    )
    yield Figure("rebuild indicators: rows written", result.rows, "rows")


WARM_UP = 5  # ClickHouse compiles a query's expressions (JIT) within its first four runs


def latencies_ms(run: Callable[[], object], times: int) -> list[float]:
    """Steady-state latencies: after runs that load marks and compile expressions (a
    one-time 100-250 ms each per server process, measured in-process)."""
    for _ in range(WARM_UP):
        run()
    found = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        found.append((time.perf_counter() - started) * 1000)
    return found


def query_figures(
    settings: Settings, year: int, report: Report, times: int = 200
) -> Iterator[Figure]:
    """The analysts' queries over the whole province, through the read-only endpoint.
    Enough runs that the p99 is not simply the slowest (of 30 it is the slowest or
    the second slowest, and one stall of the machine decides it)."""
    report(f"indicator queries for province 96, {year}, {times} times each")
    yield Figure("indicator tables: active parts when queried", active_parts(settings), "parts")
    client = analyst_client(settings)
    try:
        one = latencies_ms(lambda: client.query("SELECT 1"), times)
        period = Period.parse(str(year))
        values = latencies_ms(
            lambda: indicators.indicator_values(client, "province", "96", period), times
        )
        pyramid = latencies_ms(
            lambda: indicators.population_pyramid(client, "province", "96", date(year, 12, 31)),
            times,
        )
    finally:
        client.close()
    base = statistics.median(one)
    yield Figure("analysts' endpoint: SELECT 1 p50 (baseline)", base, "ms", samples=tuple(one))
    for name, found in (("all indicators, province-year", values), ("pyramid", pyramid)):
        p50, p99 = freshness.p50_p99(found)
        yield Figure(f"query {name} p50", p50, "ms", "SELECT 1", base, tuple(found))
        yield Figure(f"query {name} p99", p99, "ms", "SELECT 1", base)
        yield Figure(f"query {name}, slowest of {times}", max(found), "ms", "SELECT 1", base)


def active_parts(settings: Settings) -> int:
    """Parts of the row tables: many (merges pending) slow the queries down."""
    writer = writer_client(settings)
    try:
        (count,) = writer.query(
            "SELECT count() FROM system.parts WHERE database = 'popreg' AND active"
            " AND table IN {tables:Array(String)}",
            parameters={"tables": list(COLUMNS)},
        ).result_rows[0]
    finally:
        writer.close()
    return int(count)


def caught_up(settings: Settings, timeout_s: float = 3600) -> None:
    """Until every processor has read past end markers placed now. Past, not up to: a
    processor still loading its fold (the indicator one takes minutes at province
    scale) already holds the positions of everything before them after an earlier run."""
    topic = settings.topics.events
    ends = place_markers(settings, topic, partition_count(settings, topic))
    deadline = time.monotonic() + timeout_s
    for name in PROCESSORS:
        while any(positions(settings, name).get(p, 0) <= e for p, e in ends.items()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {name} processor did not catch up in {timeout_s:.0f} s")
            time.sleep(0.2)


def freshness_figures(
    settings: Settings, seconds: float, newest: list[Event], report: Report, rate: int
) -> Iterator[Figure]:
    """Both processors running, the `newest` events of the province (held back from the
    log, so recorded after everything in it, as live traffic is) published at `rate`
    (the aim is for 1,000/s): publication to query."""
    processors = Processors(settings)
    report("starting both processors (the indicator processor first loads its fold)")
    processors.start()
    try:
        caught_up(settings)
        report(f"publishing {rate:,} events/s for {seconds:.0f} s, timing samples")
        client = analyst_client(settings)
        try:
            since = min(e.envelope.recorded_at for e in newest)
            before, started = cpu_seconds(settings), time.perf_counter()
            found = freshness.measure(settings, client, newest, since, rate, seconds)
            used = cpu_figures(
                "freshness", before, cpu_seconds(settings), time.perf_counter() - started
            )
        finally:
            client.close()
    finally:
        processors.stop()
    yield Figure("freshness: events/s published", found.rate, "events/s")
    yield Figure("freshness p50 (publish → indicator query)", found.p50_s * 1000, "ms")
    yield Figure("freshness p99 (aim < 2,000 ms)", found.p99_s * 1000, "ms")
    yield Figure("freshness: publish → broker ack p50", found.acked_p50_s * 1000, "ms")
    yield Figure("freshness: publish → broker ack p99", found.acked_p99_s * 1000, "ms")
    yield from used
