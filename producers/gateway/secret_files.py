"""The gateway's small secret files (tokens, the collaborators' roster): 0600, replaced
atomically, read-modify-written under a lock, and re-read by the running gateway when
they change.

Both `popreg gateway ...` commands and the running gateway touch these files: the
lock serialises the commands, the atomic replace means the gateway never reads half a
file, and the watch means a revocation takes effect at the next request, no restart.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import ValidationError

log = logging.getLogger("popreg.gateway")

T = TypeVar("T")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file with `data` (mode 0600), so a reader never sees half of it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the file between concurrent `popreg` commands."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock_fd)


class WatchedFile(Generic[T]):
    """A file's parsed content, re-read when the file changes: no restart needed.

    A file replaced atomically gets a new inode, so a change is seen even when two
    writes fall within the file system's mtime resolution. A file that cannot be read
    or parsed keeps the previous content (and says so in the log) rather than let a
    half-edited file lock everyone out or in.
    """

    def __init__(self, path: Path, read: Callable[[Path], T], empty: T) -> None:
        self._path = path
        self._read = read
        self._lock = threading.Lock()
        self._version: tuple[int, int, int] | None = None
        self._content = empty

    def current(self) -> T:
        try:
            stat = self._path.stat()
            version: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            version = None
        with self._lock:
            if version != self._version:
                self._version = version
                try:
                    self._content = self._read(self._path)
                except (OSError, ValidationError) as error:
                    log.error(
                        "%s unreadable, keeping its previous content: %s",
                        self._path,
                        type(error).__name__,
                    )
            return self._content
