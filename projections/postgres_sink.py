"""The state projector's writes: one transaction per batch, positions included.

For each batch (in arrival order): messages below the stored position are
redeliveries and are skipped; undecodable ones become rejections; an event_id
already archived is a duplicate. An event in history order is applied with the fold
to the entities it touches, loaded from PostgreSQL. A late event (an entity it
touches already has a later event), a correction, or an event an archived correction
targets re-folds its closure from the entity versions before it (see
`stream_processors/README.md`). The archive, entity links and versions, current
rows, rejections, counts and the next offset per partition are committed together;
rejections are then also published to the rejected topic.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
from confluent_kafka import KafkaError, Message, Producer
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from infra.procs import session_niceness
from projections.domain import fold, history
from projections.domain.entity_json import household_from, household_json, person_from, person_json
from projections.domain.fold import HOUSEHOLD, Entity, Rejection
from projections.domain.history import VOIDED, Key, is_correction, key_of, verdict
from projections.domain.record import Record
from projections.domain.state import Registry
from projections.domain.state_rows import (
    COLUMNS,
    EVENTS,
    LINKS,
    REJECTIONS,
    VERSIONS,
    current_rows,
    event_row,
)
from projections.postgres_writes import copy_rows, store_positions
from schemas.admin_units import AdminUnits, load
from schemas.codec import DecodeError
from schemas.models import Event, EventAmended, EventVoided
from schemas.settings import PROJECTOR_LOGIN, Settings
from schemas.validation import parse_event

log = logging.getLogger("popreg.sink.state")

WANTED = "unnest(%s::char(1)[], %s::text[]) AS w(kind, entity_id)"
KEY = "(t.occurred_on, t.recorded_at, t.event_id)"
OF_WANTED = "t.kind = w.kind AND t.entity_id = w.entity_id"


def newest(columns: str, source: str, condition: str = "") -> str:
    """Per wanted entity, the newest row of `source` (alias t) meeting `condition`: one
    backward probe of the (kind, entity_id, key) index each, whatever the table's size."""
    return (
        f"SELECT w.kind, w.entity_id, n.* FROM {WANTED} CROSS JOIN LATERAL"
        f" (SELECT {columns} FROM {source} WHERE {OF_WANTED}{condition}"
        " ORDER BY t.occurred_on DESC, t.recorded_at DESC, t.event_id DESC LIMIT 1) AS n"
    )


# What a rejection notice on the rejected topic holds (the raw bytes stay in PostgreSQL).
NOTICE = tuple(column for column in REJECTIONS if column != "raw")
QUOTED_NOTICE = [f'"{column}"' for column in NOTICE]
NoticeKey = tuple[str, int, int]  # topic, partition, offset of the rejected message
DELIVERY_ATTEMPTS = 3  # then what still failed waits for the next batch, or the next start

MIN_KEY: Key = (date.min, datetime.min.replace(tzinfo=UTC), UUID(int=0))


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


