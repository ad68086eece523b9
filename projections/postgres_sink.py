"""The state projector's writes: one transaction per batch, positions included.

For each batch (in arrival order): messages below the stored position are
redeliveries and are skipped; undecodable ones become rejections; an event_id
already archived is a duplicate. The new events are folded by the re-fold
(`projections.domain.refold`) against the archive in PostgreSQL
(`projections.postgres_store`): in history order to the entities they touch, late
ones and corrections re-folding their closure from the entity versions before them.
The archive, entity links and versions, current rows, rejections, counts and the next
offset per partition are committed together; rejections are then announced on the
rejected topic (`projections.rejection_outbox`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
from confluent_kafka import Producer
from psycopg.types.json import Jsonb

from projections.domain.fold import HOUSEHOLD
from projections.domain.history import verdict
from projections.domain.record import Record
from projections.domain.refold import Refold, Refolded, unseen
from projections.domain.state_rows import (
    COLUMNS,
    EVENTS,
    LINKS,
    VERSIONS,
    current_rows,
    event_row,
)
from projections.postgres_store import PostgresStore
from projections.postgres_writes import copy_rows, store_positions
from projections.rejection_outbox import RejectionOutbox
from schemas.admin_units import AdminUnits, load
from schemas.codec import DecodeError
from schemas.models import Event
from schemas.settings import PROJECTOR_LOGIN, Settings
from schemas.validation import parse_event

log = logging.getLogger("popreg.sink.state")
Outcome = tuple[str, str | None]  # an event's outcome and reason in the archive


@dataclass
class BatchResult:
    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    redelivered: int = 0
    undecodable: int = 0
    refolded: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)  # rows of rejected_events
    fold_s: float = 0.0  # reading what the batch touches, folding and re-folding
    write_s: float = 0.0  # writing the rows, committing, announcing rejections

    def add(self, other: BatchResult) -> None:
        """Count `other` in too (a batch applied in parts)."""
        for name in ("applied", "rejected", "duplicates", "redelivered", "undecodable"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refolded += other.refolded
        self.rejections += other.rejections
        self.fold_s += other.fold_s
        self.write_s += other.write_s


# SQLSTATE classes of a refusal caused by what a record holds, not by the server or the
# code: data exceptions (22: an untranslatable character, a value out of range),
# integrity violations (23) and an exception raised by a trigger or check (P0001).
# Anything else (connection, privileges, a missing table) fails every record alike: the
# worker exits and is restarted, and `popreg status` shows its last error.
RECORD_REFUSALS = ("22", "23", "P0")
STORE_REFUSED = "store_refused"
ApplyOnce = Callable[[list[Record], dict[int, int]], BatchResult]


def refused_by_store(error: BaseException) -> bool:
    """Whether PostgreSQL refused a write because of what one record holds."""
    state = error.sqlstate if isinstance(error, psycopg.Error) else None
    return state is not None and state.startswith(RECORD_REFUSALS)


def isolating(apply_once: ApplyOnce, records: list[Record], ends: dict[int, int]) -> BatchResult:
    """Apply `records` in one transaction; if the store refuses one of them, split the
    batch in halves until each refused record stands alone, keep it as a rejection
    (`store_refused`, raw bytes kept, counted as undecodable: it never reaches the fold)
    and apply the rest. No record can stop the projector this way; each part is an
    ordinary smaller batch, which the fold handles in any arrival order."""
    try:
        return apply_once(records, ends)
    except psycopg.Error as error:
        if not refused_by_store(error):
            raise
        log.warning(
            "PostgreSQL refused a batch of %d (%s %s): isolating the record that caused it",
            len(records),
            error.sqlstate,
            type(error).__name__,
        )
        if len(records) == 1:
            return apply_once([_refused(records[0], error)], ends)
    result = BatchResult()
    middle = len(records) // 2
    for part in (records[:middle], records[middle:]):
        if part:
            result.add(isolating(apply_once, part, ends_of(part)))
    result.add(apply_once([], ends))  # positions past markers after the last record
    return result


def ends_of(records: list[Record]) -> dict[int, int]:
    """The next offset per partition after `records`."""
    ends: dict[int, int] = {}
    for record in records:
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


def _refused(record: Record, error: psycopg.Error) -> Record:
    """The record as a message the store refused: rejected before the fold, with the
    server's reason (its primary message names the fault, not the data)."""
    message = error.diag.message_primary or type(error).__name__
    what = (
        "event" if record.event is None else f"{record.event.type} {record.event.envelope.event_id}"
    )
    detail = f"PostgreSQL refused {what} ({error.sqlstate}: {message})"
    return Record(
        record.partition, record.offset, None, DecodeError(STORE_REFUSED, detail), record.value
    )


