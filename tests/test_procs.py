"""Process handling: pid files, graceful then forceful stop, port checks."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import psutil
import pytest

from infra import procs
from popreg.settings import LOOPBACK

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + (
    "print('ready', flush=True); time.sleep(600)"
)


def wait_for_log(path: Path, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.02)


def test_stop_is_graceful_first(tmp_path: Path) -> None:
    record = procs.spawn(
        tmp_path, "sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], "-"
    )
    assert procs.read_pid(tmp_path, "sleeper") == record
    assert procs.stop(tmp_path, "sleeper", timeout_s=5) == "stopped"
    assert not psutil.pid_exists(record.pid) or record.process() is None
    assert procs.read_pid(tmp_path, "sleeper") is None


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    record = procs.spawn(tmp_path, "stubborn", [sys.executable, "-c", IGNORES_SIGTERM], "-")
    wait_for_log(Path(record.log), "ready")
    assert procs.stop(tmp_path, "stubborn", timeout_s=0.5) == "killed after 0s"
    assert record.process() is None


def test_a_reused_pid_is_not_mistaken_for_our_process(tmp_path: Path) -> None:
    me = psutil.Process()
    procs.write_pid(tmp_path, procs.PidRecord("ghost", me.pid, me.create_time() - 100, "-", "-"))
    assert procs.read_pid(tmp_path, "ghost") is not None
    assert procs.stop(tmp_path, "ghost", timeout_s=1) == "not running (stale pid file removed)"
    assert me.is_running()


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
