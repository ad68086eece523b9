"""Checking the live registry against a replay of the log: the auditors' proof.

The replay is the fold of every event in the log; the live tables must hold exactly
its rows. A difference names the table, the row's key and both versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg

from projections.state_tables import COLUMNS

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
