"""Checking the live registry against a replay of the log: the auditors' proof.

The replay is the fold of every event in the log; the live tables must hold exactly
its rows. A difference names the table, the row's key and both versions. `diff`
answers the other question auditors ask: what changed between two dates.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from projections.domain.as_of import Cutoffs, Scope, take
from projections.domain.history import effective_events
from projections.domain.state_rows import COLUMNS
from projections.memory import bulk
from schemas.admin_units import AdminUnits
from schemas.models import Event

Rows = dict[str, list[tuple[Any, ...]]]
KEYS = {
    "households": ("household_id",),
    "persons": ("person_id",),
    "household_members": ("household_id", "person_id", "joined_on"),
}


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    replayed: tuple[Any, ...] | None
    live: tuple[Any, ...] | None


def live_rows(url: str) -> Rows:
    found: Rows = {}
    with psycopg.connect(url) as conn:
        for table, columns in COLUMNS.items():
            names = ", ".join(f'"{c}"' for c in columns)
            found[table] = conn.execute(f"SELECT {names} FROM {table}").fetchall()
    return found


def differences(replayed: Rows, live: Rows) -> list[Difference]:
    found: list[Difference] = []
    for table, columns in COLUMNS.items():
        at = [columns.index(c) for c in KEYS[table]]
        ours = {tuple(row[i] for i in at): row for row in replayed.get(table, [])}
        theirs = {tuple(row[i] for i in at): row for row in live.get(table, [])}
        for key in sorted(ours.keys() | theirs.keys(), key=lambda k: json.dumps(k, default=str)):
            if ours.get(key) != theirs.get(key):
                found.append(Difference(table, key, ours.get(key), theirs.get(key)))
    return found


@dataclass(frozen=True)
class Change:
    """An effective event between the two dates: what happened, where, when known."""

    occurred_on: date
    recorded_at: datetime
    type: str
    event_id: str
    commune_code: str
    household_id: str


@dataclass
class Diff:
    changes: list[Change]  # in history order
    by_type: dict[str, int]
    population: list[dict[str, Any]]  # per commune: residents on each date, and the change
    households: list[dict[str, Any]]


@bulk
def diff(
    events: list[Event],
    units: AdminUnits,
    start: date,
    end: date,
    known_at: datetime,
    scope: Scope,
) -> Diff:
    """What changed from the registry as of `start` to the registry as of `end` (both as
    known at `known_at`): the events that occurred after `start` up to `end`, and the
    residents and households per commune on both dates."""
    known = [e for e in events if Cutoffs(end, known_at).known(e)]
    changes = [
        Change(
            env.occurred_on,
            env.recorded_at,
            e.type,
            str(env.event_id),
            env.commune_code,
            env.household_id,
        )
        for e in effective_events(known)
        if start < (env := e.envelope).occurred_on <= end
        and scope.holds(env.commune_code, units, env.occurred_on)
    ]
    before, after = (take(known, units, Cutoffs(day, known_at), scope) for day in (start, end))
    return Diff(
        changes,
        dict(sorted(Counter(c.type for c in changes).items())),
        _compare(before.summary["population"], after.summary["population"], "persons"),
        _compare(before.summary["households"], after.summary["households"], "households"),
    )


def _compare(
    before: list[dict[str, Any]], after: list[dict[str, Any]], count: str
) -> list[dict[str, Any]]:
    was, now = Counter[str](), Counter[str]()
    for rows, into in ((before, was), (after, now)):
        for row in rows:
            into[row["commune_code"]] += row[count]
    return [
        {"commune_code": c, "before": was[c], "after": now[c], "change": now[c] - was[c]}
        for c in sorted(was.keys() | now.keys())
    ]
