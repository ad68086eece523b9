"""Reading the whole event log in bulk, and knowing for certain where it ends.

End offsets cannot be trusted (tansu reports them too low: docs/design.md, "Reading the
log"), and "no message for a while" is a guess. So a reader first appends an end marker
to every partition (a record with the `popreg-marker` header and no value) and reads
each partition up to its marker's offset, taken from the delivery report. This is exact
on tansu and on Apache Kafka alike. Every consumer of the topic skips marker records.

Bulk work (rebuilds, replay) reads here with confluent-kafka directly, in batches,
without a consumer group: faust's per-message cost caps it at ~5k events/s.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from projections.domain.record import Record
from schemas.codec import DecodeError
from schemas.settings import Settings
from schemas.wire import Codec

MARKER_HEADER = "popreg-marker"
log = logging.getLogger("popreg.log")


Headers = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def is_marker(headers: Headers) -> bool:
    """Whether a record is an end marker; headers as confluent-kafka or faust give them."""
    if isinstance(headers, Mapping):
        return MARKER_HEADER in headers
    return any(name == MARKER_HEADER for name, _ in headers or ())


def place_markers(settings: Settings, topic: str, partitions: int) -> dict[int, int]:
    """Append an end marker to every partition; returns each marker's offset."""
    producer = Producer(settings.kafka_config(**{"enable.idempotence": True, "acks": "all"}))
    offsets: dict[int, int] = {}
    failures: list[str] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        partition, offset = message.partition(), message.offset()
        if error is not None or partition is None or offset is None:
            failures.append(f"partition {partition}: {error}")
        else:
            offsets[partition] = offset

    marker = uuid.uuid4().hex.encode()
    for partition in range(partitions):
        producer.produce(
            topic,
            None,
            partition=partition,
            headers=[(MARKER_HEADER, marker)],
            on_delivery=delivered,
        )
    producer.flush(60)
    if failures or len(offsets) != partitions:
        raise RuntimeError(f"could not place end markers on {topic}: {failures or 'timeout'}")
    return offsets


def partition_count(settings: Settings, topic: str) -> int:
    consumer = Consumer(settings.kafka_config(**{"group.id": "popreg-metadata"}))
    try:
        metadata = consumer.list_topics(topic, timeout=10)
    finally:
        consumer.close()
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise RuntimeError(f"topic {topic} not found: is the stack up? (popreg status)")
    return len(found.partitions)


def read_log(
    settings: Settings,
    topic: str,
    start: dict[int, int] | None = None,
    batch_size: int = 5000,
) -> tuple[dict[int, int], Iterator[list[Record]]]:
    """The end of every partition (its marker's offset) and the records up to it, in batches.

    `start` gives the first offset to read per partition (default 0).
    """
    partitions = partition_count(settings, topic)
    ends = place_markers(settings, topic, partitions)
    begin = {p: (start or {}).get(p, 0) for p in range(partitions)}
    return ends, _batches(settings, topic, begin, ends, batch_size)


def read_until(
    settings: Settings,
    topic: str,
    ends: dict[int, int],
    start: dict[int, int] | None = None,
    batch_size: int = 5000,
    keep: bool = False,
) -> Iterator[list[Record]]:
    """The records before `ends` (next offset per partition), from `start` (default 0),
    in batches; each event's bytes kept too if `keep`.

    Markers are placed first, so a record exists at every end however far the log
    has grown: the reader never waits for an offset that may not come."""
    place_markers(settings, topic, partition_count(settings, topic))
    begin = {p: (start or {}).get(p, 0) for p in ends}
    return _batches(settings, topic, begin, ends, batch_size, keep)


def _batches(
    settings: Settings,
    topic: str,
    begin: dict[int, int],
    ends: dict[int, int],
    batch_size: int,
    keep: bool = False,
) -> Iterator[list[Record]]:
    codec = Codec(settings.schema_registry_url)
    open_partitions = {p for p in ends if begin[p] < ends[p]}
    if not open_partitions:
        return
    consumer = Consumer(
        settings.kafka_config(
            **{
                "group.id": f"popreg-bulk-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "fetch.max.bytes": 52_428_800,
                "queued.max.messages.kbytes": 262_144,
            }
        )
    )
    consumer.assign([TopicPartition(topic, p, begin[p]) for p in sorted(open_partitions)])
    try:
        while open_partitions:
            batch: list[Record] = []
            for message in consumer.consume(batch_size, timeout=1.0):
                if message.error() is not None:
                    log.warning("read error on %s: %s", topic, message.error())
                    continue
                partition, offset = message.partition(), message.offset()
                assert partition is not None and offset is not None
                if partition not in open_partitions or offset > ends[partition]:
                    continue
                if offset == ends[partition]:
                    open_partitions.discard(partition)
                    consumer.pause([TopicPartition(topic, partition)])
                    continue
                if is_marker(message.headers()):
                    continue
                batch.append(decode(codec, partition, offset, message.value(), keep))
            if batch:
                yield batch
    finally:
        consumer.close()


def decode(
    codec: Codec, partition: int, offset: int, value: bytes | None, keep: bool = False
) -> Record:
    """The record of a message; a decoded event's bytes are dropped unless `keep` (bulk
    readers hold millions of events)."""
    try:
        return Record(partition, offset, codec.decode(value), None, value if keep else None)
    except DecodeError as error:
        return Record(partition, offset, None, error, value)
