"""The Kafka behaviours popreg relies on, checked against whatever broker is configured."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer, TopicPartition

from schemas.settings import Settings
from tests.conftest import StackUnderTest
from tests.kafka_helpers import consume_until, new_topic, produce, read_all

pytestmark = pytest.mark.stack


def test_records_of_one_key_stay_in_order_in_one_partition(settings: Settings) -> None:
    topic = new_topic(settings, partitions=6)
    keys = [f"household-{i}".encode() for i in range(20)]
    records = [(key, f"{key.decode()}:{seq}".encode()) for seq in range(25) for key in keys]
    produce(settings, topic, records)

    by_key: dict[bytes, list[tuple[int, int, int]]] = defaultdict(list)
    for msg in read_all(settings, topic, 6, len(records)):
        seq = int(msg.value().split(b":")[1])
        by_key[msg.key()].append((msg.partition(), msg.offset(), seq))
    assert set(by_key) == set(keys)
    for key, seen in by_key.items():
        assert len({partition for partition, _, _ in seen}) == 1, key
        in_offset_order = [seq for _, _, seq in sorted(seen, key=lambda s: s[1])]
        assert in_offset_order == list(range(25)), key


def test_idempotent_producer_writes_each_record_once(settings: Settings) -> None:
    topic = new_topic(settings, partitions=3)
    records = [(f"k{i % 7}".encode(), f"v{i}".encode()) for i in range(2000)]
    delivered = produce(settings, topic, records, **{"acks": "all", "linger.ms": 5})
    assert len(delivered) == 2000
    values = [m.value() for m in read_all(settings, topic, 3, 2000)]
    assert sorted(values) == sorted(v for _, v in records)
    assert len(set(values)) == 2000


def test_consumer_group_commits_and_resumes(settings: Settings) -> None:
    topic = new_topic(settings, partitions=2)
    produce(settings, topic, [(b"a", f"first-{i}".encode()) for i in range(10)])
    group = f"group-{uuid.uuid4().hex}"
    config = settings.kafka_config(
        **{
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
        }
    )
    first = Consumer(config)
    first.subscribe([topic])
    seen = consume_until(first, lambda s: len(s) >= 10)
    first.commit(asynchronous=False)
    first.close()
    assert sorted(m.value() for m in seen) == sorted(f"first-{i}".encode() for i in range(10))

    produce(settings, topic, [(b"a", f"second-{i}".encode()) for i in range(5)])
    second = Consumer(config)
    second.subscribe([topic])
    resumed = consume_until(second, lambda s: len(s) >= 5)
    second.close()
    assert [m.value() for m in resumed] == [f"second-{i}".encode() for i in range(5)]


def test_seek_reads_from_a_chosen_offset(settings: Settings) -> None:
    topic = new_topic(settings, partitions=1)
    produce(settings, topic, [(b"k", f"v{i}".encode()) for i in range(10)])
    consumer = Consumer(settings.kafka_config(**{"group.id": f"seek-{uuid.uuid4().hex}"}))
    consumer.assign([TopicPartition(topic, 0, 0)])
    consume_until(consumer, lambda s: len(s) >= 3)
    consumer.seek(TopicPartition(topic, 0, 7))
    after_seek = consume_until(consumer, lambda s: len(s) >= 3)
    consumer.close()
    assert [(m.offset(), m.value()) for m in after_seek] == [(7, b"v7"), (8, b"v8"), (9, b"v9")]


def test_headers_and_create_timestamps_survive(settings: Settings) -> None:
    topic = new_topic(settings, partitions=1)
    producer_config = settings.kafka_config(**{"enable.idempotence": True})
    from confluent_kafka import Producer

    producer = Producer(producer_config)
    timestamp_ms = 1_700_000_000_123
    producer.produce(
        topic,
        key=b"k",
        value=b"v",
        headers=[("schema", b"BirthRegistered/1"), ("trace", b"\x00\x01")],
        timestamp=timestamp_ms,
    )
    assert producer.flush(15) == 0
    (msg,) = read_all(settings, topic, 1, 1)
    assert msg.headers() == [("schema", b"BirthRegistered/1"), ("trace", b"\x00\x01")]
    assert msg.timestamp() == (TIMESTAMP_CREATE_TIME, timestamp_ms)


@pytest.mark.durability
def test_records_survive_a_broker_restart(test_stack: StackUnderTest) -> None:
    settings = test_stack.settings
    topic = new_topic(settings, partitions=3)
    records = [(f"k{i}".encode(), f"before-{i}".encode()) for i in range(300)]
    produce(settings, topic, records)
    test_stack.restart_broker()
    values = sorted(m.value() for m in read_all(settings, topic, 3, 300))
    assert values == sorted(v for _, v in records)
