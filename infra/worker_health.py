"""What a worker tells its supervisor beyond its exit code: its last error, and whether
it has written a batch since it started.

A worker that fails on the same batch every time it starts (a database refusing every
write, say) is alive for part of the time between restarts, and must not look healthy
then. The supervisor reads both files
(`infra/supervisor.py`) and reports such a worker as failing, with its last error, until
it writes a batch or has run for a minute.

The error is one line: the exception's type and the first line of its message, made
printable and cut short, since a server's message can quote what it refused.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from schemas.text import printable

ERROR_CHARS = 300


def error_path(data_dir: Path, name: str) -> Path:
    return data_dir / "run" / f"worker-{name}.error.json"


def progress_path(data_dir: Path, name: str) -> Path:
    return data_dir / "run" / f"worker-{name}.progress"


def error_line(error: BaseException) -> str:
    first = (str(error).splitlines() or [""])[0]
    return printable(f"{type(error).__name__}: {first}")[:ERROR_CHARS]


def report_failure(data_dir: Path, name: str, error: BaseException) -> None:
    """Keep the error that ends this worker, for `popreg status`."""
    doc = {"pid": os.getpid(), "at": time.time(), "error": error_line(error)}
    _replace(error_path(data_dir, name), json.dumps(doc))


def report_progress(data_dir: Path, name: str) -> None:
    """This worker (by pid) has written a batch since it started."""
    _replace(progress_path(data_dir, name), str(os.getpid()))


def last_error(data_dir: Path, name: str) -> str | None:
    try:
        doc = json.loads(error_path(data_dir, name).read_text())
    except (OSError, ValueError):
        return None
    found = doc.get("error") if isinstance(doc, dict) else None
    return found if isinstance(found, str) else None


def progressed(data_dir: Path, name: str, pid: int) -> bool:
    """Whether the worker with this pid has written a batch."""
    try:
        return progress_path(data_dir, name).read_text().strip() == str(pid)
    except OSError:
        return False


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(text)
    temporary.replace(path)
