"""Small producer/consumer helpers for tests that talk to the broker directly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from schemas.settings import Settings


def new_topic(settings: Settings, partitions: int) -> str:
    name = f"test.{uuid.uuid4().hex[:12]}"
    admin = AdminClient(settings.kafka_config())
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    for future in futures.values():
        future.result(15)
    return name


def produce(
    settings: Settings,
    topic: str,
    records: list[tuple[bytes | None, bytes]],
    **config: object,
) -> list[Message]:
    producer = Producer(settings.kafka_config(**{"enable.idempotence": True, **config}))
    delivered: list[Message] = []
    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=lambda e, m: delivered.append(m))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert all(m.error() is None for m in delivered)
    return delivered


def consume_until(
    consumer: Consumer, done: Callable[[list[Message]], bool], timeout_s: float = 20.0
) -> list[Message]:
    """Poll until `done(messages)` holds; fail at the deadline with what was seen."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while not done(seen):
        assert time.monotonic() < deadline, f"timed out after {len(seen)} messages"
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            seen.append(msg)
    return seen


def read_all(settings: Settings, topic: str, partitions: int, expected: int) -> list[Message]:
    """Read `expected` records from offset 0 of every partition, without a consumer group."""
    consumer = Consumer(settings.kafka_config(**{"group.id": f"read-{uuid.uuid4().hex}"}))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    try:
        return consume_until(consumer, lambda seen: len(seen) >= expected)
    finally:
        consumer.close()


SENTINEL = b"popreg-test-sentinel"


def read_to_sentinels(settings: Settings, topic: str, partitions: int) -> list[Message]:
    """Everything on a topic, known complete without trusting end offsets (tansu's are low).

    A sentinel is produced to every partition; a partition is read once its sentinel
    shows up. Returns the records before the sentinels.
    """
    producer = Producer(settings.kafka_config(**{"enable.idempotence": True}))
    for partition in range(partitions):
        producer.produce(topic, SENTINEL, partition=partition)
    assert producer.flush(30) == 0
    consumer = Consumer(settings.kafka_config(**{"group.id": f"read-{uuid.uuid4().hex}"}))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    done: set[int] = set()
    records: list[Message] = []
    deadline = time.monotonic() + 30
    try:
        while len(done) < partitions:
            assert time.monotonic() < deadline, f"sentinels seen in {sorted(done)} only"
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            if msg.value() == SENTINEL:
                done.add(msg.partition())
            elif msg.partition() not in done:
                records.append(msg)
    finally:
        consumer.close()
    return records