# A new connection's backend pid, for what the operator wants done with it (the
# embedded server's backend shares the worker's niceness: `stream_processors/state_worker`).
OnConnect = Callable[[int], None]


class StateSink:
    """The live projector's PostgreSQL side: batches applied, rejections announced."""

    def __init__(
        self, settings: Settings, consumer: str, on_connect: OnConnect | None = None
    ) -> None:
        self.url = settings.login_url(PROJECTOR_LOGIN)  # popreg_projector only
        self.consumer = consumer
        self.on_connect = on_connect
        self.units = load()
        self._conn: psycopg.Connection[Any] | None = None
        producer = Producer(settings.kafka_config(**{"enable.idempotence": True, "acks": "all"}))
        self.outbox = RejectionOutbox(producer, settings.topics.rejected, self.connection)

    def connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, application_name=f"popreg-{self.consumer}")
            if self.on_connect is not None:
                self.on_connect(self._conn.info.backend_pid)
        return self._conn

    def positions(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT topic, partition, next_offset FROM consumer_positions WHERE consumer = %s",
                (self.consumer,),
            ).fetchall()
        stored = {(t, p): o for t, p, o in rows}
        return {k: stored[k] for k in keys if k in stored}

    def apply(self, topic: str, records: list[Record], ends: dict[int, int]) -> BatchResult:
        started = time.perf_counter()
        try:
            result = isolating(partial(self._apply_once, topic), records, ends)
        except psycopg.OperationalError:
            self._conn = None
            raise
        self.outbox.announce_pending()
        result.write_s = time.perf_counter() - started - result.fold_s
        return result

    def _apply_once(self, topic: str, records: list[Record], ends: dict[int, int]) -> BatchResult:
        conn = self.connection()
        with conn.transaction():
            return Batch(conn, topic, self.consumer, self.units).run(records, ends)


