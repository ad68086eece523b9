"""The freshness measurement against the real stack: when it starts, and what it says
when events never arrive."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bench import freshness
from bench.indicators import caught_up
from infra.processors import PROCESSORS, positions
from schemas.settings import Settings
from tests.id_space import Ids, synthetic

pytestmark = pytest.mark.stack


class NeverFound:
    """An analysts' client whose every poll finds nothing, as if no processor ran."""

    def query(self, sql: str, parameters: dict[str, Any]) -> Any:
        return type("Result", (), {"result_rows": []})()


def test_samples_that_never_arrive_are_reported_and_polling_stops(settings: Settings) -> None:
    events = synthetic(Ids.new(), households=5, years=(2024, 2024), seed=3, error_rate=0.0)
    since = min(e.envelope.recorded_at for e in events)
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="sampled events never reached ClickHouse"):
        freshness.measure(settings, NeverFound(), events, since, 200, 0.2, timeout_s=0.5)
    deadline = time.monotonic() + 5
    while left := [t for t in set(threading.enumerate()) - before if t.is_alive()]:
        assert time.monotonic() < deadline, f"still polling: {left}"
        time.sleep(0.05)


def test_the_stream_waits_until_both_processors_read_past_its_own_markers(
    settings: Settings,
) -> None:
    """Positions that merely reach the markers, as an earlier run leaves them, would let
    the stream start while a processor is still loading its fold."""
    caught_up(settings, timeout_s=120)
    before = {name: positions(settings, name) for name in PROCESSORS}
    caught_up(settings, timeout_s=120)
    for name in PROCESSORS:
        after = positions(settings, name)
        assert all(after[p] > at for p, at in before[name].items()), (name, before, after)
