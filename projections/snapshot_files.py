"""A snapshot on disk: Parquet tables, a summary and a manifest that says what it is.

`manifest.json` records what was read (topic, partitions, first and last offsets),
the cutoffs, the event counts, the popreg version and the snapshot's content hash,
so an auditor can tell two snapshots apart, or prove they are the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from popreg import __version__
from projections.replay import Cutoffs, Snapshot
from projections.state_tables import COLUMNS

FILES = {"households": "households", "household_members": "members", "persons": "persons"}


def write(snapshot: Snapshot, out: Path, read: dict[str, Any], cutoffs: Cutoffs) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for table, name in FILES.items():
        columns = COLUMNS[table]
        rows = [dict(zip(columns, row, strict=True)) for row in snapshot.tables[table]]
        empty = {c: pa.array([], pa.string()) for c in columns}
        arrow = pa.Table.from_pylist(rows) if rows else pa.table(empty)
        pq.write_table(arrow, out / f"{name}.parquet")
    (out / "summary.json").write_text(json.dumps(snapshot.summary, indent=1) + "\n")
    manifest = {
        **read,
        "as_of": cutoffs.as_of.isoformat(),
        "known_at": cutoffs.known_at.isoformat(),
        "events_counted": snapshot.counted,
        "effective_events_by_type": snapshot.by_type,
        "rows": {FILES[t]: len(rows) for t, rows in snapshot.tables.items()},
        "popreg_version": __version__,
        "content_hash": snapshot.content_hash,
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return path
