"""The state projector's PostgreSQL as a test sees it, and what it must hold.

`folded` is what the projector must hold for a test's events (the pure fold, in
history order, and each event's outcome); `db_rows`, `archived`, `rejected_rows`,
`counts`… read what it holds, by the test's own ids (`id_space.Ids`);
`assert_projected` compares the two.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psutil
import psycopg
from confluent_kafka import Consumer, TopicPartition

from projections.domain.fold import Rejection
from projections.domain.history import InvalidAmendment, amended, fold_log
from projections.domain.state_rows import COLUMNS, current_rows
from projections.log import partition_count, read_log
from schemas.admin_units import load
from schemas.models import Event, EventAmended, EventVoided
from schemas.settings import Settings
from tests.id_space import Ids
from tests.producing import Offsets

UNITS = load()

CONSUMER = "state"


Rows = dict[str, list[tuple[Any, ...]]]


def positions(settings: Settings) -> Offsets:
    with psycopg.connect(settings.postgres_url) as conn:
        rows = conn.execute(
            "SELECT partition, next_offset FROM consumer_positions"
            " WHERE consumer = %s AND topic = %s",
            (CONSUMER, settings.topics.events),
        ).fetchall()
    return dict(rows)


def in_transaction(conn: psycopg.Connection[Any], pid: int) -> bool:
    """Whether process `pid` is writing in a transaction on the database of `conn`
    (the state projector's batch transaction takes an xid with its first statement,
    `SELECT … FOR UPDATE` of its positions)."""
    try:
        ports = [c.laddr.port for c in psutil.Process(pid).net_connections("tcp") if c.raddr]
    except psutil.NoSuchProcess:
        return False
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s)"
        " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
        (ports,),
    ).fetchone()
    return bool(row and row[0])


def _sorted(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


def db_rows(settings: Settings, ids: Ids) -> Rows:
    """The current rows of this test's households, memberships and persons."""
    households, persons = f"H{ids.tag}-%", f"P{ids.tag}-%"
    where = {
        "households": ("household_id", households),
        "household_members": ("household_id", households),
        "persons": ("person_id", persons),
    }
    found: Rows = {}
    with psycopg.connect(settings.postgres_url) as conn:
        for table, columns in COLUMNS.items():
            column, pattern = where[table]
            names = ", ".join(f'"{c}"' for c in columns)
            found[table] = _sorted(
                conn.execute(
                    f"SELECT {names} FROM {table} WHERE {column} LIKE %s", (pattern,)
                ).fetchall()
            )
        # A membership of one of this test's persons in someone else's household
        # would be a leak between tests.
        strays = conn.execute(
            "SELECT household_id, person_id FROM household_members"
            " WHERE person_id LIKE %s AND household_id NOT LIKE %s",
            (persons, households),
        ).fetchall()
    assert not strays, f"memberships outside the test's households: {strays[:5]}"
    return found


@dataclass
class Folded:
    rows: Rows
    verdicts: dict[UUID, Rejection | None]
    outcomes: dict[UUID, tuple[str, str | None]]


def folded(events: Iterable[Event]) -> Folded:
    """What the projector must hold for `events`: the pure fold of them, in history
    order, whatever order they arrived in; and each event's expected outcome."""
    unique = {e.envelope.event_id: e for e in events}
    registry, verdicts = fold_log(unique.values(), UNITS)
    rows = current_rows(registry, registry.households, registry.persons)
    outcomes = expected_outcomes(unique, verdicts)
    return Folded({t: _sorted(r) for t, r in rows.items()}, verdicts, outcomes)


def expected_outcomes(
    unique: dict[UUID, Event], verdicts: dict[UUID, Rejection | None]
) -> dict[UUID, tuple[str, str | None]]:
    """Each event's outcome in the archive: a state event's verdict in the fold (voided
    when a correction removed it); a correction is applied when it corrects a known
    event validly."""
    outcomes: dict[UUID, tuple[str, str | None]] = {}
    for event_id, event in unique.items():
        if isinstance(event, EventVoided | EventAmended):
            target = unique.get(event.target_event_id)
            if target is None:
                outcomes[event_id] = ("rejected", "unknown_target")
            elif isinstance(target, EventVoided | EventAmended):
                outcomes[event_id] = ("rejected", "correction_of_correction")
            elif isinstance(event, EventAmended) and not _amends(target, event):
                outcomes[event_id] = ("rejected", "invalid_amendment")
            else:
                outcomes[event_id] = ("applied", None)
        elif event_id not in verdicts:
            outcomes[event_id] = ("voided", "voided")
        elif verdicts[event_id] is None:
            outcomes[event_id] = ("applied", None)
        else:
            outcomes[event_id] = ("rejected", verdicts[event_id].reason)
    return outcomes


def _amends(target: Event, amendment: EventAmended) -> bool:
    try:
        amended(target, amendment)
    except InvalidAmendment:
        return False
    return True


def footprint(settings: Settings, ids: Ids) -> dict[str, int]:
    """How many archive, link and version rows this test's ids have."""
    found: dict[str, int] = {}
    with psycopg.connect(settings.postgres_url) as conn:
        for table, column, prefix in [
            ("events", "household_id", "H"),
            ("event_entities", "entity_id", "_"),  # H… and P…
            ("entity_versions", "entity_id", "_"),
        ]:
            row = conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} LIKE %s", (f"{prefix}{ids.tag}-%",)
            ).fetchone()
            found[table] = row[0] if row else 0
    return found


