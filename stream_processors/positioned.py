"""A faust app that resumes from the positions its sink stored, not from Kafka's commits.

Each processor writes "next offset to read" per partition in the same transaction as
the rows it derived, so after a crash between the sink's commit and Kafka's the sink
is the truth. faust seeks every assigned partition to its committed offset when
partitions are assigned; this app supplies the stored positions at exactly that point
(docs/design.md, "Reading the log": a seek in an `on_partitions_assigned` handler races
faust's own and can read events twice; supplied here, the kill -9 tests find every
event exactly once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import aiokafka
import faust
from faust.types import TP


class PromptConsumer(aiokafka.AIOKafkaConsumer):  # type: ignore[misc]
    """aiokafka's consumer, asking the broker to answer a fetch within
    `processors.fetch_wait_ms` (set once per worker process by `PositionedApp`).

    faust hard-codes `fetch_max_wait_ms=1500`, and tansu answers a fetch that found no
    new data only when that wait is over, so events would wait up to 1.5 s in the
    broker before any processor saw them (at 1,000 events/s a batch every ~2.2 s).
    Shorter is not better: with every fetch the embedded broker reads S3 objects, and
    two consumers fetching every 100 ms under 1,000 events/s cost the S3 store about a
    quarter of a core more than every 300 ms (docs/decisions/0011)."""

    fetch_max_wait_ms = 250

    def __init__(self, *topics: Any, **kwargs: Any) -> None:
        super().__init__(*topics, **{**kwargs, "fetch_max_wait_ms": self.fetch_max_wait_ms})


# faust's driver builds its consumer as `aiokafka.AIOKafkaConsumer(...)`: workers import
# this module, so theirs is the prompt one.
aiokafka.AIOKafkaConsumer = PromptConsumer

Positions = Callable[[list[tuple[str, int]]], dict[tuple[str, int], int]]


class PositionedApp(faust.App):
    def __init__(self, *args: Any, positions: Positions, fetch_wait_ms: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._positions = positions
        PromptConsumer.fetch_max_wait_ms = fetch_wait_ms

    def _new_consumer(self) -> Any:
        consumer = super()._new_consumer()

        async def seek_to_stored() -> Mapping[TP, int]:
            assigned = sorted(consumer.assignment())
            keys = [(tp.topic, tp.partition) for tp in assigned]
            loop = asyncio.get_running_loop()
            stored = await loop.run_in_executor(None, self._positions, keys)
            offsets = {tp: stored.get((tp.topic, tp.partition), 0) for tp in assigned}
            if offsets:
                await consumer.seek_wait(offsets)
            return offsets

        consumer.seek_to_committed = seek_to_stored  # type: ignore[attr-defined]
        return consumer
