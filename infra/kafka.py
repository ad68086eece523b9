"""Kafka operations the stack needs on any broker: topics and a produce/consume round trip."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from infra.procs import StackError
from schemas.settings import Settings


@dataclass(frozen=True)
class RoundTrip:
    topic: str
    partition: int
    offset: int
    millis: float


# librdkafka logs every refused connection; health checks expect some while a broker
# starts and report failures through their results, so their clients log nowhere.
_quiet = logging.getLogger("popreg.kafka.health")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def quiet_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    return settings.kafka_config(logger=_quiet, **extra)


def admin(settings: Settings) -> AdminClient:
    return AdminClient(quiet_config(settings))


def topic_partitions(settings: Settings, timeout_s: float = 5.0) -> dict[str, int]:
    metadata = admin(settings).list_topics(timeout=timeout_s)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def ensure_topics(settings: Settings) -> list[str]:
    """Create popreg's topics explicitly (tansu would auto-create them with 4 partitions).

    Returns the names created. An existing topic keeps its partition count, unless the
    settings name another count explicitly: then this raises.
    """
    t = settings.topics
    wanted = {t.events: settings.partitions, t.rejected: settings.partitions, t.healthcheck: 1}
    existing = topic_partitions(settings)
    for name, count in wanted.items():
        chosen = t.partitions is not None or name == t.healthcheck
        if name in existing and existing[name] != count and chosen:
            raise StackError(
                f"topic {name} has {existing[name]} partitions, settings ask for {count}; "
                f"popreg never repartitions a topic (it would break per-household order)"
            )
    missing = [
        NewTopic(
            name,
            num_partitions=count,
            replication_factor=t.replication_factor,
            config={"retention.ms": "-1", "retention.bytes": "-1"},
        )
        for name, count in wanted.items()
        if name not in existing
    ]
    if not missing:
        return []
    client = admin(settings)
    for name, future in client.create_topics(missing, request_timeout=15).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise StackError(f"could not create topic {name}: {exc}") from exc
    return [topic.topic for topic in missing]


def round_trip(settings: Settings, timeout_s: float = 10.0) -> RoundTrip:
    """Produce a unique message and read that exact record back.

    The consumer is assigned the offset from the delivery report, so this never relies
    on end offsets (which tansu reports wrongly: docs/design.md, "Reading the log").
    """
    topic = settings.topics.healthcheck
    if topic not in topic_partitions(settings, timeout_s=timeout_s):
        raise StackError(f"topic {topic} does not exist yet; `popreg up` creates it")
    marker = uuid.uuid4().bytes
    started = time.monotonic()
    producer = Producer(quiet_config(settings, **{"enable.idempotence": True, "acks": "all"}))
    delivered: list[Message] = []
    producer.produce(
        topic, value=marker, partition=0, on_delivery=lambda err, msg: delivered.append(msg)
    )
    producer.flush(timeout_s)
    if not delivered or delivered[0].error() is not None:
        error = delivered[0].error() if delivered else "no delivery report"
        raise StackError(f"produce to {topic} failed: {error}")
    offset = delivered[0].offset()
    assert offset is not None
    consumer = Consumer(
        quiet_config(settings, **{"group.id": "popreg-healthcheck", "enable.auto.commit": False})
    )
    try:
        consumer.assign([TopicPartition(topic, 0, offset)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            if msg.value() == marker:
                millis = (time.monotonic() - started) * 1000
                return RoundTrip(topic, 0, offset, millis)
    finally:
        consumer.close()
    raise StackError(f"produced to {topic}[0]@{offset} but could not read it back in {timeout_s}s")
