"""The state projector: a faust worker from `popreg.vital-events` to PostgreSQL.

Each decoded batch goes to the PostgreSQL sink, which applies the fold and writes the
rows, the rejections and the next offsets per partition in one transaction; the
worker resumes from those stored offsets (`stream_processors/batches.py`). Rejections
reach their topic through an outbox: stored with the batch, and after each batch (and on
start) whatever is stored unannounced is announced, a killed worker's and a failed
delivery's included.
"""

from __future__ import annotations

import faust

from projections.domain.record import Record
from projections.postgres_sink import StateSink
from schemas.settings import Settings
from stream_processors.batches import batch_app

CONSUMER = "state"


def run(settings: Settings) -> None:
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    sink = StateSink(settings, CONSUMER)
    sink.announce_pending()

    def handle(records: list[Record], ends: dict[int, int], caught_up: bool) -> str:
        result = sink.apply(settings.topics.events, records, ends)
        return (
            f"applied {result.applied}, rejected {result.rejected + result.undecodable},"
            f" duplicates {result.duplicates}, re-folded {result.refolded};"
            f" fold {result.fold_s:.2f} s, write {result.write_s:.2f} s"
        )

    app = batch_app(settings, CONSUMER, sink.positions, handle)
    faust.Worker(app, loglevel="INFO", redirect_stdouts=False).execute_from_commandline()
