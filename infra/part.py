"""What every part of the stack (broker, PostgreSQL, ClickHouse, S3 store) can do."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infra import procs
from schemas.settings import Settings

Mode = Literal["embedded", "external"]


@dataclass(frozen=True)
class PartStatus:
    name: str
    mode: Mode
    pid: int | None
    address: str
    healthy: bool
    detail: str
    data_bytes: int | None


class Part(ABC):
    """A server the stack needs. Embedded parts are started and stopped by pid; external
    parts are only checked."""

    name: str
    graceful_signal: signal.Signals = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.resolved_data_dir

    @property
    @abstractmethod
    def embedded(self) -> bool: ...

    @property
    @abstractmethod
    def address(self) -> str: ...

    def ports(self) -> dict[int, str]:
        """Loopback ports an embedded part will listen on, with what each is for."""
        return {}

    def data_path(self) -> Path | None:
        return None

    @abstractmethod
    def require_binaries(self) -> None:
        """Raise StackError naming a missing binary and how to get it."""

    @abstractmethod
    def launch(self) -> procs.PidRecord:
        """Spawn the embedded server (prepare its data directory first if needed)."""

    @abstractmethod
    def check(self) -> str:
        """A real round trip to the server; returns a short detail, raises on failure."""

    def running(self) -> procs.PidRecord | None:
        record = procs.read_pid(self.data_dir, self.name)
        if record is not None and record.process() is not None:
            return record
        return None

    def ready(self) -> bool:
        """Whether a just-launched server is up; a real round trip unless a part says otherwise."""
        try:
            self.check()
        except Exception:
            return False
        return True

    def start(self) -> bool:
        """Start the part unless it is external or already running; True if it was started."""
        if not self.embedded or self.running() is not None:
            return False
        record = self.launch()
        procs.wait_until(
            record,
            self.ready,
            self.settings.embedded.start_timeout_s,
            f"{self.name} ({self.address})",
        )
        return True

    def stop(self) -> str:
        if not self.embedded:
            return "external, left alone"
        return procs.stop(
            self.data_dir, self.name, self.settings.embedded.stop_timeout_s, self.graceful_signal
        )

    def status(self) -> PartStatus:
        record = self.running() if self.embedded else None
        if self.embedded and record is None:
            healthy, detail = False, "not running"
        else:
            try:
                healthy, detail = True, self.check()
            except Exception as exc:
                healthy, detail = False, f"unhealthy: {exc}"
        path = self.data_path()
        return PartStatus(
            name=self.name,
            mode="embedded" if self.embedded else "external",
            pid=record.pid if record else None,
            address=self.address,
            healthy=healthy,
            detail=detail,
            data_bytes=procs.dir_size(path) if path is not None and path.exists() else None,
        )
