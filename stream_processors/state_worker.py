"""The state projector: a faust worker from `popreg.vital-events` to PostgreSQL.

Each decoded batch goes to the PostgreSQL sink, which applies the fold and writes the
rows, the rejections and the next offsets per partition in one transaction; the
worker resumes from those stored offsets (`stream_processors/batches.py`). Rejections
reach their topic through an outbox: stored with the batch, and after each batch (and on
start) whatever is stored unannounced is announced, a killed worker's and a failed
delivery's included.

What is operational about the host is decided here and handed to the sink: on the
embedded server, the backend that does the projector's writes runs at its niceness.
"""

from __future__ import annotations

import logging
import os

import faust

from infra.procs import session_niceness
from projections.domain.record import Record
from projections.postgres_sink import StateSink
from schemas.settings import Settings
from stream_processors.batches import batch_app

CONSUMER = "state"
log = logging.getLogger("popreg.sink.state")


def share_niceness(backend_pid: int) -> None:
    """The embedded server's backend does much of the projector's work (its writes);
    at the projector's niceness (`processors.nice`) it, too, leaves the CPU to the
    indicator path. PostgreSQL starts every backend in a session of its own, so the
    session's niceness is set too (`infra.procs.session_niceness`). Only on the
    embedded server: a remote pid names no process here."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        if os.getpriority(os.PRIO_PROCESS, backend_pid) >= ours:
            return
        os.setpriority(os.PRIO_PROCESS, backend_pid, ours)
    except OSError as error:  # gone already, or another user's: it keeps its niceness
        log.warning("PostgreSQL backend %d keeps its niceness: %s", backend_pid, error)
        return
    session_niceness(backend_pid, ours)


def run(settings: Settings) -> None:
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    sink = StateSink(settings, CONSUMER, share_niceness if settings.embedded_postgres else None)
    sink.outbox.announce_pending()

    def handle(records: list[Record], ends: dict[int, int], caught_up: bool) -> str:
        result = sink.apply(settings.topics.events, records, ends)
        return (
            f"applied {result.applied}, rejected {result.rejected + result.undecodable},"
            f" duplicates {result.duplicates}, re-folded {result.refolded};"
            f" fold {result.fold_s:.2f} s, write {result.write_s:.2f} s"
        )

    app = batch_app(settings, CONSUMER, sink.positions, handle)
    faust.Worker(app, loglevel="INFO", redirect_stdouts=False).execute_from_commandline()
