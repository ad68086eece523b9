"""The indicator processor: a faust worker from `popreg.vital-events` to ClickHouse.

It keeps the fold's registry in memory (the indicators need each event's verdict and
the persons it names), so on start it first folds the log up to the positions stored
in ClickHouse and reconciles the tables with that fold (`projections/clickhouse_sink`).
Then faust resumes exactly at those positions (`PositionedApp`); each batch's rows
and next offsets are written in that order.
"""

from __future__ import annotations

import logging
import time

import faust

from infra import secrets
from infra.clickhouse import writer_client
from popreg.settings import Settings
from projections.admin_units import load
from projections.clickhouse_sink import IndicatorSink, canonical_rows
from projections.indicator_rows import IndicatorFold, IndicatorState, difference
from projections.log import Record, read_until
from projections.memory import collector_paused, settle
from stream_processors.batches import batch_app

CONSUMER = "indicators"
log = logging.getLogger("popreg.worker.indicators")


class IndicatorProcessor:
    """The in-memory fold and the ClickHouse sink, kept at the same positions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topics.events
        self.sink = IndicatorSink(writer_client(settings), CONSUMER, self.topic)
        secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
        self.state = IndicatorState(IndicatorFold(load(), secret))
        self.next: dict[int, int] = {}

    def restore(self) -> int:
        """Fold the log up to the stored positions and make the tables agree with it;
        returns the number of rows written to reconcile them."""
        stored = self.sink.positions()
        with collector_paused():
            batches = read_until(self.settings, self.topic, stored)
            self.state.load(record for batch in batches for record in batch)
            held = self.sink.net_rows()
            fix = difference(held, canonical_rows(self.state.all_rows()))
        settle()
        self.sink.write(fix, {})
        self.next = dict(stored)
        return len(fix)

    def positions(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        return {(t, p): self.next[p] for t, p in keys if t == self.topic and p in self.next}

    def handle(self, records: list[Record], ends: dict[int, int], caught_up: bool) -> str:
        """One batch: records below the positions were taken before and are skipped."""
        started = time.perf_counter()
        fresh = [r for r in records if r.offset >= self.next.get(r.partition, 0)]
        taken = self.state.take(fresh, caught_up)
        taken.duplicates += len(records) - len(fresh)
        folded = time.perf_counter()
        reached = {p: max(o, self.next.get(p, 0)) for p, o in ends.items()}
        self.sink.write(taken.rows, reached)
        self.next.update(reached)
        settle()
        return (
            f"{taken.new} new, {taken.duplicates} duplicates, {taken.undecodable} undecodable,"
            f" {len(taken.rows)} rows{' (re-folded)' if taken.refolded else ''};"
            f" fold {folded - started:.2f} s, write {time.perf_counter() - folded:.2f} s"
        )


def run(settings: Settings) -> None:
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)
    processor = IndicatorProcessor(settings)
    fixed = processor.restore()
    log.info(
        "restored %d events up to %s; %d rows written to reconcile ClickHouse",
        len(processor.state.events),
        processor.next,
        fixed,
    )
    app = batch_app(settings, CONSUMER, processor.positions, processor.handle)
    faust.Worker(app, loglevel="INFO", redirect_stdouts=False).execute_from_commandline()
