"""`popreg rebuild indicators`: the ClickHouse tables from the whole log, at bulk speed.

The log is read with confluent-kafka up to end markers, folded once (the same fold
as the live processor, in the same history order), and the tables are replaced
with the rows, merged into one part each; the positions reached are stored, so the live
processor resumes there, from the snapshot of the fold written last (so that it need not
fold the log again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from projections import fold_snapshot as snapshot
from projections.clickhouse_sink import IndicatorSink
from projections.domain.indicator_rows import IndicatorFold, IndicatorState
from projections.domain.record import Record
from projections.domain.recordings import recordings
from projections.log import read_log
from projections.memory import bulk
from schemas.admin_units import AdminUnits
from schemas.settings import Settings

Advance = Callable[[str, int], None]


@dataclass(frozen=True)
class IndicatorRebuild:
    events: int
    rows: int
    read_s: float  # reading and decoding the log (and keeping each event's bytes)
    fold_s: float
    write_s: float
    snapshot_s: float  # not in `seconds`: the rebuild's rate compares with bare reading

    @property
    def seconds(self) -> float:
        return self.read_s + self.fold_s + self.write_s


@bulk
def rebuild_indicators(
    settings: Settings,
    client: Any,
    consumer: str,
    units: AdminUnits,
    secret: bytes,
    advance: Advance,
) -> IndicatorRebuild:
    topic = settings.topics.events
    started = time.perf_counter()
    ends, batches = read_log(settings, topic)

    stamps: dict[int, snapshot.Stamp] = {}
    sink = IndicatorSink(client, consumer, topic)
    sink.clear_recordings()

    def records() -> Iterator[Record]:
        for batch in batches:
            snapshot.stamps_of(batch, stamps)
            sink.write_recordings(recordings([r.event for r in batch], secret))
            yield from batch
            advance("read", len(batch))

    state = IndicatorState(IndicatorFold(units, secret))
    state.remember(records())
    read_done = time.perf_counter()
    state.refold()
    rows = list(state.all_rows())
    advance("fold", len(state.events))
    fold_done = time.perf_counter()
    sink.clear()
    sink.write(rows, ends)
    sink.merge()
    advance("write", len(rows))
    write_done = time.perf_counter()
    taken = snapshot.Snapshot(state, ends, stamps)
    snapshot.save(taken, topic, snapshot.directory(settings.resolved_data_dir))
    advance("snapshot", 1)
    return IndicatorRebuild(
        len(state.events),
        len(rows),
        read_done - started,
        fold_done - read_done,
        write_done - fold_done,
        time.perf_counter() - write_done,
    )
