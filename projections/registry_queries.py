"""Reading the registry for registrars: a household or a person now, and their dated history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

HISTORY = """
    SELECT e.occurred_on, e.recorded_at, e.event_type, e.event_id, e.outcome, e.reason,
           e.household_id, e.commune_code
    FROM event_entities x JOIN events e USING (event_id)
    WHERE x.kind = %s AND x.entity_id = %s
    ORDER BY e.occurred_on, e.recorded_at, e.event_id
"""


@dataclass(frozen=True)
class Found:
    """One entity: its current row, its memberships, and the events that touched it."""

    current: Row
    members: list[Row]
    history: list[Row]


def household(url: str, household_id: str) -> Found | None:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        current = conn.execute(
            "SELECT * FROM households WHERE household_id = %s", (household_id,)
        ).fetchone()
        if current is None:
            return None
        members = conn.execute(
            "SELECT m.person_id, p.full_name, p.sex, p.birth_date, m.relation_to_head,"
            " m.joined_on, m.left_on, m.left_reason, p.vital_status"
            " FROM household_members m LEFT JOIN persons p USING (person_id)"
            " WHERE m.household_id = %s ORDER BY m.left_on NULLS FIRST, m.joined_on, m.person_id",
            (household_id,),
        ).fetchall()
        history = conn.execute(HISTORY, ("H", household_id)).fetchall()
    return Found(current, members, history)


def person(url: str, person_id: str) -> Found | None:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        current = conn.execute(
            "SELECT * FROM persons WHERE person_id = %s", (person_id,)
        ).fetchone()
        if current is None:
            return None
        members = conn.execute(
            "SELECT household_id, relation_to_head, joined_on, left_on, left_reason"
            " FROM household_members WHERE person_id = %s ORDER BY joined_on",
            (person_id,),
        ).fetchall()
        history = conn.execute(HISTORY, ("P", person_id)).fetchall()
    return Found(current, members, history)


def positions(url: str, consumer: str) -> dict[int, int]:
    """The next offset per partition a consumer has stored with its data."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT partition, next_offset FROM consumer_positions WHERE consumer = %s",
            (consumer,),
        ).fetchall()
    return {int(p): int(o) for p, o in rows}


def rejections(url: str) -> list[Row]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT reason, count(*) AS messages, count(DISTINCT commune_code) AS communes"
            " FROM rejected_events GROUP BY reason ORDER BY messages DESC, reason"
        ).fetchall()
