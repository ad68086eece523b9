"""Which event_ids this gateway already put on the topic, so a retry is not published twice.

Mobile apps resend when an answer is lost; the store turns such a resend into
"duplicate" with the original partition and offset. A row is written only after the
broker acknowledged the event, so a crash in between means at most one extra copy
on the topic, never a lost event.

The store is per gateway instance (SQLite under the instance's data dir). On a
cluster of several gateways a resend can reach another instance and be published
again: there the downstream sinks' idempotence on event_id remains the guarantee.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from schemas.models import Event
from schemas.settings import Settings
from schemas.validation import event_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted (
    event_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset INTEGER NOT NULL,
    accepted_at TEXT NOT NULL
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class Accepted:
    """Where an event landed, and a hash of its content to tell a resend from a conflict."""

    content_sha256: str
    partition: int
    offset: int


def content_hash(event: Event) -> str:
    """SHA-256 of the canonical JSON, so equal events hash equally however they were written."""
    canonical = json.dumps(
        event_json(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def store_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "gateway" / "accepted.sqlite"


class AcceptedStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def find(self, event_ids: Iterable[UUID]) -> dict[UUID, Accepted]:
        found: dict[UUID, Accepted] = {}
        with self._lock:
            for event_id in set(event_ids):
                row = self._db.execute(
                    "SELECT content_sha256, kafka_partition, kafka_offset FROM accepted"
                    " WHERE event_id = ?",
                    (str(event_id),),
                ).fetchone()
                if row is not None:
                    found[event_id] = Accepted(*row)
        return found

    def record(self, accepted: dict[UUID, Accepted]) -> None:
        now = datetime.now(UTC).isoformat()
        rows = [
            (str(event_id), a.content_sha256, a.partition, a.offset, now)
            for event_id, a in accepted.items()
        ]
        with self._lock, self._db:  # one transaction, one fsync per batch
            self._db.executemany("INSERT OR IGNORE INTO accepted VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
