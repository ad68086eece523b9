"""Baselines for `popreg bench`: what the broker, PostgreSQL and ClickHouse do alone.

Each moves data popreg already wrote, the same way popreg moves it, with no popreg
logic in between: the log's bytes consumed undecoded, the `persons` rows copied into a
scratch table with COPY, the `population_deltas` rows inserted into a scratch table
through the same HTTP endpoint and format as the indicator processor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
from confluent_kafka import Consumer, TopicPartition

from bench.results import Figure
from infra.clickhouse import writer_client
from projections.clickhouse_sink import NativeInserts
from projections.domain.indicator_rows import COLUMNS as INDICATOR_COLUMNS
from projections.domain.state_rows import COLUMNS
from projections.log import partition_count, place_markers
from projections.postgres_writes import copy_rows
from schemas.settings import Settings

ROWS = 200_000


def raw_consume_rate(settings: Settings) -> float:
    """confluent-kafka consuming the whole log's bytes, nothing decoded (records/s)."""
    topic = settings.topics.events
    ends = place_markers(settings, topic, partition_count(settings, topic))
    consumer = Consumer(
        settings.kafka_config(
            **{
                "group.id": "popreg-bench-raw",
                "enable.auto.commit": False,
                "fetch.max.bytes": 52_428_800,
                "queued.max.messages.kbytes": 262_144,
            }
        )
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    left, count = dict(ends), 0
    started = time.perf_counter()
    try:
        while left:
            for message in consumer.consume(5000, timeout=1.0):
                partition, offset = message.partition(), message.offset()
                if message.error() is not None or partition not in left or offset is None:
                    continue
                count += 1
                if offset >= left[partition]:
                    del left[partition]
    finally:
        consumer.close()
    return count / (time.perf_counter() - started)


def copy_rate(settings: Settings) -> float:
    """COPY of `persons` rows into a scratch table shaped like it (rows/s)."""
    columns = COLUMNS["persons"]
    names = ", ".join(f'"{c}"' for c in columns)
    with psycopg.connect(settings.postgres_url) as conn, conn.cursor() as cur:
        rows = cur.execute(f"SELECT {names} FROM persons LIMIT {ROWS}").fetchall()
        cur.execute("CREATE TEMP TABLE bench_copy (LIKE persons INCLUDING ALL)")
        started = time.perf_counter()
        copy_rows(cur, "bench_copy", columns, rows)
        conn.commit()
        return len(rows) / (time.perf_counter() - started)


def clickhouse_insert_rate(settings: Settings) -> float:
    """`population_deltas` rows inserted into a scratch copy of the table (rows/s)."""
    columns = INDICATOR_COLUMNS["population_deltas"]
    client = writer_client(settings)
    try:
        rows = client.query(
            f"SELECT {', '.join(columns)} FROM popreg.population_deltas LIMIT {ROWS}"
        ).result_rows
        client.command("DROP TABLE IF EXISTS popreg.bench_insert")
        client.command("CREATE TABLE popreg.bench_insert AS popreg.population_deltas")
        started = time.perf_counter()
        NativeInserts(client).insert("popreg.bench_insert", columns, rows)
        seconds = time.perf_counter() - started
        client.command("DROP TABLE popreg.bench_insert")
    finally:
        client.close()
    return len(rows) / seconds


def baseline_figures(settings: Settings) -> Iterator[Figure]:
    yield Figure(
        "raw confluent-kafka consume, undecoded (baseline)", raw_consume_rate(settings), "records/s"
    )
    yield Figure(
        "PostgreSQL COPY into a persons-shaped table (baseline)", copy_rate(settings), "rows/s"
    )
    yield Figure(
        "ClickHouse insert of population deltas (baseline)",
        clickhouse_insert_rate(settings),
        "rows/s",
    )
