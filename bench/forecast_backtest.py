"""The forecast back-test of `popreg bench` (docs/forecasts.md): a generated province
with fifteen years of history, projected from 31 December 2020 with the indicator
tables as the events recorded by then make them, against the tables once every event
is in, for horizons of one to five years.

It runs on a chDB warehouse of its own, in this process, rather than on the bench's
stack: "as known then" is the fold of the events recorded by the base date, which the
stack's tables (the whole log) no longer are. The generator's rates are constant,
which is what the method assumes: the errors say how much the registry's noise, late
registrations and the small-area method add.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import clickhouse_connect

from bench.results import Figure
from producers.synth import Synth, SynthConfig
from producers.synth.config import (
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from projections.clickhouse_schema import migrate
from projections.clickhouse_sink import IndicatorSink
from projections.domain.indicator_rows import fold_all
from projections.domain.record import Record
from projections.forecast_backtest import errors, foresee
from projections.indicator_units import load_units
from schemas.admin_units import load
from schemas.models import VIETNAM, Event

Report = Callable[[str], None]
BASE = date(2020, 12, 31)
FIRST_YEAR = 2011  # five years before the base's own five-year base period begins


def backtest_figures(households: int, report: Report) -> Iterator[Figure]:
    units = load()
    config = SynthConfig(
        "96",
        households,
        FIRST_YEAR,
        2025,
        23,
        datetime(2026, 3, 1, tzinfo=UTC),
        error_rate=0.02,
        void_rate=REALISTIC_VOID_RATE,
        amend_rate=REALISTIC_AMEND_RATE,
        crossing_rate=REALISTIC_CROSSING_RATE,
    )
    report(f"forecast back-test: generating {households:,} households, {FIRST_YEAR}-2025")
    started = time.perf_counter()
    events = list(Synth(config, units).events())
    cutoff = datetime(BASE.year + 1, 1, 1, tzinfo=VIETNAM)
    then = [e for e in events if e.envelope.recorded_at < cutoff]
    with tempfile.TemporaryDirectory(prefix="popreg-backtest-") as directory:
        client = clickhouse_connect.get_client(dsn=f"chdb://{directory}")
        try:
            migrate(client)
            load_units(client, units)
            sink = IndicatorSink(client, "bench", "bench")
            report(f"forecast back-test: {len(then):,} of {len(events):,} events known then")
            hold(sink, then)
            foreseen = foresee(client, "96", BASE)
            hold(sink, events)
            found = errors(client, foreseen)
        finally:
            client.close()
    people = sum(s for s, _ in foreseen.communes.values())
    yield Figure("forecast back-test: residents on the base date", people, "people")
    yield Figure("forecast back-test: communes", len(foreseen.communes), "communes")
    for e in found:
        yield Figure(f"forecast back-test {e.years} y: province total APE", e.province_ape, "%")
        yield Figure(f"forecast back-test {e.years} y: communes' MAPE", e.communes_mape, "%")
        yield Figure(
            f"forecast back-test {e.years} y: age-sex dissimilarity", e.age_dissimilarity, "points"
        )
    yield Figure("forecast back-test: time", time.perf_counter() - started, "s")


def hold(sink: IndicatorSink, events: list[Event]) -> None:
    """The indicator tables as the fold of `events` makes them, and nothing else."""
    sink.clear()
    records = (Record(0, n, e, None, None) for n, e in enumerate(events))
    sink.write(fold_all(records, load(), b"bench").all_rows(), {})
