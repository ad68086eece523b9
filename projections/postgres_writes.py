"""Writing rows into PostgreSQL: COPY, and the reader's positions with the rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg


def store_positions(
    cur: psycopg.Cursor[Any], consumer: str, topic: str, offsets: dict[int, int]
) -> None:
    """The next offset to read per partition, in the transaction of the rows it covers."""
    cur.executemany(
        "INSERT INTO consumer_positions (consumer, topic, partition, next_offset)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (consumer, topic, partition)"
        " DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
        [(consumer, topic, p, offset) for p, offset in offsets.items()],
    )


def copy_rows(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
