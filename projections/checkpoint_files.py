"""Checkpoints on disk, one directory each under `<data_dir>/checkpoints/`.

The registry as Parquet tables (the snapshot's own format), the settled event ids,
the tail's raw records, and `checkpoint.json`: what the checkpoint covers and the
SHA-256 of every file, so a damaged or edited checkpoint is refused, not used. A
checkpoint is written into a hidden directory and renamed into place, so a crash
while writing leaves nothing that looks like one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from projections.as_of_files import FILES, read_tables, write_tables
from projections.domain.checkpoint import Checkpoint, Refused
from projections.domain.record import Record
from projections.domain.state_rows import current_rows, registry_of
from schemas.codec import DecodeError, encode_single_object
from schemas.version import VERSION
from schemas.wire import Codec

META = "checkpoint.json"
SETTLED, TAIL = "settled.parquet", "tail.parquet"


class Meta(BaseModel):
    """What a checkpoint covers, as `checkpoint.json` states it."""

    topic: str
    positions: dict[int, int]
    settled_through: date
    known_through: datetime | None
    counted: int
    by_type: dict[str, int]
    taken_at: datetime
    popreg_version: str
    sha256: dict[str, str]


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def save(checkpoint: Checkpoint, root: Path) -> Path:
    taken_at = datetime.now(UTC)
    name = f"{taken_at:%Y%m%dT%H%M%S%fZ}"
    partial = root / f".{name}.partial"
    partial.mkdir(parents=True)
    registry = checkpoint.registry
    write_tables(current_rows(registry, registry.households, registry.persons), partial)
    ids = sorted(checkpoint.settled_ids)
    pq.write_table(pa.table({"event_id": pa.array(ids, pa.binary(16))}), partial / SETTLED)
    tail = checkpoint.tail
    pq.write_table(
        pa.table(
            {
                "partition": pa.array([r.partition for r in tail], pa.int32()),
                "offset": pa.array([r.offset for r in tail], pa.int64()),
                "value": pa.array([_raw(r) for r in tail], pa.binary()),
            }
        ),
        partial / TAIL,
    )
    files = [f"{n}.parquet" for n in FILES.values()] + [SETTLED, TAIL]
    meta = Meta(
        topic=checkpoint.topic,
        positions=checkpoint.positions,
        settled_through=checkpoint.settled_through,
        known_through=checkpoint.known_through,
        counted=checkpoint.counted,
        by_type=checkpoint.by_type,
        taken_at=taken_at,
        popreg_version=VERSION,
        sha256={f: _digest(partial / f) for f in files},
    )
    (partial / META).write_text(meta.model_dump_json(indent=1) + "\n")
    final = root / name
    partial.rename(final)
    return final


def listed(root: Path) -> list[Path]:
    """Checkpoint directories, newest first."""
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if (p / META).is_file()), reverse=True)


def meta_of(where: Path) -> Meta:
    try:
        return Meta.model_validate_json((where / META).read_text())
    except (OSError, ValidationError) as error:
        raise Refused(f"unreadable {META}: {error}") from None


def load(where: Path, meta: Meta, codec: Codec) -> Checkpoint:
    """The checkpoint in `where`, its files checked against their digests."""
    for name, expected in meta.sha256.items():
        if not (where / name).is_file() or _digest(where / name) != expected:
            raise Refused(f"{name} is missing or does not match its digest")
    ids = pq.read_table(where / SETTLED).column("event_id").to_pylist()
    tail = [_record(row, codec) for row in pq.read_table(where / TAIL).to_pylist()]
    return Checkpoint(
        meta.topic,
        meta.positions,
        meta.settled_through,
        meta.known_through,
        registry_of(read_tables(where)),
        frozenset(ids),
        tail,
        meta.counted,
        meta.by_type,
    )


def _raw(record: Record) -> bytes | None:
    """The record's bytes; a decoded event is kept re-encoded (the bulk reader drops
    the bytes of what it decodes), which decodes to the same event."""
    if record.event is None:
        return record.value
    return record.value or encode_single_object(record.event)


def _record(row: dict[str, Any], codec: Codec) -> Record:
    try:
        return Record(
            row["partition"], row["offset"], codec.decode(row["value"]), None, row["value"]
        )
    except DecodeError as error:
        return Record(row["partition"], row["offset"], None, error, row["value"])


def prune(root: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` checkpoints (and any partial one); the removed."""
    gone = listed(root)[keep:] + sorted(root.glob(".*.partial"))
    for path in gone:
        shutil.rmtree(path)
    return gone


def summary_of(where: Path, meta: Meta) -> dict[str, Any]:
    """How a manifest names the checkpoint it started from."""
    return {"path": str(where), **json.loads(meta.model_dump_json(exclude={"sha256"}))}
