"""The read log: who looked at which households and events through the app.

Every call of the read API appends one JSON line to `<data_dir>/gateway/reads.jsonl`
(0600): when, which collaborator, the route, what was asked, and the ids returned, so
that an inspector can answer "who saw this family, and when". It holds ids, never
names: a search by a head's name is logged as a name search of so many characters,
not as the name typed (a hash of a name would be no protection: names are few).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.settings import Settings


class ReadRecord(BaseModel):
    at: datetime
    collaborator: str
    route: str
    query: dict[str, Any]
    ids: list[str]


def read_log_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "gateway" / "reads.jsonl"


class ReadLog:
    """Appends whole lines, one write each, so concurrent requests never interleave."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def append(self, collaborator: str, route: str, query: dict[str, Any], ids: list[str]) -> None:
        record = ReadRecord(
            at=datetime.now(UTC), collaborator=collaborator, route=route, query=query, ids=ids
        )
        line = (json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n").encode()
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def read_records(path: Path) -> list[ReadRecord]:
    """The log's records, oldest first (for inspection and tests)."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [ReadRecord.model_validate_json(line) for line in lines if line]
