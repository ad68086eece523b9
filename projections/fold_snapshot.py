"""The indicator processor's fold on disk, so that a start need not fold the whole log.

The processor keeps its fold in memory, and without a snapshot every start reads and
folds the log from offset 0 (a quarter of an hour or more for a Cà Mau-sized
province). A snapshot is the pickled `IndicatorState` at known positions; a start loads
it, takes the records after it, and reconciles the tables as before.

One file, `<data_dir>/indicator-fold/fold.snapshot`: the pickle, then a JSON trailer
and the trailer's length. It is written under a hidden name and renamed into place,
so a reader meets a whole snapshot or none. The trailer says what it covers and
refuses what it cannot serve:
- the positions (next offset per partition), and a stamp of the last record taken
  from each partition, which a start finds again in the log (a topic recreated under
  the same name is not the log the snapshot was folded from);
- a fingerprint of the code and data the fold depends on: a snapshot from other code
  is refused, and the start folds the log again, which is what brings the tables to a
  changed fold's figures;
- an id of the pseudonym key (an HMAC of a constant, not the key), and the SHA-256 of
  the pickle.
The admin-unit tables and the key stay out of the pickle and are attached on load.
The pickle holds the events' bytes, names included, like the broker's own log: the
file is readable by its owner only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import IO, Any

from projections.domain.checkpoint import Refused
from projections.domain.indicator_rows import IndicatorState
from projections.domain.record import Record
from schemas.admin_units import DATA_DIR as UNITS_DIR
from schemas.admin_units import AdminUnits

FORMAT = 1
NO_UNITS = AdminUnits({}, {}, (), {})  # a stand-in in the file, replaced on load
NAME = "fold.snapshot"
TRAILER = 8  # bytes of the trailer's length, big-endian
ROOT = Path(__file__).resolve().parent.parent
# What the fold's output depends on: the pure domain's code (the fold and the indicator
# rows), the ground floor (event model, schemas, units). Adapters may change freely.
FOLD_SOURCES = ("projections/domain/*.py", "schemas/*.py", "schemas/avro/**/*.avsc")

Stamp = tuple[int, str]  # (offset, event id or digest of an undecodable record's bytes)


@dataclass(frozen=True)
class Snapshot:
    state: IndicatorState
    positions: dict[int, int]
    stamps: dict[int, Stamp]  # partition -> the last record the fold took from it


def directory(data_dir: Path) -> Path:
    return data_dir / "indicator-fold"


def stamp(record: Record) -> Stamp:
    if record.event is not None:
        return record.offset, str(record.event.envelope.event_id)
    return record.offset, hashlib.sha256(record.value or b"").hexdigest()[:32]


def stamps_of(records: list[Record], into: dict[int, Stamp]) -> None:
    """Keep, per partition, the stamp of the record with the highest offset."""
    for record in records:
        if record.partition not in into or into[record.partition][0] < record.offset:
            into[record.partition] = stamp(record)


def fold_sources() -> list[Path]:
    """The files a snapshot's fingerprint covers: a change to any makes it stale."""
    files = sorted({p for pattern in FOLD_SOURCES for p in ROOT.glob(pattern)})
    return [*files, *sorted(UNITS_DIR.iterdir())]


