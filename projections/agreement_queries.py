"""The figures `store_agreement` compares, read from each store on its own terms.

PostgreSQL gives the registry: memberships, persons and households as the state
projector keeps them, the event archive's outcomes and the undecodable messages.
ClickHouse gives the sums of the indicator rows (`projections/domain/indicator_rows.py`). Each
figure is computed independently in each store, so neither side is derived from the
other; `store_agreement` only compares the results.

How each store records each outcome, which is what makes the counts comparable
(PostgreSQL | ClickHouse):

- a state event applied: `events.outcome = 'applied'` | a `vital_events` row, sign 1;
- a correction that takes effect: `events.outcome = 'applied'`, type EventVoided or
  EventAmended | a `vital_events` row of that type, sign 1;
- an amended event: judged as amended, counted under its type as recorded | the same;
- a voided event: `events.outcome = 'voided'` | no row (its earlier rows cancelled);
  it counts as applied in neither;
- an event the fold refuses, or a correction refused (unknown target, correction of a
  correction, invalid amendment): `events.outcome = 'rejected'` with its `reason` |
  a `rejections` row of its type and reason, sign 1;
- a message that is no event (undecodable, invalid content): a `rejected_events` row
  without `event_id` | a `rejections` row of type '' and the same reason. (A record
  PostgreSQL itself refused, `store_refused`, is such a row too; the indicator
  processor, which never meets that refusal, counts the event: a real difference.)

A re-fold changes an event's outcome in place in PostgreSQL and writes the difference
as signed rows in ClickHouse, so both sides are net figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from projections.clickhouse_schema import DATABASE
from projections.domain.store_agreement import NO_EVENT, Figures, counted


def pg_age(day: str, birth: str) -> str:
    """Age in completed years on `day` in PostgreSQL, as `schemas.models.age_on` counts it:
    the difference of the years, less one if the day of the year comes before the
    birthday (month and day compared as month * 100 + day)."""
    return (
        f"(date_part('year', {day}) - date_part('year', {birth})"
        f" - CASE WHEN date_part('month', {day}) * 100 + date_part('day', {day})"
        f" < date_part('month', {birth}) * 100 + date_part('day', {birth})"
        " THEN 1 ELSE 0 END)::int"
    )


def ch_age(day: str, birth: str) -> str:
    """The same age in ClickHouse."""
    return (
        f"toInt32(toYear({day})) - toInt32(toYear({birth}))"
        f" - if(toMonth({day}) * 100 + toDayOfMonth({day})"
        f" < toMonth({birth}) * 100 + toDayOfMonth({birth}), 1, 0)"
    )


# A person counts on a date while a member of a household: joined on or before it and
# not left by its end. Death, a move out and a move between households close the
# membership on their date (`projections/domain/fold.py` `_leave`), so this is the indicator
# fold's "alive, resident and in a household" (`IndicatorFold._stock`) read from the
# dated memberships; persons who joined and left on the same day count on neither side.
POPULATION = f"""
    SELECT d.day, h.commune_code, p.sex, {pg_age("d.day", "p.birth_date")} AS age, count(*)
    FROM unnest(%s::date[]) AS d(day)
    JOIN household_members m ON m.joined_on <= d.day AND (m.left_on IS NULL OR m.left_on > d.day)
    JOIN persons p ON p.person_id = m.person_id
    JOIN households h ON h.household_id = m.household_id
    GROUP BY 1, 2, 3, 4
"""
HOUSEHOLDS = "SELECT commune_code, count(*) FROM households WHERE dissolved_on IS NULL GROUP BY 1"
APPLIED = (
    "SELECT event_type, count(*) FROM events WHERE topic = %s AND outcome = 'applied' GROUP BY 1"
)
REJECTED = f"""
    SELECT event_type, reason, count(*) FROM events
    WHERE topic = %(topic)s AND outcome = 'rejected' GROUP BY 1, 2
    UNION ALL
    SELECT '{NO_EVENT}', reason, count(*) FROM rejected_events
    WHERE topic = %(topic)s AND event_id IS NULL GROUP BY 2
"""


def registry_years(url: str, topic: str) -> set[int]:
    """The years in which the archived events occurred."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT date_part('year', occurred_on)::int FROM events WHERE topic = %s",
            (topic,),
        ).fetchall()
    return {int(y) for (y,) in rows}


def registry_figures(url: str, topic: str, dates: list[date]) -> Figures:
    """The registry's figures, all read in one snapshot of the database."""
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            population = conn.execute(POPULATION, (dates,)).fetchall()
            households = conn.execute(HOUSEHOLDS).fetchall()
            applied = conn.execute(APPLIED, (topic,)).fetchall()
            rejected = conn.execute(REJECTED, {"topic": topic}).fetchall()
    return _figures(population, households, applied, rejected)


def indicator_years(client: Any) -> set[int]:
    """The years of the population deltas' dates."""
    rows = client.query(
        f"SELECT DISTINCT toYear(on_date) FROM {DATABASE}.population_deltas"
    ).result_rows
    return {int(y) for (y,) in rows}


def indicator_figures(client: Any, dates: list[date]) -> Figures:
    """The indicator tables summed: the population deltas dated on or before each date,
    the household deltas, the events' and rejections' signs. `client` is the writer's:
    the analysts' endpoint suppresses small counts."""
    days = ", ".join(f"toDate32('{d.isoformat()}')" for d in dates)
    population = client.query(
        f"SELECT day, commune_code, sex, {ch_age('day', 'birth_date')} AS age, sum(delta)"
        f" FROM {DATABASE}.population_deltas ARRAY JOIN [{days}] AS day"
        " WHERE on_date <= day GROUP BY day, commune_code, sex, age"
    ).result_rows
    households = client.query(
        f"SELECT commune_code, sum(delta) FROM {DATABASE}.household_deltas GROUP BY commune_code"
    ).result_rows
    applied = client.query(
        f"SELECT event_type, sum(sign) FROM {DATABASE}.vital_events GROUP BY event_type"
    ).result_rows
    rejected = client.query(
        f"SELECT event_type, reason, sum(sign) FROM {DATABASE}.rejections"
        " GROUP BY event_type, reason"
    ).result_rows
    return _figures(population, households, applied, rejected)


def _figures(*tables: list[tuple[Any, ...]]) -> Figures:
    """Rows of (key..., count) per figure, in the order of Figures' fields; a NULL key
    part reads as '' so that keys sort."""
    clean = [[tuple("" if v is None else v for v in row) for row in rows] for rows in tables]
    population, households, applied, rejected = (counted(rows) for rows in clean)
    return Figures(population, households, applied, rejected)
