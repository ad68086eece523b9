"""The indicator processor's write-behind: in order, one in flight, a failure ends the
process (the worker tests show the counts stay exact with it, across kill -9)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from stream_processors.batches import EXIT_SINK_FAILED
from stream_processors.write_behind import WriteBehind


def test_the_next_batch_is_worked_on_while_the_last_is_written_in_order() -> None:
    written: list[int] = []
    release = threading.Event()

    def write(batch: int) -> None:
        if batch == 1:
            assert release.wait(10)
        written.append(batch)

    writes: WriteBehind[int] = WriteBehind(write, "test")
    assert writes.wait() == (0.0, 0.0)  # nothing written yet
    writes.submit(1)
    assert written == []  # submit returned while batch 1 is still being written
    release.set()
    took, waited = writes.wait()
    assert written == [1] and took >= waited >= 0
    for batch in (2, 3, 4):
        writes.submit(batch)
        writes.wait()
    assert written == [1, 2, 3, 4]


def test_a_failed_write_ends_the_process_for_the_supervisor_to_restart() -> None:
    script = textwrap.dedent(
        """
        import time
        from stream_processors.write_behind import WriteBehind

        def write(batch):
            raise ConnectionError("ClickHouse went away")

        writes = WriteBehind(write, "test")
        writes.submit(1)
        time.sleep(30)  # idle: no next batch comes to notice the failure
        """
    )
    ended = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert ended.returncode == EXIT_SINK_FAILED
    assert "a batch failed to write; the worker exits" in ended.stderr
    assert "ClickHouse went away" in ended.stderr