def share_niceness(backend_pid: int) -> None:
    """The embedded server's backend does much of the projector's work (its writes);
    at the projector's niceness (`processors.nice`) it, too, leaves the CPU to the
    indicator path. PostgreSQL starts every backend in a session of its own, so the
    session's niceness is set too (`infra.procs.session_niceness`). Only on the
    embedded server: a remote pid names no process here."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        if os.getpriority(os.PRIO_PROCESS, backend_pid) >= ours:
            return
        os.setpriority(os.PRIO_PROCESS, backend_pid, ours)
    except OSError as error:  # gone already, or another user's: it keeps its niceness
        log.warning("PostgreSQL backend %d keeps its niceness: %s", backend_pid, error)
        return
    session_niceness(backend_pid, ours)


class StateSink:
    def __init__(self, settings: Settings, consumer: str) -> None:
        self.url = settings.login_url(PROJECTOR_LOGIN)  # popreg_projector only
        self.local_server = settings.embedded_postgres
        self.consumer = consumer
        self.rejected_topic = settings.topics.rejected
        self.units = load()
        self._producer = Producer(
            settings.kafka_config(**{"enable.idempotence": True, "acks": "all"})
        )
        self._conn: psycopg.Connection[Any] | None = None
        self._in_flight: set[NoticeKey] = set()  # produced, no delivery report yet
        self._delivered: list[NoticeKey] = []  # acknowledged, not yet marked announced
        self._failed: list[NoticeKey] = []  # delivery failed: produced again
        self._fatal: KafkaError | None = None

    def connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, application_name=f"popreg-{self.consumer}")
            if self.local_server:
                share_niceness(self._conn.info.backend_pid)
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
        self.announce_pending()
        result.write_s = time.perf_counter() - started - result.fold_s
        return result

    def _apply_once(self, topic: str, records: list[Record], ends: dict[int, int]) -> BatchResult:
        conn = self.connection()
        with conn.transaction():
            return Batch(conn, topic, self.consumer, self.units).run(records, ends)

    def announce_pending(self) -> int:
        """Announce the stored rejections not yet announced (005_rejection_outbox.sql):
        this batch's, those a killed worker left, and those whose delivery failed; not
        those still in flight. Returns how many were produced."""
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
                self._producer.produce(
                    self.rejected_topic,
                    json.dumps({k: row[k] for k in NOTICE}, default=str).encode(),
                    str(row["offset"]).encode(),
                    on_delivery=self._on_delivery(key),
                )
            # What the broker has not taken within the flush stays queued (it may be
            # away a while) and is marked after a later batch, once delivered.
            self._producer.flush(30 if fresh else 0)
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


def _notice_key(row: dict[str, Any]) -> NoticeKey:
    return row["topic"], row["partition"], row["offset"]


class _Widen(Exception):
    """A re-applied event reached entities outside the closure: restore those too."""

    def __init__(self, entities: set[Entity]) -> None:
        super().__init__(sorted(entities))
        self.entities = entities


class Batch:
    """One batch's work inside its transaction."""

    def __init__(
        self, conn: psycopg.Connection[Any], topic: str, consumer: str, units: AdminUnits
    ) -> None:
        self.conn, self.topic, self.consumer, self.units = conn, topic, consumer, units
        self.registry = Registry()
        self.loaded: set[Entity] = set()
        self.last: dict[Entity, Key] = {}
        self.archive: dict[UUID, tuple[Record, Event]] = {}
        self.outcomes: dict[UUID, Rejection | None] = {}
        self.previous: dict[UUID, str] = {}
        self.versions: dict[Entity, dict[Key, Any]] = {}  # this batch's, by entity
        self.links: dict[UUID, tuple[Key, set[Entity]]] = {}
        self.linked: dict[Entity, set[UUID]] = {}
        self.known: dict[UUID, Event] = {}  # archived events parsed in this batch
        self.dirty: set[Entity] = set()
        self.corrected: set[UUID] = set()
        self.corrections: dict[UUID, list[Event]] = {}  # this batch's, by target
        self.result = BatchResult()

    def run(self, records: list[Record], ends: dict[int, int]) -> BatchResult:
        started = time.perf_counter()
        stored = self._stored_positions()
        fresh = [r for r in records if r.offset >= stored.get(r.partition, 0)]
        self.result.redelivered = len(records) - len(fresh)
        events = self._new_events(fresh)
        self.archive = {e.envelope.event_id: (r, e) for r, e in events}
        for _, event in events:
            if isinstance(event, EventVoided | EventAmended):
                self.corrections.setdefault(event.target_event_id, []).append(event)
        self._prefetch([e for _, e in events])
        archived = self._archived_correction_targets([e for _, e in events])
        self.corrected = archived | self.corrections.keys()
        ordered = sorted((e for _, e in events), key=key_of)
        for event in ordered:
            if is_correction(event) or self._is_corrected(event) or self._is_late(event):
                self._refold(event)
            else:
                self._apply(event)
        for event_id in self.archive:
            self.outcomes.setdefault(event_id, None)
        self.result.fold_s = time.perf_counter() - started
        self._write(ends, stored)
        return self.result

    # --- reading -----------------------------------------------------------------------

    def _stored_positions(self) -> dict[int, int]:
        rows = self.conn.execute(
            "SELECT partition, next_offset FROM consumer_positions"
            " WHERE consumer = %s AND topic = %s FOR UPDATE",
            (self.consumer, self.topic),
        ).fetchall()
        return dict(rows)

    def _new_events(self, records: list[Record]) -> list[tuple[Record, Event]]:
        for record in records:
            if record.event is None:
                assert record.error is not None
                self.result.undecodable += 1
                self._reject_message(record, record.error.reason, record.error.detail)
        decoded = [(r, r.event) for r in records if r.event is not None]
        ids = [e.envelope.event_id for _, e in decoded]
        known = {
            row[0]
            for row in self.conn.execute(
                "SELECT event_id FROM events WHERE event_id = ANY(%s)", (ids,)
            ).fetchall()
        }
        new: list[tuple[Record, Event]] = []
        for record, event in decoded:
            if event.envelope.event_id in known:
                self.result.duplicates += 1
                continue
            known.add(event.envelope.event_id)
            new.append((record, event))
        return new

    def _archived_correction_targets(self, events: list[Event]) -> set[UUID]:
        ids = [e.envelope.event_id for e in events if not is_correction(e)]
        rows = self.conn.execute(
            "SELECT (payload->>'target_event_id')::uuid FROM events"
            " WHERE event_type IN ('EventVoided', 'EventAmended')"
            " AND (payload->>'target_event_id')::uuid = ANY(%s)",
            (ids,),
        ).fetchall()
        return {row[0] for row in rows}

    def _is_corrected(self, event: Event) -> bool:
        """Whether a correction of this event is archived or in this batch."""
        return event.envelope.event_id in self.corrected

    def _prefetch(self, events: list[Event]) -> None:
        """Load what `events` name in a few queries, not a few per event; each round
        follows what the last one loaded (a person's household), until nothing is new."""
        for _ in range(3):
            wanted = set().union(*(fold.touched(e, self.registry) for e in events))
            if wanted <= self.loaded:
                return
            self._load(wanted)

    def _touched(self, event: Event) -> set[Entity]:
        """What the event touches, loading what it names until that names nothing new."""
        while True:
            found = fold.touched(event, self.registry)
            if found <= self.loaded:
                return found
            self._load(found)

    def _load(self, entities: Iterable[Entity]) -> None:
        """Current state from the newest version; `last` from the newest linked event."""
        missing = [e for e in entities if e not in self.loaded]
        if not missing:
            return
        wanted = ([k for k, _ in missing], [i for _, i in missing])
        for kind, entity_id, state in self.conn.execute(
            newest("t.state", "entity_versions t"), wanted
        ).fetchall():
            self._put((kind, entity_id), state)
        for kind, entity_id, *key in self.conn.execute(
            newest("t.occurred_on, t.recorded_at, t.event_id", "event_entities t"), wanted
        ).fetchall():
            self.last[(kind, entity_id)] = (key[0], key[1], key[2])
        self.loaded.update(missing)

    def _put(self, entity: Entity, state: dict[str, Any] | None) -> None:
        kind, entity_id = entity
        table: dict[str, Any] = (
            self.registry.households if kind == HOUSEHOLD else self.registry.persons
        )
        if state is None:
            table.pop(entity_id, None)
        else:
            table[entity_id] = (household_from if kind == HOUSEHOLD else person_from)(state)

    def _state(self, entity: Entity) -> dict[str, Any] | None:
        kind, entity_id = entity
        table: dict[str, Any] = (
            self.registry.households if kind == HOUSEHOLD else self.registry.persons
        )
        found = table.get(entity_id)
        if found is None:
            return None
        return household_json(found) if kind == HOUSEHOLD else person_json(found)

    def _is_late(self, event: Event) -> bool:
        key = key_of(event)
        return any(
            entity in self.last and self.last[entity] > key for entity in self._touched(event)
        )

    # --- folding ------------------------------------------------------------------------

    def _apply(self, event: Event, closure: set[Entity] | None = None) -> None:
        entities = self._touched(event)
        if closure is not None and not entities <= closure:
            raise _Widen(entities - closure)
        key = key_of(event)
        rejection = fold.apply(self.registry, event, self.units)
        event_id = event.envelope.event_id
        self.outcomes[event_id] = rejection
        self.links[event_id] = (key, entities)
        for entity in entities:
            self.linked.setdefault(entity, set()).add(event_id)
            self.last[entity] = max(key, self.last.get(entity, key))
            if rejection is None:
                self.versions.setdefault(entity, {})[key] = self._state(entity)
                self.dirty.add(entity)

    def _refold(self, event: Event) -> None:
        """Re-apply, in history order, everything from the late point on that it reaches."""
        start_events = [event]
        if isinstance(event, EventVoided | EventAmended):
            target = self._archived(event.target_event_id)
            rejection = history.correction_verdict(event, target)
            if target is None or rejection is not None:
                self.outcomes[event.envelope.event_id] = rejection
                return
            corrections = self._corrections_of({target.envelope.event_id})
            start_events = [target, *history.effective_events([target, *corrections])]
        start = min(key_of(e) for e in start_events)
        seeds: set[Entity] = set().union(*(self._touched(e) for e in start_events))
        while True:
            closure, reached = self._closure(seeds, start, start_events)
            if self._restore(closure, start):
                log.warning(
                    "versions missing before %s for the closure of event %s: re-folding"
                    " %d entities from the beginning",
                    start[0],
                    event.envelope.event_id,
                    len(closure),
                )
                start = MIN_KEY
                continue
            corrections = self._corrections_of(set(reached))
            redo = history.effective_events([*reached.values(), *corrections])
            redone = {e.envelope.event_id for e in redo}
            for event_id in redone & self.links.keys():
                for entity in self.links.pop(event_id)[1]:
                    self.linked[entity].discard(event_id)
            try:
                for other in redo:
                    self._apply(other, closure)
            except _Widen as widen:
                seeds |= widen.entities
                continue
            break
        self.conn.execute(
            "DELETE FROM event_entities WHERE event_id = ANY(%s)",
            ([i for i in redone if i not in self.archive],),
        )
        for event_id in set(reached) - redone:
            self.outcomes[event_id] = VOIDED
        for correction in corrections:
            assert isinstance(correction, EventVoided | EventAmended)
            target = reached.get(correction.target_event_id)
            self.outcomes[correction.envelope.event_id] = history.correction_verdict(
                correction, target
            )
        self.result.refolded += len(redo)

    def _closure(
        self, seeds: set[Entity], start: Key, start_events: list[Event]
    ) -> tuple[set[Entity], dict[UUID, Event]]:
        """Entities reachable from `seeds` through state events at or after `start`."""
        closure = set(seeds)
        reached = {
            e.envelope.event_id: self._archived_or(e) for e in start_events if not is_correction(e)
        }
        frontier = set(seeds)
        while frontier:
            found = self._linked_events(frontier, start)
            self._prefetch([event for event, _ in found.values()])
            frontier = set()
            for event_id, (event, linked) in found.items():
                # A start event is reached already, but what it touched when it was
                # applied (a household a spouse left, say) joins the closure too: the
                # registry now places its persons elsewhere, so `_touched` alone misses it.
                event = reached.setdefault(event_id, event)
                new = (linked | self._touched(event)) - closure
                closure |= new
                frontier |= new
        return closure, reached

    def _archived_or(self, event: Event) -> Event:
        """The event as archived (an amended copy shares the original's event_id)."""
        return self._archived(event.envelope.event_id) or event

    def _linked_events(
        self, entities: set[Entity], start: Key
    ) -> dict[UUID, tuple[Event, set[Entity]]]:
        """State events at or after `start` touching `entities`, with every entity each
        touched when last applied; from the archive and from this batch."""
        kinds, ids = [k for k, _ in entities], [i for _, i in entities]
        rows = self.conn.execute(
            f"WITH hits AS (SELECT DISTINCT t.event_id FROM {WANTED} JOIN event_entities t"
            f" ON {OF_WANTED} AND {KEY} >= (%s, %s, %s))"
            " SELECT e.event_id, e.payload, e.outcome, array_agg(x.kind || x.entity_id)"
            " FROM hits JOIN events e USING (event_id) JOIN event_entities x USING (event_id)"
            " WHERE e.event_type NOT IN ('EventVoided', 'EventAmended')"
            " GROUP BY e.event_id, e.payload, e.outcome",
            (kinds, ids, *start),
        ).fetchall()
        found: dict[UUID, tuple[Event, set[Entity]]] = {}
        for event_id, doc, outcome, linked in rows:
            self.previous.setdefault(event_id, outcome)
            if event_id not in self.known:
                self.known[event_id] = parse_event(doc)
            found[event_id] = (self.known[event_id], {(s[0], s[1:]) for s in linked})
        for entity in entities & self.linked.keys():
            for event_id in self.linked[entity] - found.keys():
                key, touched = self.links[event_id]
                event = self._archived(event_id) if key >= start else None
                if event is not None and not is_correction(event):
                    found[event_id] = (event, touched)
        return found

    def _archived(self, event_id: UUID) -> Event | None:
        if event_id in self.archive:
            return self.archive[event_id][1]
        if event_id not in self.known:
            row = self.conn.execute(
                "SELECT payload, outcome FROM events WHERE event_id = %s", (event_id,)
            ).fetchone()
            if row is None:
                return None
            self.previous.setdefault(event_id, row[1])
            self.known[event_id] = parse_event(row[0])
        return self.known[event_id]

    def _corrections_of(self, event_ids: set[UUID]) -> list[Event]:
        rows = self.conn.execute(
            "SELECT event_id, payload, outcome FROM events"
            " WHERE event_type IN ('EventVoided', 'EventAmended')"
            " AND (payload->>'target_event_id')::uuid = ANY(%s)",
            (list(event_ids),),
        ).fetchall()
        found: dict[UUID, Event] = {}
        for event_id, doc, outcome in rows:
            self.previous.setdefault(event_id, outcome)
            found[event_id] = parse_event(doc)
        for target in event_ids & self.corrections.keys():
            for event in self.corrections[target]:
                found[event.envelope.event_id] = event
        return list(found.values())

    def _restore(self, closure: set[Entity], start: Key) -> bool:
        """Every entity of the closure as it was just before `start`; True (and nothing
        changed) when an entity lacks the version of its last applied event before it."""
        kinds, ids = [k for k, _ in closure], [i for _, i in closure]
        before: dict[Entity, tuple[Key, Any]] = {}
        for kind, entity_id, *key, state in self.conn.execute(
            newest(
                "t.occurred_on, t.recorded_at, t.event_id, t.state",
                "entity_versions t",
                f" AND {KEY} < (%s, %s, %s)",
            ),
            (kinds, ids, *start),
        ).fetchall():
            before[(kind, entity_id)] = ((key[0], key[1], key[2]), state)
        for entity in closure & self.versions.keys():
            for key, state in self.versions[entity].items():
                if start > key > before.get(entity, (MIN_KEY,))[0]:
                    before[entity] = (key, state)
        applied = self.conn.execute(
            newest(
                "t.occurred_on, t.recorded_at, t.event_id",
                "event_entities t JOIN events e ON e.event_id = t.event_id",
                f" AND e.outcome = 'applied' AND {KEY} < (%s, %s, %s)",
            ),
            (kinds, ids, *start),
        ).fetchall()
        if any(
            (key[0], key[1], key[2]) > before.get((kind, entity_id), (MIN_KEY,))[0]
            for kind, entity_id, *key in applied
        ):
            return True
        for entity in closure:
            found = before.get(entity)
            self._put(entity, None if found is None else found[1])
            self.dirty.add(entity)
        self.conn.execute(
            f"DELETE FROM entity_versions t USING {WANTED}"
            f" WHERE {OF_WANTED} AND {KEY} >= (%s, %s, %s)",
            (kinds, ids, *start),
        )
        for entity in closure & self.versions.keys():
            kept = self.versions[entity]
            for key in [k for k in kept if k >= start]:
                del kept[key]
        return False

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

    def _write(self, ends: dict[int, int], stored: dict[int, int]) -> None:
        cur = self.conn.cursor()
        outcome = {eid: verdict(r) for eid, r in self.outcomes.items()}
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
            [(k, i, *key) for key, entities in self.links.values() for k, i in entities],
        )
        copy_rows(
            cur,
            "entity_versions",
            VERSIONS,
            (
                (k, i, *key, None if state is None else Jsonb(state))
                for (k, i), kept in self.versions.items()
                for key, state in kept.items()
            ),
        )
        self._write_current(cur)
        self._write_rejections(cur, outcome)
        store_positions(
            cur,
            self.consumer,
            self.topic,
            {p: max(o, stored.get(p, 0)) for p, o in ends.items()},
        )
        self._count(outcome)

    def _count(self, outcome: dict[UUID, tuple[str, str | None]]) -> None:
        """Outcome counts moved by this batch: new events, and re-folded ones' changes."""
        change = Counter(status for status, _ in outcome.values())
        change.subtract(self.previous[eid] for eid in outcome if eid in self.previous)
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

    def _write_current(self, cur: psycopg.Cursor[Any]) -> None:
        households = sorted(i for k, i in self.dirty if k == HOUSEHOLD)
        persons = sorted(i for k, i in self.dirty if k != HOUSEHOLD)
        cur.execute("DELETE FROM household_members WHERE household_id = ANY(%s)", (households,))
        cur.execute("DELETE FROM households WHERE household_id = ANY(%s)", (households,))
        cur.execute("DELETE FROM persons WHERE person_id = ANY(%s)", (persons,))
        for table, rows in current_rows(self.registry, households, persons).items():
            copy_rows(cur, table, COLUMNS[table], rows)

    def _write_rejections(
        self, cur: psycopg.Cursor[Any], outcome: dict[UUID, tuple[str, str | None]]
    ) -> None:
        cur.execute(
            "DELETE FROM rejected_events WHERE event_id = ANY(%s)",
            ([eid for eid, o in outcome.items() if o[0] != "rejected"],),
        )
        for eid, (status, reason) in outcome.items():
            rejection = self.outcomes[eid]
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
                row["event_id"] is not None and self.previous.get(row["event_id"]) == "rejected"
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
