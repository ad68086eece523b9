"""The Python SDK commune systems publish with: one result per event, nothing silent.

    with Publisher(Settings()) as publisher:
        result = publisher.publish(event)
        results = publisher.publish_many(events)

The producer is idempotent (`enable.idempotence`, `acks=all`): librdkafka's retries
never duplicate or reorder a household's events. The key is the household id, so a
household's events stay ordered in one partition. Before producing, each event is
checked against the world (its commune exists on its date, nothing is in the future);
an event that fails is reported as rejected and never sent.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from uuid import UUID

from confluent_kafka import KafkaError, Message, Producer

from schemas.admin_units import load
from schemas.models import Context, Event
from schemas.settings import Settings
from schemas.validation import InvalidEvent, Problem, event_json, parse_event
from schemas.wire import Codec

log = logging.getLogger("popreg.publisher")

PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "batch.num.messages": 10000,
    "compression.type": "lz4",
    "delivery.timeout.ms": 120_000,
}
TYPE_HEADER = "popreg-type"


def producer_defaults(settings: Settings) -> dict[str, Any]:
    return {**PRODUCER_DEFAULTS, "linger.ms": settings.linger_ms}


@dataclass(frozen=True)
class PublishResult:
    """What happened to one event: on the topic at (partition, offset), or why not."""

    event_id: UUID
    type: str
    accepted: bool
    partition: int | None = None
    offset: int | None = None
    reason: str | None = None  # a rule or Kafka error code when not accepted
    detail: str | None = None
    problems: tuple[Problem, ...] = ()


class PublishError(RuntimeError):
    pass


class Publisher:
    def __init__(
        self,
        settings: Settings,
        *,
        check_world: bool = True,
        producer_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = settings.topics.events
        self.codec = Codec(settings.schema_registry_url)
        self._check_world = check_world
        config = {**producer_defaults(settings), **(producer_config or {})}
        self._producer = Producer(settings.kafka_config(logger=log, **config))
        self._closed = False

    def publish(self, event: Event, timeout_s: float = 60.0) -> PublishResult:
        """Publish one event and wait for the broker's answer."""
        ((_, result),) = self.stream([event], timeout_s=timeout_s)
        return result

    def publish_many(self, events: Iterable[Event], timeout_s: float = 60.0) -> list[PublishResult]:
        """Publish events in order; results come back in the same order."""
        return [result for _, result in sorted(self.stream(events, timeout_s=timeout_s))]

    def stream(
        self, events: Iterable[Event], timeout_s: float = 60.0
    ) -> Iterator[tuple[int, PublishResult]]:
        """Publish events, yielding (position in the input, result) as each is known.

        For long inputs: memory stays flat and a caller can show progress. A rejected
        event's result comes at once; delivered ones in the order the broker
        acknowledges them.
        """
        if self._closed:
            raise PublishError("this Publisher is closed")
        context = Context(load()) if self._check_world else None  # today, not at creation
        done: deque[tuple[int, PublishResult]] = deque()
        pending = 0

        def report(position: int, event: Event) -> Callable[[KafkaError | None, Message], None]:
            def on_delivery(error: KafkaError | None, message: Message) -> None:
                nonlocal pending
                pending -= 1
                done.append((position, delivery_result(event, error, message)))

            return on_delivery

        for position, event in enumerate(events):
            problems = problems_in(event, context)
            if problems:
                yield position, rejected(event, problems)
                continue
            self._produce(event, report(position, event))
            pending += 1
            self._producer.poll(0)
            yield from drain(done)
        while pending:
            if self._producer.flush(timeout_s) > 0 and not done:
                raise PublishError(
                    f"{pending} events still unacknowledged after {timeout_s:.0f} s: "
                    "is the broker up? (popreg status)"
                )
            yield from drain(done)
        yield from drain(done)

    def close(self, timeout_s: float = 60.0) -> None:
        if not self._closed:
            self._closed = True
            left = self._producer.flush(timeout_s)
            if left:
                log.error("%d events not acknowledged when the publisher closed", left)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _produce(
        self, event: Event, callback: Callable[[KafkaError | None, Message], None]
    ) -> None:
        value = self.codec.encode(event, self.topic)
        key = event.envelope.household_id.encode()
        headers: list[tuple[str, str | bytes | None]] = [(TYPE_HEADER, event.type.encode())]
        while True:
            try:
                self._producer.produce(
                    self.topic, value, key, headers=headers, on_delivery=callback
                )
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                self._producer.poll(0.1)


def problems_in(event: Event, context: Context | None) -> list[Problem]:
    if context is None:
        return []
    try:
        parse_event(event_json(event), context)
    except InvalidEvent as invalid:
        return invalid.problems
    return []


def drain(done: deque[tuple[int, PublishResult]]) -> Iterator[tuple[int, PublishResult]]:
    while done:
        yield done.popleft()


def rejected(event: Event, problems: list[Problem]) -> PublishResult:
    return PublishResult(
        event.envelope.event_id,
        event.type,
        False,
        reason=problems[0].rule,
        detail="; ".join(str(p) for p in problems),
        problems=tuple(problems),
    )


def delivery_result(event: Event, error: KafkaError | None, message: Message) -> PublishResult:
    if error is not None:
        return PublishResult(
            event.envelope.event_id, event.type, False, reason=error.name(), detail=error.str()
        )
    return PublishResult(
        event.envelope.event_id, event.type, True, message.partition(), message.offset()
    )
