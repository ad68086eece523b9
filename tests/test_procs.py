"""Process handling: pid files, graceful then forceful stop, port checks."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from infra import procs
from schemas.settings import LOOPBACK

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + (
    "print('ready', flush=True); time.sleep(600)"
)


def wait_for_log(path: Path, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.02)


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[procs.PidRecord]:
    """A process to find and stop, killed by its pid at the end if a test could not."""
    argv = [sys.executable, "-c", "import time; time.sleep(600)"]
    record = procs.spawn(tmp_path, "sleeper", argv, "-")
    started = psutil.Process(record.pid)  # psutil refuses to signal a pid reused since
    yield record
    with contextlib.suppress(psutil.NoSuchProcess):
        started.kill()


def test_stop_is_graceful_first(tmp_path: Path, sleeper: procs.PidRecord) -> None:
    record = sleeper
    assert procs.read_pid(tmp_path, "sleeper") == record
    assert procs.stop(tmp_path, "sleeper", timeout_s=5) == "stopped"
    assert not psutil.pid_exists(record.pid) or record.process() is None
    assert procs.read_pid(tmp_path, "sleeper") is None


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    record = procs.spawn(tmp_path, "stubborn", [sys.executable, "-c", IGNORES_SIGTERM], "-")
    wait_for_log(Path(record.log), "ready")
    assert procs.stop(tmp_path, "stubborn", timeout_s=0.5) == "killed after 0s"
    assert record.process() is None


@pytest.mark.parametrize(
    ("started_s", "boot"),
    [(-100, procs.boot_id()), (-0.1, procs.boot_id()), (0, "another-boot")],
    ids=["started earlier", "started 0.1 s apart", "in another boot"],
)
def test_a_reused_pid_is_not_mistaken_for_our_process(
    tmp_path: Path, started_s: float, boot: str
) -> None:
    me = psutil.Process()
    started = procs.since_boot(me) + started_s
    procs.write_pid(tmp_path, procs.PidRecord("ghost", me.pid, started, boot, "-", "-"))
    assert procs.read_pid(tmp_path, "ghost") is not None
    assert procs.stop(tmp_path, "ghost", timeout_s=1) == "not running (stale pid file removed)"
    assert me.is_running()


def test_a_clock_step_does_not_lose_our_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleeper: procs.PidRecord
) -> None:
    """The kernel's boot time follows the clock: psutil's start times move with it."""
    record = sleeper
    booted = psutil.boot_time()
    monkeypatch.setattr(psutil._psplatform, "boot_time", lambda: booted + 5.0)
    assert abs(psutil.Process(record.pid).create_time() - booted - record.started) > 4
    assert record.process() is not None
    assert procs.stop(tmp_path, "sleeper", timeout_s=5) == "stopped"
    assert not psutil.pid_exists(record.pid) or record.process() is None


def test_a_pid_file_of_the_earlier_format_still_names_its_process(
    tmp_path: Path, sleeper: procs.PidRecord
) -> None:
    record = sleeper
    earlier = {
        "name": "sleeper",
        "pid": record.pid,
        "create_time": psutil.Process(record.pid).create_time(),
        "address": "-",
        "log": record.log,
    }
    procs.pid_path(tmp_path, "sleeper").write_text(json.dumps(earlier))
    found = procs.read_pid(tmp_path, "sleeper")
    assert found is not None and found.process() is not None
    assert procs.stop(tmp_path, "sleeper", timeout_s=5) == "stopped"


def test_wait_until_reports_a_dead_process_with_its_log(tmp_path: Path) -> None:
    code = "import sys; print('config error: bad flag', flush=True); sys.exit(3)"
    record = procs.spawn(tmp_path, "dies", [sys.executable, "-c", code], "-")
    with pytest.raises(procs.StackError, match=r"(?s)dies exited while starting.*bad flag"):
        procs.wait_until(record, lambda: False, timeout_s=10, what="dies")


def test_a_taken_port_is_named_with_its_owner() -> None:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not procs.port_is_free(LOOPBACK, port)
        with pytest.raises(procs.StackError, match=f"port {port} on 127.0.0.1 \\(broker\\)"):
            procs.require_free_ports(LOOPBACK, {port: "broker"})
    assert procs.port_is_free(LOOPBACK, port)
