"""Does the embedded broker slow down as a partition fills? (`python bench/broker_batches.py
RECORDS BATCH [FETCH_WAIT_MS]`: a scratch S3 store and tansu, nothing else.)

A topic is filled with RECORDS records produced BATCH at a time (each flush is one
record batch per partition, which tansu's S3 engine stores as an object); then a
stream of 400 records/s runs for 15 s into an empty topic and into the filled one,
each timed from produce to the broker's acknowledgement and to a consumer reading at
the end of the partition, which waits FETCH_WAIT_MS (default 250, as popreg's
workers do) for a fetch to fill.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from infra.broker import Broker
from infra.ports import free_ports
from infra.seaweed import Seaweed
from schemas.settings import Settings

RATE, SECONDS = 400, 15


def fill(settings: Settings, topic: str, records: int, batch: int) -> float:
    producer = Producer(settings.kafka_config(**{"linger.ms": 100, "acks": "all"}))
    started = time.perf_counter()
    for n in range(records):
        producer.produce(topic, b"x" * 150, key=str(n % 997).encode())
        if n % batch == batch - 1:
            producer.flush(60)
    producer.flush(60)
    return time.perf_counter() - started


def stream(settings: Settings, topic: str, fetch_wait_ms: int) -> str:
    """Acknowledgement and end-to-end p50 / p99 of a paced stream, and how much arrived."""
    acked: list[float] = []
    seen: list[float] = []
    producer = Producer(settings.kafka_config(**{"linger.ms": 100, "acks": "all"}))
    consumer = Consumer(
        settings.kafka_config(**{"group.id": f"bench-{topic}", "fetch.wait.max.ms": fetch_wait_ms})
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends = [
        TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p))[1])
        for p in partitions
    ]
    consumer.assign(ends)  # tansu's end offsets can be low: only stream records are timed
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            for message in consumer.consume(500, timeout=0.5):
                value = message.value()
                if message.error() is None and value and value.startswith(b"t"):
                    seen.append(time.perf_counter() - float(value[1:].decode()))

    reader = threading.Thread(target=consume)
    reader.start()
    time.sleep(3)
    started = time.perf_counter()
    for n in range(RATE * SECONDS):
        if (wait := started + n / RATE - time.perf_counter()) > 0:
            time.sleep(wait)
        sent = time.perf_counter()

        def delivered(error: object, message: Message, sent: float = sent) -> None:
            acked.append(time.perf_counter() - sent)

        producer.produce(topic, b"t%.6f" % sent, key=str(n % 997).encode(), on_delivery=delivered)
        producer.poll(0)
    producer.flush(60)
    deadline = time.perf_counter() + 60
    while len(seen) < RATE * SECONDS and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    reader.join()
    consumer.close()
    return (
        f"acks {p50_p99(acked)} ms, end to end {p50_p99(seen)} ms,"
        f" {len(seen):,} of {RATE * SECONDS:,} read within 60 s of the last"
    )


def p50_p99(values: list[float]) -> str:
    if len(values) < 3:
        return "-"
    p99 = statistics.quantiles(values, n=100)[98]
    return f"{statistics.median(values) * 1000:,.0f} / {p99 * 1000:,.0f}"


def main(records: int, batch: int, fetch_wait_ms: int) -> None:
    data = Path("/tmp/popreg-broker-batches")
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data, ports=free_ports())
    parts = [Seaweed(settings), Broker(settings)]
    for part in parts:
        part.start()
    try:
        admin = AdminClient(settings.kafka_config())
        for future in admin.create_topics(
            [NewTopic(t, 2, 1) for t in ("filled", "empty")]
        ).values():
            future.result()
        took = fill(settings, "filled", records, batch)
        print(f"filled: {records:,} records, {batch} a batch, in {took:.1f} s", flush=True)
        for topic in ("empty", "filled"):
            print(f"{topic}: {stream(settings, topic, fetch_wait_ms)}", flush=True)
    finally:
        for part in reversed(parts):
            part.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 250)
