"""A sink's writes, one at a time and in order, behind the work that produces them.

The indicator processor's batch is a fold in this process (CPU, under the GIL) and a
write that ClickHouse does in another (the chDB host or a server): done in turn, each
waits for the other, and at 1,000 events/s on two cores the processor fell behind
(batches of 0.75-1.1 s, a third of it the write). Here the fold of batch n+1 runs while
batch n is written. Only one write is ever in flight, so rows and positions still reach
the sink in batch order, and what a crash leaves is what it left before: rows without
their positions, which the next start reconciles. A failed write ends the process at
once (`EXIT_SINK_FAILED`, as a failed batch does): the next worker resumes from the
positions the sink stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from stream_processors.batches import EXIT_SINK_FAILED, exit_now

log = logging.getLogger("popreg.worker.write_behind")
Batch = TypeVar("Batch")


class WriteBehind(Generic[Batch]):
    def __init__(self, write: Callable[[Batch], None], name: str) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-writer")
        self._pending: Future[float] | None = None

    def submit(self, batch: Batch) -> None:
        """Hand `batch` to the writer; call `wait` first, so that one write is in flight."""
        assert self._pending is None or self._pending.done(), "one write at a time"
        self._pending = self._pool.submit(self._timed, batch)
        self._pending.add_done_callback(_exit_if_failed)

    def wait(self) -> tuple[float, float]:
        """Until the last write is stored: (seconds it took, seconds waited for it)."""
        if self._pending is None:
            return 0.0, 0.0
        started = time.perf_counter()
        took = self._pending.result()
        return took, time.perf_counter() - started

    def _timed(self, batch: Batch) -> float:
        started = time.perf_counter()
        self._write(batch)
        return time.perf_counter() - started


def _exit_if_failed(done: Future[float]) -> None:
    error = done.exception()
    if error is not None:
        log.error(
            "a batch failed to write; the worker exits, to resume from stored positions",
            exc_info=error,
        )
        exit_now(EXIT_SINK_FAILED)
