"""The indicator processor: a faust worker from `popreg.vital-events` to ClickHouse.

It keeps the fold's registry in memory (the indicators need each event's verdict and
the persons it names), so on start it first brings a fold to the positions stored in
ClickHouse and reconciles the tables with it (`projections/clickhouse_sink`). The fold
is the last snapshot (`projections/fold_snapshot`) with the records after it
taken, or, if there is none it can use, the log folded from offset 0. Once
`processors.snapshot_every` events are in the fold but in no snapshot (at the start,
or later), a forked child writes a new snapshot while the worker goes on. Then faust
resumes exactly at the stored positions (`PositionedApp`); each batch's rows and next
offsets are written in that order.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator

import faust

from infra import secrets
from infra.clickhouse import writer_client
from projections import fold_snapshot as snapshot
from projections.clickhouse_sink import IndicatorSink, canonical_rows
from projections.domain.checkpoint import Refused
from projections.domain.indicator_rows import IndicatorFold, IndicatorState, difference
from projections.domain.record import Record
from projections.domain.recordings import recordings
from projections.log import read_until
from projections.memory import collector_paused, settle
from schemas.admin_units import load
from schemas.settings import ProcessorSettings, Settings
from stream_processors import forked
from stream_processors.batches import batch_app

CONSUMER = "indicators"
log = logging.getLogger("popreg.worker.indicators")


class IndicatorProcessor:
    """The in-memory fold and the ClickHouse sink, kept at the same positions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topics.events
        self.sink = IndicatorSink(writer_client(settings), CONSUMER, self.topic)
        self.secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
        self.state = IndicatorState(IndicatorFold(load(), self.secret))
        self.snapshots = snapshot.directory(settings.resolved_data_dir)
        self.next: dict[int, int] = {}
        self.stamps: dict[int, snapshot.Stamp] = {}
        self.unsaved = 0  # events taken since the last snapshot
        self.writer: int | None = None  # the pid of the child writing a snapshot
        self.writing = 0  # the events that child saves for the first time
        self.last = -math.inf  # when the last snapshot began (time.monotonic)

    def restore(self) -> int:
        """Fold up to the stored positions and make the tables agree with the fold;
        returns the number of rows written to reconcile them."""
        stored = self.sink.positions()
        with collector_paused():
            try:
                self._resume(stored)
            except Refused as why:
                log.info("folding the log from offset 0: the snapshot is not used, as %s", why)
                self._fold_all(stored)
            held = self.sink.net_rows()
            fix = difference(held, canonical_rows(self.state.all_rows()))
        settle()
        self.sink.write_canonical(fix)
        self.next = dict(stored)
        return len(fix) + self.sink.settle()

    def _resume(self, stored: dict[int, int]) -> None:
        """The snapshot, and the records between it and `stored` taken; raises Refused
        if the snapshot cannot serve (then nothing of it is kept)."""
        found = snapshot.load(self.snapshots, self.topic, load(), self.secret)
        if any(offset > stored.get(p, 0) for p, offset in found.positions.items()):
            raise Refused(f"it is at {found.positions}, ahead of ClickHouse's {stored}")
        unmatched = dict(found.stamps)
        start = {p: at for p, (at, _) in unmatched.items()}
        taken = 0
        for batch in read_until(self.settings, self.topic, stored, start):
            fresh: list[Record] = []
            for record in batch:
                if unmatched.get(record.partition, (-1, ""))[0] == record.offset:
                    if snapshot.stamp(record) != unmatched.pop(record.partition):
                        raise Refused(f"partition {record.partition} holds other records")
                elif record.offset >= found.positions.get(record.partition, 0):
                    fresh.append(record)
            found.state.take(fresh, caught_up=False)
            snapshot.stamps_of(fresh, found.stamps)
            taken += len(fresh)
        if unmatched:
            raise Refused(f"the log no longer holds the records it was taken after ({unmatched})")
        if found.state.fold.out_of_order:
            found.state.refold()
        self.state, self.stamps, self.unsaved = found.state, found.stamps, taken
        log.info(
            "resumed from the snapshot at %s; %d events taken after it", found.positions, taken
        )

    def _fold_all(self, stored: dict[int, int]) -> None:
        self.state = IndicatorState(IndicatorFold(load(), self.secret))
        self.stamps = {}

        def records() -> Iterator[Record]:
            for batch in read_until(self.settings, self.topic, stored):
                snapshot.stamps_of(batch, self.stamps)
                yield from batch

        self.state.load(records())
        self.unsaved = len(self.state.events) + len(self.state.corrections)

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
        self.sink.write_recordings(recordings([r.event for r in fresh], self.secret))
        self.sink.write(taken.rows, reached)
        self.next.update(reached)
        snapshot.stamps_of(fresh, self.stamps)
        self.unsaved += len(fresh)
        settle()
        self.snapshot_when_due()
        return (
            f"{taken.new} new, {taken.duplicates} duplicates, {taken.undecodable} undecodable,"
            f" {taken.taken_back} taken back,"
            f" {len(taken.rows)} rows{' (re-folded)' if taken.refolded else ''};"
            f" fold {folded - started:.2f} s, write {time.perf_counter() - folded:.2f} s"
        )

    def snapshot_when_due(self) -> None:
        """Reap the snapshot child if it has ended; start one if enough is unsaved and
        the last began long enough ago. Runs after each batch and while none comes, so
        the events of a burst that ended while a child wrote are saved too."""
        if self.writer is not None:
            code = forked.ended(self.writer)
            if code is None:
                return
            if code == 0:
                log.info("snapshot written in %.1f s", time.monotonic() - self.last)
            else:
                log.warning(
                    "the snapshot child %d ended with %d; its events count as unsaved",
                    self.writer,
                    code,
                )
                self.unsaved += self.writing
            self.writer = None
        if not snapshot_due(self.unsaved, time.monotonic() - self.last, self.settings.processors):
            return
        taken = snapshot.Snapshot(self.state, dict(self.next), dict(self.stamps))
        self.writer = forked.start(lambda: snapshot.save(taken, self.topic, self.snapshots))
        self.writing, self.unsaved, self.last = self.unsaved, 0, time.monotonic()
        log.info("writing a snapshot at %s (child %d)", taken.positions, self.writer)


def snapshot_due(unsaved: int, since_last_s: float, every: ProcessorSettings) -> bool:
    return unsaved >= every.snapshot_every and since_last_s >= every.snapshot_interval_s


def run(settings: Settings) -> None:
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)
    processor = IndicatorProcessor(settings)
    fixed = processor.restore()
    processor.snapshot_when_due()
    log.info(
        "restored %d events up to %s; %d rows written to reconcile ClickHouse",
        len(processor.state.events),
        processor.next,
        fixed,
    )
    app = batch_app(
        settings, CONSUMER, processor.positions, processor.handle, processor.snapshot_when_due
    )
    faust.Worker(app, loglevel="INFO", redirect_stdouts=False).execute_from_commandline()
