"""`popreg rebuild state`: the registry tables rebuilt from the log at bulk speed.

The log is read to its end markers with confluent-kafka directly (`projections.log`),
folded in memory in history order with the same fold as the live projector, and
every table is replaced in one transaction with COPY, together with the positions
the live projector continues from. This is how a province's baseline is loaded and
how the state is rebuilt after a schema change or the loss of the database.

Entity versions (what the live projector restores when a late event arrives) are
written at every applied event, as the live projector writes them. Registrations come
years late (births above all), and an entity without its version from before a late
event makes the live projector re-fold its closure from the beginning: thousands of
events, and at province scale a batch of 1,000 that holds such events takes up to
several times as long as one whose entities all have their versions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from projections.domain import fold, history
from projections.domain.entity_json import household_json, person_json
from projections.domain.fold import HOUSEHOLD, Entity, Rejection
from projections.domain.history import Key, key_of, verdict
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
from projections.log import read_log, read_until
from projections.memory import bulk
from projections.postgres_sink import Batch, ends_of, isolating, refused_by_store
from projections.postgres_writes import copy_rows, store_positions
from schemas.admin_units import AdminUnits
from schemas.models import Event, EventAmended, EventVoided
from schemas.settings import PROJECTOR_LOGIN, Settings

CONSUMER = "state"
warn = logging.getLogger("popreg.rebuild")
Advance = Callable[[str, int], None]
TABLES = (
    "events, event_entities, entity_versions, households, household_members, persons,"
    " rejected_events"
)


@dataclass
class Log:
    """What the log held, up to its end markers."""

    ends: dict[int, int]
    events: dict[UUID, tuple[Record, Event]] = field(default_factory=dict)
    undecodable: list[Record] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class Folded:
    registry: Registry
    outcomes: dict[UUID, Rejection | None]
    links: list[tuple[Entity, Key]] = field(default_factory=list)
    versions: list[tuple[Entity, Key, Any]] = field(default_factory=list)

    def version(self, entity: Entity, key: Key) -> None:
        found = state(self.registry, entity)
        if found is not None:
            self.versions.append((entity, key, found))


@dataclass(frozen=True)
class RebuildResult:
    events: int
    applied: int
    rejected: int
    voided: int
    duplicates: int
    undecodable: int
    read_s: float
    fold_s: float
    write_s: float

    @property
    def seconds(self) -> float:
        return self.read_s + self.fold_s + self.write_s


def read(settings: Settings, topic: str, advance: Advance) -> Log:
    ends, batches = read_log(settings, topic)
    log = Log(ends)
    for batch in batches:
        for record in batch:
            if record.event is None:
                log.undecodable.append(record)
            elif record.event.envelope.event_id in log.events:
                log.duplicates += 1
            else:
                log.events[record.event.envelope.event_id] = (record, record.event)
        advance("read", len(batch))
    return log


def fold_with_links(log: Log, units: AdminUnits, advance: Advance) -> Folded:
    """The same fold as the live projector, in history order, recording what each
    event touched and the entity versions the live projector may need."""
    events = [e for _, e in log.events.values()]
    effective = history.effective_events(events)
    folded = Folded(Registry(), outcomes={})
    registry = folded.registry
    for count, event in enumerate(effective, 1):
        key = key_of(event)
        entities = fold.touched(event, registry)
        rejection = fold.apply(registry, event, units)
        folded.outcomes[event.envelope.event_id] = rejection
        for entity in entities:
            folded.links.append((entity, key))
            if rejection is None:
                folded.version(entity, key)
        if count % 10_000 == 0:
            advance("fold", 10_000)
    advance("fold", len(effective) % 10_000)
    kept = {e.envelope.event_id for e in effective}
    for event in events:
        eid = event.envelope.event_id
        if isinstance(event, EventVoided | EventAmended):
            target = log.events.get(event.target_event_id)
            folded.outcomes[eid] = history.correction_verdict(
                event, None if target is None else target[1]
            )
        elif eid not in kept:
            folded.outcomes[eid] = history.VOIDED
    return folded


def state(registry: Registry, entity: Entity) -> Any:
    """The entity's version as the live projector stores it; None if the registry does
    not hold it (an event may name a person it does not register, e.g. a father)."""
    kind, entity_id = entity
    if kind == HOUSEHOLD:
        household = registry.households.get(entity_id)
        return None if household is None else Jsonb(household_json(household))
    person = registry.persons.get(entity_id)
    return None if person is None else Jsonb(person_json(person))


def write(
    conn: psycopg.Connection[Any], topic: str, log: Log, folded: Folded, advance: Advance
) -> None:
    """Replace every table in one transaction; the live projector continues from `ends`."""
    outcome = {eid: verdict(r) for eid, r in folded.outcomes.items()}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("LOCK TABLE consumer_positions IN EXCLUSIVE MODE")
        cur.execute(f"TRUNCATE {TABLES}")
        copy_rows(
            cur,
            "events",
            EVENTS,
            (
                event_row(e, topic, r.partition, r.offset, *outcome[eid])
                for eid, (r, e) in log.events.items()
            ),
        )
        advance("write", 1)
        copy_rows(
            cur,
            "event_entities",
            LINKS,
            ((kind, entity_id, *key) for (kind, entity_id), key in folded.links),
        )
        advance("write", 1)
        registry = folded.registry
        for table, rows in current_rows(registry, registry.households, registry.persons).items():
            copy_rows(cur, table, COLUMNS[table], rows)
        advance("write", 1)
        copy_rows(
            cur,
            "entity_versions",
            VERSIONS,
            ((kind, entity_id, *key, json) for (kind, entity_id), key, json in folded.versions),
        )
        advance("write", 1)
        copy_rows(cur, "rejected_events", REJECTIONS, rejection_rows(topic, log, folded))
        store_positions(cur, CONSUMER, topic, log.ends)
        statuses = [status for status, _ in outcome.values()]
        cur.execute(
            "INSERT INTO processor_counts AS c (consumer, applied, rejected, voided, duplicates,"
            " undecodable, refolded) VALUES (%s, %s, %s, %s, %s, %s, 0)"
            " ON CONFLICT (consumer) DO UPDATE SET applied = EXCLUDED.applied,"
            " rejected = EXCLUDED.rejected, voided = EXCLUDED.voided,"
            " duplicates = EXCLUDED.duplicates, undecodable = EXCLUDED.undecodable,"
            " refolded = 0, updated_at = now()",
            (
                CONSUMER,
                statuses.count("applied"),
                statuses.count("rejected"),
                statuses.count("voided"),
                log.duplicates,
                len(log.undecodable),
            ),
        )
        advance("write", 1)


class PartlyRebuilt(RuntimeError):
    """`write_by_batches` stopped halfway: the tables hold the fold of the log up to the
    positions stored with them (consistent, not complete)."""


def write_by_batches(
    conn: psycopg.Connection[Any],
    settings: Settings,
    topic: str,
    ends: dict[int, int],
    units: AdminUnits,
    advance: Advance,
) -> None:
    """The tables rebuilt through the live projector's own batches (`Batch`), so that a
    record the store refuses is isolated and rejected exactly as the live projector
    rejects it (`store_refused`): live and rebuilt state agree about it. Slower than
    `write` (a transaction a batch), and only taken when `write` was refused. Each batch
    stores its positions with its rows, so a rebuild stopped halfway leaves a registry
    the live projector continues from, not a broken one."""
    with conn.transaction():
        conn.execute(f"TRUNCATE {TABLES}")
        conn.execute("DELETE FROM consumer_positions WHERE consumer = %s", (CONSUMER,))
        conn.execute("DELETE FROM processor_counts WHERE consumer = %s", (CONSUMER,))

    def once(records: list[Record], part_ends: dict[int, int]) -> Any:
        with conn.transaction():
            return Batch(conn, topic, CONSUMER, units).run(records, part_ends)

    try:
        for batch in read_until(settings, topic, ends, batch_size=1000, keep=True):
            isolating(once, batch, ends_of(batch))
            advance("write", 0)
        once([], ends)
    except psycopg.Error as error:
        raise PartlyRebuilt(
            f"rebuilding batch by batch stopped ({type(error).__name__}: {error}); the"
            " registry holds the log up to its stored positions, and the state projector"
            " continues from there"
        ) from error


def rejection_rows(topic: str, log: Log, folded: Folded) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (topic, r.partition, r.offset, None, None, None, r.error.reason, r.error.detail, r.value)
        for r in log.undecodable
        if r.error is not None
    ]
    for eid, rejection in folded.outcomes.items():
        if rejection is not None and rejection is not history.VOIDED:
            record, event = log.events[eid]
            rows.append(
                (
                    topic,
                    record.partition,
                    record.offset,
                    eid,
                    event.type,
                    event.envelope.commune_code,
                    rejection.reason,
                    rejection.detail,
                    None,
                )
            )
    return rows


@bulk
def rebuild_state(settings: Settings, units: AdminUnits, advance: Advance) -> RebuildResult:
    topic = settings.topics.events
    started = time.perf_counter()
    log = read(settings, topic, advance)
    read_done = time.perf_counter()
    folded = fold_with_links(log, units, advance)
    fold_done = time.perf_counter()
    with psycopg.connect(settings.login_url(PROJECTOR_LOGIN)) as conn:  # popreg_projector only
        try:
            write(conn, topic, log, folded, advance)
        except psycopg.Error as error:
            if not refused_by_store(error):
                raise
            warn.warning(
                "PostgreSQL refused a record of the log (%s %s): rebuilding batch by batch,"
                " as the live projector applies them, to isolate it",
                error.sqlstate,
                type(error).__name__,
            )
            write_by_batches(conn, settings, topic, log.ends, units, advance)
        counted = conn.execute(
            "SELECT applied, rejected, voided, undecodable FROM processor_counts"
            " WHERE consumer = %s",
            (CONSUMER,),
        ).fetchone()
    done = time.perf_counter()
    applied, rejected, voided, undecodable = counted or (0, 0, 0, 0)
    return RebuildResult(
        events=len(log.events),
        applied=applied,
        rejected=rejected + undecodable,
        voided=voided,
        duplicates=log.duplicates,
        undecodable=undecodable,
        read_s=read_done - started,
        fold_s=fold_done - read_done,
        write_s=done - fold_done,
    )
