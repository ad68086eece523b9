"""The registry as of a date, on disk: Parquet tables, a summary and a manifest that
says what it is.

`manifest.json` records what was read (topic, partitions, first and last offsets),
the cutoffs, the event counts, the popreg version and its content hash,
so an auditor can tell two apart, or prove they are the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from projections.domain.as_of import AsOfRegistry, Cutoffs
from projections.domain.state_rows import COLUMNS
from projections.postgres_writes import copy_rows
from schemas.version import VERSION

FILES = {"households": "households", "household_members": "members", "persons": "persons"}


def manifest_of(registry: AsOfRegistry, read: dict[str, Any], cutoffs: Cutoffs) -> dict[str, Any]:
    return {
        **read,
        "as_of": cutoffs.as_of.isoformat(),
        "known_at": cutoffs.known_at.isoformat(),
        "events_counted": registry.counted,
        "effective_events_by_type": registry.by_type,
        "rows": {FILES[t]: len(rows) for t, rows in registry.tables.items()},
        "popreg_version": VERSION,
        "content_hash": registry.content_hash,
    }


def write(registry: AsOfRegistry, out: Path, manifest: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    write_tables(registry.tables, out)
    (out / "summary.json").write_text(json.dumps(registry.summary, indent=1) + "\n")
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return path


def write_tables(tables: dict[str, list[tuple[Any, ...]]], out: Path) -> None:
    """The registry tables as Parquet files, one per table, rows in the given order."""
    for table, name in FILES.items():
        columns, rows = COLUMNS[table], tables[table]
        arrow = pa.table(
            {c: pa.array([row[i] for row in rows]) for i, c in enumerate(columns)}
            if rows
            else {c: pa.array([], pa.string()) for c in columns}
        )
        pq.write_table(arrow, out / f"{name}.parquet")


def read_tables(where: Path) -> dict[str, list[dict[str, Any]]]:
    """The tables back as one dict per row (column by column: faster than pyarrow's rows)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, name in FILES.items():
        arrow = pq.read_table(where / f"{name}.parquet")
        columns = [arrow.column(c).to_pylist() for c in arrow.column_names]
        names = arrow.column_names
        found[table] = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    return found


def to_postgres(registry: AsOfRegistry, url: str, schema: str, manifest: dict[str, Any]) -> None:
    """The registry as of a date, as tables of their own schema (shaped like the live ones), for SQL
    work; replaced whole in one transaction, with the manifest as a one-row table."""
    if not schema.isidentifier() or schema.lower() in {"public", "analyst", "pg_catalog"}:
        raise ValueError(f"--to-postgres wants a new schema name, got {schema!r}")
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
        for table, columns in COLUMNS.items():
            cur.execute(f'CREATE TABLE "{schema}".{table} (LIKE public.{table} INCLUDING DEFAULTS)')
            copy_rows(cur, f'"{schema}".{table}', columns, registry.tables[table])
        cur.execute(f'CREATE TABLE "{schema}".manifest (doc jsonb NOT NULL)')
        cur.execute(
            f'INSERT INTO "{schema}".manifest VALUES (%s)', (json.dumps(manifest, default=str),)
        )