@cache
def fingerprint() -> str:
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in fold_sources():
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        digest.update(str(name).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key_id(secret: bytes) -> str:
    return hmac.new(secret, b"popreg indicator fold", hashlib.sha256).hexdigest()[:32]


class _Hashed:
    """A file that hashes what goes through it."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file, self.digest, self.size = file, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.file.write(data)


def save(snapshot: Snapshot, topic: str, root: Path) -> Path:
    """Write the snapshot in place of the one there; returns its path."""
    root.mkdir(parents=True, exist_ok=True)
    fold = snapshot.state.fold
    partial = root / f".{NAME}.{os.getpid()}.partial"
    for left in root.glob(f".{NAME}.*.partial"):  # by writers killed mid-way
        left.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb", buffering=1 << 20) as file:
        hashed = _Hashed(file)
        pickle.dump(_detached(snapshot.state), hashed, protocol=pickle.HIGHEST_PROTOCOL)
        trailer = json.dumps(
            {
                "format": FORMAT,
                "topic": topic,
                "positions": snapshot.positions,
                "stamps": snapshot.stamps,
                "fingerprint": fingerprint(),
                "key": key_id(fold.secret),
                "events": len(snapshot.state.events) + len(snapshot.state.corrections),
                "size": hashed.size,
                "sha256": hashed.digest.hexdigest(),
            }
        ).encode()
        file.write(trailer + len(trailer).to_bytes(TRAILER, "big"))
        file.flush()
        os.fsync(file.fileno())
    final = root / NAME
    partial.rename(final)
    return final


def load(root: Path, topic: str, units: AdminUnits, secret: bytes) -> Snapshot:
    """The snapshot in `root`; raises Refused, saying why, if it cannot serve."""
    path = root / NAME
    try:
        with path.open("rb") as file:
            meta = _trailer(file)
            for name, want in (
                ("format", FORMAT),
                ("topic", topic),
                ("fingerprint", fingerprint()),
                ("key", key_id(secret)),
            ):
                if meta.get(name) != want:
                    raise Refused(f"it was taken with another {name}")
            file.seek(0)
            if _digest(file, meta["size"]) != meta["sha256"]:
                raise Refused("its content does not match its digest")
            positions = {int(p): int(o) for p, o in meta["positions"].items()}
            stamps = {int(p): (int(o), str(s)) for p, (o, s) in meta["stamps"].items()}
            file.seek(0)
            state = pickle.load(file)
    except FileNotFoundError:
        raise Refused("there is none") from None
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        AttributeError,
        TypeError,
        ImportError,
        pickle.UnpicklingError,
    ) as error:
        raise Refused(f"it is unreadable ({type(error).__name__}: {error})") from None
    if not isinstance(state, IndicatorState):
        raise Refused(f"it holds a {type(state).__name__}")
    state.fold = replace(state.fold, units=units, secret=secret)
    return Snapshot(state, positions, stamps)


@dataclass(frozen=True)
class Summary:
    positions: dict[int, int]
    events: int
    age_s: float


def summary(root: Path) -> Summary | None:
    """What the snapshot covers and how old it is, from its trailer; None if there is
    none. Raises ValueError or OSError if it is unreadable."""
    path = root / NAME
    try:
        with path.open("rb") as file:
            meta = _trailer(file)
        age_s = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
    try:
        positions = {int(p): int(o) for p, o in meta["positions"].items()}
        return Summary(positions, int(meta["events"]), age_s)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"the trailer lacks {error}") from None


def _detached(state: IndicatorState) -> IndicatorState:
    """The state sharing everything but the units and the key, which stay out of the
    file (a persistent id for them would cost a Python call per pickled object)."""
    return replace(state, fold=replace(state.fold, units=NO_UNITS, secret=b""))


def _trailer(file: IO[bytes]) -> dict[str, Any]:
    end = file.seek(0, os.SEEK_END)
    if end < TRAILER:
        raise ValueError("the file is too short")
    file.seek(end - TRAILER)
    length = int.from_bytes(file.read(TRAILER), "big")
    if length > end - TRAILER:
        raise ValueError("the trailer's length is out of range")
    file.seek(end - TRAILER - length)
    meta = json.loads(file.read(length))
    if not isinstance(meta, dict) or meta.get("size") != end - TRAILER - length:
        raise ValueError("the trailer does not describe this file")
    return meta


def _digest(file: IO[bytes], size: int) -> str:
    """The SHA-256 of the file's first `size` bytes."""
    digest = hashlib.sha256()
    while size > 0:
        chunk = file.read(min(size, 1 << 20))
        if not chunk:
            raise ValueError("the file is shorter than its trailer says")
        digest.update(chunk)
        size -= len(chunk)
    return digest.hexdigest()