class Batch:
    """One batch's work inside its transaction: what is new, its re-fold, its rows."""

    def __init__(
        self, conn: psycopg.Connection[Any], topic: str, consumer: str, units: AdminUnits
    ) -> None:
        self.conn, self.topic, self.consumer, self.units = conn, topic, consumer, units
        self.archive: dict[UUID, tuple[Record, Event]] = {}  # this batch's new events
        self.result = BatchResult()

    def run(self, records: list[Record], ends: dict[int, int]) -> BatchResult:
        started = time.perf_counter()
        stored = self._stored_positions()
        fresh = [r for r in records if r.offset >= stored.get(r.partition, 0)]
        self.result.redelivered = len(records) - len(fresh)
        for record in fresh:
            if record.event is None:
                assert record.error is not None
                self.result.undecodable += 1
                self._reject_message(record, record.error.reason, record.error.detail)
        store = PostgresStore(self.conn)
        decoded = [(r, r.event) for r in fresh if r.event is not None]
        events, self.result.duplicates = unseen(store, decoded)
        self.archive = {e.envelope.event_id: (r, e) for r, e in events}
        done = Refold(store, self.units, log.warning).run([e for _, e in events])
        self.result.refolded = done.refolded
        self.result.fold_s = time.perf_counter() - started
        self._write(done, ends, stored)
        return self.result

    def _stored_positions(self) -> dict[int, int]:
        rows = self.conn.execute(
            "SELECT partition, next_offset FROM consumer_positions"
            " WHERE consumer = %s AND topic = %s FOR UPDATE",
            (self.consumer, self.topic),
        ).fetchall()
        return dict(rows)

    # --- writing ------------------------------------------------------------------------

    def _reject_message(self, record: Record, reason: str, detail: str) -> None:
        self.result.rejections.append(
            {
                "topic": self.topic,
                "partition": record.partition,
                "offset": record.offset,
                "event_id": None,
                "event_type": None,
                "commune_code": None,
                "reason": reason,
                "detail": detail,
                "raw": record.value,
            }
        )

    def _write(self, done: Refolded, ends: dict[int, int], stored: dict[int, int]) -> None:
        cur = self.conn.cursor()
        outcome = {eid: verdict(r) for eid, r in done.outcomes.items()}
        copy_rows(
            cur,
            "events",
            EVENTS,
            (
                event_row(e, self.topic, r.partition, r.offset, *outcome[eid])
                for eid, (r, e) in self.archive.items()
            ),
        )
        cur.executemany(
            "UPDATE events SET outcome = %s, reason = %s WHERE event_id = %s",
            [(*o, eid) for eid, o in outcome.items() if eid not in self.archive],
        )
        copy_rows(  # a re-applied archived event's old links were deleted by its re-fold
            cur,
            "event_entities",
            LINKS,
            [(k, i, *key) for key, entities in done.links.values() for k, i in entities],
        )
        copy_rows(
            cur,
            "entity_versions",
            VERSIONS,
            (
                (k, i, *key, None if state is None else Jsonb(state))
                for (k, i), kept in done.versions.items()
                for key, state in kept.items()
            ),
        )
        self._write_current(cur, done)
        self._write_rejections(cur, done, outcome)
        store_positions(
            cur,
            self.consumer,
            self.topic,
            {p: max(o, stored.get(p, 0)) for p, o in ends.items()},
        )
        self._count(outcome, done.previous)

    def _count(self, outcome: dict[UUID, Outcome], previous: dict[UUID, str]) -> None:
        """Outcome counts moved by this batch: new events, and re-folded ones' changes."""
        change = Counter(status for status, _ in outcome.values())
        change.subtract(previous[eid] for eid in outcome if eid in previous)
        self.result.applied = change["applied"]
        self.result.rejected = change["rejected"]
        self.conn.execute(
            "INSERT INTO processor_counts AS c (consumer, applied, rejected, voided, duplicates,"
            " undecodable, refolded) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (consumer) DO UPDATE SET applied = c.applied + EXCLUDED.applied,"
            " rejected = c.rejected + EXCLUDED.rejected, voided = c.voided + EXCLUDED.voided,"
            " duplicates = c.duplicates + EXCLUDED.duplicates,"
            " undecodable = c.undecodable + EXCLUDED.undecodable,"
            " refolded = c.refolded + EXCLUDED.refolded, updated_at = now()",
            (
                self.consumer,
                change["applied"],
                change["rejected"],
                change["voided"],
                self.result.duplicates,
                self.result.undecodable,
                self.result.refolded,
            ),
        )

    def _write_current(self, cur: psycopg.Cursor[Any], done: Refolded) -> None:
        households = sorted(i for k, i in done.dirty if k == HOUSEHOLD)
        persons = sorted(i for k, i in done.dirty if k != HOUSEHOLD)
        cur.execute("DELETE FROM household_members WHERE household_id = ANY(%s)", (households,))
        cur.execute("DELETE FROM households WHERE household_id = ANY(%s)", (households,))
        cur.execute("DELETE FROM persons WHERE person_id = ANY(%s)", (persons,))
        for table, rows in current_rows(done.registry, households, persons).items():
            copy_rows(cur, table, COLUMNS[table], rows)

    def _write_rejections(
        self, cur: psycopg.Cursor[Any], done: Refolded, outcome: dict[UUID, Outcome]
    ) -> None:
        cur.execute(
            "DELETE FROM rejected_events WHERE event_id = ANY(%s)",
            ([eid for eid, o in outcome.items() if o[0] != "rejected"],),
        )
        for eid, (status, reason) in outcome.items():
            rejection = done.outcomes[eid]
            if status != "rejected" or rejection is None:
                continue
            if eid in self.archive:
                record, event = self.archive[eid]
                partition, offset = record.partition, record.offset
            else:
                row = cur.execute(
                    'SELECT partition, "offset", payload FROM events WHERE event_id = %s', (eid,)
                ).fetchone()
                assert row is not None
                partition, offset, event = row[0], row[1], parse_event(row[2])
            self.result.rejections.append(
                {
                    "topic": self.topic,
                    "partition": partition,
                    "offset": offset,
                    "event_id": eid,
                    "event_type": event.type,
                    "commune_code": event.envelope.commune_code,
                    "reason": reason,
                    "detail": rejection.detail,
                    "raw": None,
                }
            )
        for row in self.result.rejections:  # a re-folded event rejected before was announced
            row["announced"] = (
                row["event_id"] is not None and done.previous.get(row["event_id"]) == "rejected"
            )
        cur.executemany(
            'INSERT INTO rejected_events (topic, partition, "offset", event_id, event_type,'
            " commune_code, reason, detail, raw, announced) VALUES (%(topic)s, %(partition)s,"
            " %(offset)s, %(event_id)s, %(event_type)s, %(commune_code)s, %(reason)s,"
            " %(detail)s, %(raw)s, %(announced)s)"
            ' ON CONFLICT (topic, partition, "offset") DO UPDATE SET reason = EXCLUDED.reason,'
            " detail = EXCLUDED.detail,"
            " announced = rejected_events.announced AND EXCLUDED.announced",
            self.result.rejections,
        )
