"""Rejections announced on the rejected topic from where they are stored.

A rejection is stored in `rejected_events` with its batch, unannounced
(`005_rejection_outbox.sql`); the outbox produces what is stored and unannounced and
marks it announced once the broker has acknowledged it. So a rejection a killed
worker stored, or one whose delivery failed, is announced on a later pass, and none is
announced that was not stored. The notice holds every column but the raw bytes, which
stay in PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import KafkaError, Message, Producer
from psycopg.rows import dict_row

from projections.domain.state_rows import REJECTIONS

log = logging.getLogger("popreg.sink.state")

NOTICE = tuple(column for column in REJECTIONS if column != "raw")
QUOTED_NOTICE = [f'"{column}"' for column in NOTICE]
NoticeKey = tuple[str, int, int]  # topic, partition, offset of the rejected message
DELIVERY_ATTEMPTS = 3  # then what still failed waits for the next pass, or the next start


def _notice_key(row: dict[str, Any]) -> NoticeKey:
    return row["topic"], row["partition"], row["offset"]


class RejectionOutbox:
    """The stored, unannounced rejections, produced to `topic` and marked once delivered.

    `connection` gives the connection to read and mark them on (the sink's, which it
    opens again after a failure); `producer` should be idempotent with `acks=all`."""

    def __init__(
        self,
        producer: Producer,
        topic: str,
        connection: Callable[[], psycopg.Connection[Any]],
    ) -> None:
        self.producer, self.topic, self.connection = producer, topic, connection
        self._in_flight: set[NoticeKey] = set()  # produced, no delivery report yet
        self._delivered: list[NoticeKey] = []  # acknowledged, not yet marked announced
        self._failed: list[NoticeKey] = []  # delivery failed: produced again
        self._fatal: KafkaError | None = None

    def announce_pending(self) -> int:
        """Announce the stored rejections not yet announced: the last batch's, those a
        killed worker left, and those whose delivery failed; not those still in flight.
        Returns how many were produced."""
        with self.connection().cursor(row_factory=dict_row) as cur:
            pending = cur.execute(
                f"SELECT {', '.join(QUOTED_NOTICE)} FROM rejected_events WHERE NOT announced"
                ' ORDER BY topic, partition, "offset"'
            ).fetchall()
        self.connection().commit()
        fresh = {_notice_key(r): r for r in pending if _notice_key(r) not in self._in_flight}
        produced = len(fresh)
        for _ in range(DELIVERY_ATTEMPTS):  # a broker going away fails some deliveries
            for key, row in fresh.items():
                self._in_flight.add(key)
                self.producer.produce(
                    self.topic,
                    json.dumps({k: row[k] for k in NOTICE}, default=str).encode(),
                    str(row["offset"]).encode(),
                    on_delivery=self._on_delivery(key),
                )
            # What the broker has not taken within the flush stays queued (it may be
            # away a while) and is marked after a later pass, once delivered.
            self.producer.flush(30 if fresh else 0)
            if self._fatal is not None:
                raise RuntimeError(f"the rejection notices' producer failed: {self._fatal}")
            failed, self._failed = self._failed, []
            fresh = {key: fresh[key] for key in failed if key in fresh}
            if not fresh:
                break
        self._mark_delivered()
        return produced

    def _on_delivery(self, key: NoticeKey) -> Callable[..., None]:
        def delivered(error: KafkaError | None, _: Message) -> None:
            self._in_flight.discard(key)
            if error is None:
                self._delivered.append(key)
            elif error.fatal():
                self._fatal = error
            else:
                log.warning("rejection notice %s not delivered (%s): sending it again", key, error)
                self._failed.append(key)

        return delivered

    def _mark_delivered(self) -> None:
        delivered, self._delivered = self._delivered, []
        if not delivered:
            return
        topics, partitions, offsets = (list(column) for column in zip(*delivered, strict=True))
        with self.connection().transaction():
            self.connection().execute(
                "UPDATE rejected_events r SET announced = true"
                " FROM unnest(%s::text[], %s::int[], %s::bigint[]) AS a(topic, partition, o)"
                " WHERE NOT r.announced AND r.topic = a.topic AND r.partition = a.partition"
                ' AND r."offset" = a.o',
                (topics, partitions, offsets),
            )
