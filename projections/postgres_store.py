"""The re-fold's store in PostgreSQL: `events`, `event_entities`, `entity_versions`.

Read inside the batch's transaction, so the re-fold's take-backs are seen by its later
reads and undone with the batch if it fails. Entity lookups are one backward probe of
the (kind, entity_id, key) index per entity, whatever the tables' size.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any
from uuid import UUID

import psycopg

from projections.domain.entity_json import Json
from projections.domain.fold import Entity
from projections.domain.history import Key
from projections.domain.refold import Archived, Linked, Version
from schemas.validation import parse_event

WANTED = "unnest(%s::char(1)[], %s::text[]) AS w(kind, entity_id)"
KEY_COLUMNS = "t.occurred_on, t.recorded_at, t.event_id"
KEY = f"({KEY_COLUMNS})"
OF_WANTED = "t.kind = w.kind AND t.entity_id = w.entity_id"
CORRECTIONS = "event_type IN ('EventVoided', 'EventAmended')"
TARGET = "(payload->>'target_event_id')::uuid"


def newest(columns: str, source: str, condition: str = "") -> str:
    """Per wanted entity, the newest row of `source` (alias t) meeting `condition`: one
    backward probe of the (kind, entity_id, key) index each, whatever the table's size."""
    return (
        f"SELECT w.kind, w.entity_id, n.* FROM {WANTED} CROSS JOIN LATERAL"
        f" (SELECT {columns} FROM {source} WHERE {OF_WANTED}{condition}"
        " ORDER BY t.occurred_on DESC, t.recorded_at DESC, t.event_id DESC LIMIT 1) AS n"
    )


def _wanted(entities: Sequence[Entity]) -> tuple[list[str], list[str]]:
    return [k for k, _ in entities], [i for _, i in entities]


def _archived(event_id: UUID, outcome: str, payload: Any) -> Archived:
    return Archived(event_id, outcome, partial(parse_event, payload))


class PostgresStore:
    """`projections.domain.refold.Store` on one connection, in its open transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def archived_among(self, event_ids: Sequence[UUID]) -> set[UUID]:
        rows = self.conn.execute(
            "SELECT event_id FROM events WHERE event_id = ANY(%s)", (list(event_ids),)
        ).fetchall()
        return {row[0] for row in rows}

    def correction_targets(self, event_ids: Sequence[UUID]) -> set[UUID]:
        return {row[0] for row in self._corrections(TARGET, event_ids)}

    def archived(self, event_id: UUID) -> Archived | None:
        row = self.conn.execute(
            "SELECT payload, outcome FROM events WHERE event_id = %s", (event_id,)
        ).fetchone()
        return None if row is None else _archived(event_id, row[1], row[0])

    def corrections_of(self, event_ids: Sequence[UUID]) -> list[Archived]:
        rows = self._corrections("event_id, payload, outcome", event_ids)
        return [_archived(event_id, outcome, doc) for event_id, doc, outcome in rows]

    def newest_states(self, entities: Sequence[Entity]) -> dict[Entity, Json | None]:
        rows = self._newest("t.state", "entity_versions t", entities)
        return {(kind, entity_id): state for kind, entity_id, state in rows}

    def newest_keys(self, entities: Sequence[Entity]) -> dict[Entity, Key]:
        rows = self._newest(KEY_COLUMNS, "event_entities t", entities)
        return {(kind, entity_id): (key[0], key[1], key[2]) for kind, entity_id, *key in rows}

    def linked_from(self, entities: Sequence[Entity], start: Key) -> list[Linked]:
        rows = self.conn.execute(
            f"WITH hits AS (SELECT DISTINCT t.event_id FROM {WANTED} JOIN event_entities t"
            f" ON {OF_WANTED} AND {KEY} >= (%s, %s, %s))"
            " SELECT e.event_id, e.payload, e.outcome, array_agg(x.kind || x.entity_id)"
            " FROM hits JOIN events e USING (event_id) JOIN event_entities x USING (event_id)"
            " WHERE e.event_type NOT IN ('EventVoided', 'EventAmended')"
            " GROUP BY e.event_id, e.payload, e.outcome",
            (*_wanted(entities), *start),
        ).fetchall()
        return [
            Linked(_archived(event_id, outcome, doc), frozenset((s[0], s[1:]) for s in linked))
            for event_id, doc, outcome, linked in rows
        ]

    def versions_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Version]:
        rows = self._newest(f"{KEY_COLUMNS}, t.state", "entity_versions t", entities, start)
        return {
            (kind, entity_id): ((key[0], key[1], key[2]), state)
            for kind, entity_id, *key, state in rows
        }

    def applied_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Key]:
        rows = self._newest(
            KEY_COLUMNS,
            "event_entities t JOIN events e ON e.event_id = t.event_id",
            entities,
            start,
            " AND e.outcome = 'applied'",
        )
        return {(kind, entity_id): (key[0], key[1], key[2]) for kind, entity_id, *key in rows}

    def forget_versions_from(self, entities: Sequence[Entity], start: Key) -> None:
        self.conn.execute(
            f"DELETE FROM entity_versions t USING {WANTED}"
            f" WHERE {OF_WANTED} AND {KEY} >= (%s, %s, %s)",
            (*_wanted(entities), *start),
        )

    def _corrections(self, columns: str, event_ids: Sequence[UUID]) -> list[tuple[Any, ...]]:
        """`columns` of the archived corrections targeting any of `event_ids`."""
        return self.conn.execute(
            f"SELECT {columns} FROM events WHERE {CORRECTIONS} AND {TARGET} = ANY(%s)",
            (list(event_ids),),
        ).fetchall()

    def _newest(
        self,
        columns: str,
        source: str,
        entities: Sequence[Entity],
        before: Key | None = None,
        condition: str = "",
    ) -> list[tuple[Any, ...]]:
        """Per entity, its newest row of `source` meeting `condition`, before `before`."""
        params: tuple[Any, ...] = _wanted(entities)
        if before is not None:
            condition += f" AND {KEY} < (%s, %s, %s)"
            params = (*params, *before)
        return self.conn.execute(newest(columns, source, condition), params).fetchall()

    def forget_links(self, event_ids: Sequence[UUID]) -> None:
        self.conn.execute("DELETE FROM event_entities WHERE event_id = ANY(%s)", (list(event_ids),))