def archived(settings: Settings, event_ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    """The archive rows of these events, by event id."""
    with psycopg.connect(settings.postgres_url) as conn:
        cur = conn.execute(
            'SELECT event_id, outcome, reason, partition, "offset", event_type FROM events'
            " WHERE event_id = ANY(%s)",
            (list(event_ids),),
        )
        return {
            row[0]: dict(
                zip(("outcome", "reason", "partition", "offset", "type"), row[1:], strict=True)
            )
            for row in cur.fetchall()
        }


def rejected_rows(settings: Settings, event_ids: Iterable[UUID]) -> dict[UUID, list[str]]:
    """The rejections of these events: event id -> reasons (one row per event expected)."""
    found: dict[UUID, list[str]] = {}
    with psycopg.connect(settings.postgres_url) as conn:
        for event_id, reason in conn.execute(
            "SELECT event_id, reason FROM rejected_events WHERE event_id = ANY(%s)",
            (list(event_ids),),
        ).fetchall():
            found.setdefault(event_id, []).append(reason)
    return found


def rejections_at(
    settings: Settings, partition: int, offsets: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """rejected_events rows at these offsets of the events topic, by offset."""
    with psycopg.connect(settings.postgres_url) as conn:
        cur = conn.execute(
            'SELECT "offset", event_id, event_type, reason, detail, raw FROM rejected_events'
            ' WHERE topic = %s AND partition = %s AND "offset" = ANY(%s)',
            (settings.topics.events, partition, list(offsets)),
        )
        return {
            row[0]: dict(zip(("event_id", "type", "reason", "detail", "raw"), row[1:], strict=True))
            for row in cur.fetchall()
        }


COUNTS = ("applied", "rejected", "voided", "duplicates", "undecodable", "refolded")


def counts(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.postgres_url) as conn:
        row = conn.execute(
            f"SELECT {', '.join(COUNTS)} FROM processor_counts WHERE consumer = %s", (CONSUMER,)
        ).fetchone()
    return dict(zip(COUNTS, row or (0,) * len(COUNTS), strict=True))


def archive_totals(settings: Settings) -> dict[str, int]:
    """What processor_counts must say, counted from the archive itself."""
    with psycopg.connect(settings.postgres_url) as conn:
        by_outcome = dict(
            conn.execute("SELECT outcome, count(*) FROM events GROUP BY outcome").fetchall()
        )
        (undecodable,) = conn.execute(
            "SELECT count(*) FROM rejected_events WHERE event_id IS NULL AND topic = %s",
            (settings.topics.events,),
        ).fetchone() or (0,)
    return {
        "applied": by_outcome.get("applied", 0),
        "rejected": by_outcome.get("rejected", 0),
        "voided": by_outcome.get("voided", 0),
        "undecodable": undecodable,
    }


def read_rejected_topic(
    settings: Settings, wanted: Callable[[dict[str, Any]], bool], count: int, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """The documents on the rejected topic for which `wanted` holds, once `count` are seen."""
    topic = settings.topics.rejected
    consumer = Consumer(
        settings.kafka_config(
            **{"group.id": f"test-rejected-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
        )
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partition_count(settings, topic))])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < count:
            assert time.monotonic() < deadline, f"only {len(found)} of {count} on {topic}: {found}"
            for message in consumer.consume(500, timeout=0.5):
                if message.error() is None and message.value():
                    doc = json.loads(message.value())
                    if wanted(doc):
                        found.append(doc)
    finally:
        consumer.close()
    return found


def unannounced(settings: Settings) -> int:
    """Rejections stored whose notice the broker has not acknowledged yet (the outbox)."""
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM rejected_events WHERE NOT announced").fetchone()
    assert row is not None
    return int(row[0])


def rejection_notices(settings: Settings, event_ids: set[str]) -> Counter[tuple[str, str]]:
    """How many notices the rejected topic holds for each (event id, reason) of these
    events, read to end markers (its JSON documents come back as undecodable records)."""
    _, batches = read_log(settings, settings.topics.rejected)
    docs = [json.loads(r.value) for batch in batches for r in batch if r.value]
    return Counter((d["event_id"], d["reason"]) for d in docs if d.get("event_id") in event_ids)


def assert_projected(settings: Settings, ids: Ids, events: list[Event]) -> None:
    """The test's rows equal the fold; each event archived once with the fold's verdict;
    exactly the rejected ones in rejected_events, with the fold's reason."""
    want = folded(events)
    got = db_rows(settings, ids)
    for table, rows in want.rows.items():
        assert got[table] == rows, (
            f"{table}: only in the database {sorted(set(got[table]) - set(rows), key=repr)[:5]};"
            f" only in the fold {sorted(set(rows) - set(got[table]), key=repr)[:5]}"
        )
    found = archived(settings, want.outcomes)
    assert set(found) == set(want.outcomes), "events missing from the archive"
    assert footprint(settings, ids)["events"] == len(found), "unexpected events archived"
    outcomes = {eid: (row["outcome"], row["reason"]) for eid, row in found.items()}
    wrong = {eid: (outcomes[eid], o) for eid, o in want.outcomes.items() if outcomes[eid] != o}
    assert not wrong, (
        f"outcome (database, fold) differs for {len(wrong)}: {list(wrong.items())[:5]}"
    )
    rejected = {eid: [o[1]] for eid, o in want.outcomes.items() if o[0] == "rejected"}
    assert rejected_rows(settings, want.outcomes) == rejected
