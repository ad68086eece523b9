"""Waiting for the processors. Nothing here sleeps and hopes: each wait polls what a
processor stores with its data (its positions) until they pass the offsets the
producer reported, or fails at a deadline saying what it saw."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from projections.log import partition_count, place_markers
from schemas.settings import Settings
from tests.indicator_store import sink
from tests.producing import Offsets
from tests.state_store import positions


def wait_until(check: Callable[[], bool], timeout_s: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s: {what()}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def projected(settings: Settings, offsets: Offsets) -> bool:
    """Whether the projector has committed every offset up to `offsets` (inclusive)."""
    stored = positions(settings)
    return all(stored.get(p, 0) > o for p, o in offsets.items())


def wait_projected(settings: Settings, offsets: Offsets, timeout_s: float = 60.0) -> None:
    """Until the projector has committed every offset up to `offsets` (inclusive)."""
    wait_until(
        lambda: projected(settings, offsets),
        timeout_s,
        lambda: f"projector positions {positions(settings)}, want > {offsets}",
    )


def quiesce(settings: Settings, timeout_s: float = 60.0) -> None:
    """Until the projector has read everything on the topic so far (end markers)."""
    topic = settings.topics.events
    ends = place_markers(settings, topic, partition_count(settings, topic))
    wait_projected(settings, ends, timeout_s)


def wait_counted(client: Any, settings: Settings, offsets: Offsets, timeout_s: float = 120) -> None:
    """Until the processor has stored positions past `offsets` (inclusive)."""
    wait_until(
        lambda: all(sink(client, settings).positions().get(p, 0) > o for p, o in offsets.items()),
        timeout_s,
        lambda: f"indicator positions {sink(client, settings).positions()}, want > {offsets}",
    )
