"""Putting events on the stack's events topic: published through the SDK (`publish`,
the offsets written), or produced as raw bytes (`produce_raw`, e.g. Avro bodies of
records no valid event has, from `body_of`)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import fastavro
from confluent_kafka import KafkaError, Message, Producer

from producers.publisher import Publisher, PublishResult
from schemas.codec import current_schemas
from schemas.models import Event
from schemas.settings import Settings

Offsets = dict[int, int]  # partition -> highest offset written there


def publish(settings: Settings, events: Sequence[Event], check_world: bool = False) -> Offsets:
    """Publish through the SDK; every event must be accepted. The offsets written."""
    with Publisher(settings, check_world=check_world) as publisher:
        results = publisher.publish_many(events)
    refused = [r for r in results if not r.accepted]
    assert not refused, f"{len(refused)} events not published, e.g. {refused[:3]}"
    return offsets_of(results)


def offsets_of(results: Iterable[PublishResult]) -> Offsets:
    found: Offsets = {}
    for r in results:
        assert r.partition is not None and r.offset is not None
        found[r.partition] = max(r.offset, found.get(r.partition, -1))
    return found


def merge(*many: Offsets) -> Offsets:
    found: Offsets = {}
    for offsets in many:
        for partition, offset in offsets.items():
            found[partition] = max(offset, found.get(partition, -1))
    return found


def produce_raw(
    settings: Settings, messages: Sequence[tuple[bytes | None, bytes | None]], partition: int
) -> list[int]:
    """Produce (key, value) messages as they are, in order, to one partition of the
    events topic; their offsets."""
    producer = Producer(settings.kafka_config(**{"enable.idempotence": True, "acks": "all"}))
    delivered: list[Message] = []
    errors: list[KafkaError] = []

    def report(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
        delivered.append(message)

    for key, value in messages:
        producer.produce(
            settings.topics.events, value, key, partition=partition, on_delivery=report
        )
    assert producer.flush(30) == 0
    assert not errors, errors
    offsets = [m.offset() for m in delivered]
    assert all(o is not None for o in offsets)
    return [o for o in offsets if o is not None]


def body_of(record: dict[str, Any], name: str) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, current_schemas()[name].parsed, record)
    return out.getvalue()
