"""Starting, finding and stopping the stack's server processes by pid.

Each started process gets a pid file (`<data>/run/<name>.json`) holding its pid, when
it started (so a recycled pid is never mistaken for it) and its address, and a log
file (`<data>/logs/<name>.log`) whose tail is shown when it fails.

When it started is counted from the boot, with the boot's id: a wall-clock start time
moves whenever the system clock is stepped (psutil adds the boot time, which the kernel
derives from the clock), and a step of more than a second is enough for popreg to take
its own running servers for exited ones: `popreg down` would leave them running, and a
bench would remove their directory under them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

logger = logging.getLogger("popreg.procs")


class StackError(RuntimeError):
    """A failure an operator can act on; the message says what happened and what to do."""


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
SAME_START_S = 0.05  # the kernel counts start times in ticks of 0.01 s
AUTOGROUP_TRIES = 30  # 0.1 s apart


def boot_id() -> str:
    """Which boot this is: Linux names each one; elsewhere its boot time stands in (which
    a clock step moves, so there a step still loses track of running servers)."""
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return f"{psutil.boot_time():.0f}"


def since_boot(proc: psutil.Process) -> float:
    """Seconds from the boot to the process's start, which a clock step does not move."""
    return float(proc.create_time() - psutil.boot_time())


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    started: float  # `since_boot`
    boot: str  # `boot_id`: in another boot the pid is another process's
    address: str
    log: str

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None if it has exited (or the pid was reused)."""
        try:
            proc = psutil.Process(self.pid)
            if self.boot != boot_id() or abs(since_boot(proc) - self.started) > SAME_START_S:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.NoSuchProcess:
            return None


def run_dir(data_dir: Path) -> Path:
    return data_dir / "run"


def log_path(data_dir: Path, name: str) -> Path:
    return data_dir / "logs" / f"{name}.log"


def pid_path(data_dir: Path, name: str) -> Path:
    return run_dir(data_dir) / f"{name}.json"


def read_pid(data_dir: Path, name: str) -> PidRecord | None:
    path = pid_path(data_dir, name)
    try:
        fields = json.loads(path.read_text())
        if "create_time" in fields:  # a pid file of the older format: the wall-clock start
            fields["started"] = fields.pop("create_time") - psutil.boot_time()
            fields["boot"] = boot_id()
        return PidRecord(**fields)
    except (FileNotFoundError, ValueError, TypeError):
        return None


def write_pid(data_dir: Path, record: PidRecord) -> None:
    path = pid_path(data_dir, record.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(path)


def remove_pid(data_dir: Path, name: str) -> None:
    pid_path(data_dir, name).unlink(missing_ok=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def port_owner(port: int) -> str:
    """Who is listening on a TCP port, for error messages ("pid 123 (postgres)")."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return "another process"
                try:
                    return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                except psutil.NoSuchProcess:
                    return f"pid {conn.pid}"
    except psutil.AccessDenied:
        pass
    return "another process"


def port_is_free(host: str, port: int) -> bool:
    """Bindable the way servers bind (SO_REUSEADDR, so TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) != 0


def require_free_ports(host: str, ports: Mapping[int, str]) -> None:
    for port, purpose in ports.items():
        if not port_is_free(host, port):
            raise StackError(
                f"port {port} on {host} ({purpose}) is taken by {port_owner(port)}; stop that "
                f"process or choose other ports (POPREG_PORTS__* or [ports] in popreg.toml)"
            )


def spawn(
    data_dir: Path,
    name: str,
    argv: Sequence[str],
    address: str,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
    nice: int = 0,
    umask: int = -1,
) -> PidRecord:
    """Start a server detached from our session (it outlives this command) and record its
    pid; `nice` is set before it runs, so all its threads have it (Linux keeps niceness
    per thread, and native libraries start threads as they are imported), and on its
    session (`session_niceness`). `umask` (-1: inherit ours) decides the mode of every
    file and unix socket it creates where it takes no mode of its own: 0o077 keeps
    sockets a server makes in /tmp from other local users."""
    log = log_path(data_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            user=user,
            start_new_session=True,
            umask=umask,
            preexec_fn=functools.partial(os.nice, nice) if nice else None,
        )
    if nice:
        session_niceness(proc.pid, nice)
    record = PidRecord(
        name=name,
        pid=proc.pid,
        started=since_boot(psutil.Process(proc.pid)),
        boot=boot_id(),
        address=address,
        log=str(log),
    )
    write_pid(data_dir, record)
    return record


def session_niceness(pid: int, nice: int) -> None:
    """Give the session that `pid` leads the niceness `nice`.

    A new session is an autogroup of its own (`/proc/sys/kernel/sched_autogroup_enabled`,
    on by default): the scheduler shares the CPU between autogroups first, by the
    autogroup's niceness, and a process's own niceness weighs only against processes of
    its session, so a niceness that should count against the rest of the machine must be
    the autogroup's too (docs/decisions/0012, with a command that shows it). Linux lets
    an unprivileged user change an autogroup's niceness only every 0.1 s (EAGAIN
    meanwhile)."""
    autogroup = Path(f"/proc/{pid}/autogroup")
    why = "the kernel kept answering EAGAIN"
    for _ in range(AUTOGROUP_TRIES):
        try:
            autogroup.write_text(str(nice))
            return
        except FileNotFoundError:  # a kernel without autogroups shares by niceness alone
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError as error:
            why = str(error)
            break
    logger.warning("process %d's session competes for the CPU at niceness 0: %s", pid, why)


def wait_until(record: PidRecord, healthy: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll a real health check until it passes; fail fast if the process dies meanwhile."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        if record.process() is None:
            raise StackError(
                f"{what} exited while starting; the end of its log ({record.log}):\n"
                f"{tail(Path(record.log))}"
            )
        if healthy():
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{what} did not become healthy within {timeout_s:.0f}s; the end of its log "
                f"({record.log}):\n{tail(Path(record.log))}"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def stop(
    data_dir: Path, name: str, timeout_s: float, graceful: signal.Signals = signal.SIGTERM
) -> str:
    """Stop a recorded process (and its children): graceful signal first, SIGKILL after timeout."""
    record = read_pid(data_dir, name)
    if record is None:
        return "not running"
    proc = record.process()
    if proc is None:
        remove_pid(data_dir, name)
        return "not running (stale pid file removed)"
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        family = [proc]
    _signal_all(family, graceful)
    _, alive = psutil.wait_procs(family, timeout=timeout_s)
    how = "stopped"
    if alive:
        _signal_all(alive, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
        how = f"killed after {timeout_s:.0f}s"
    remove_pid(data_dir, name)
    return how


def _signal_all(procs: Sequence[psutil.Process], sig: signal.Signals) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for file in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / file).lstat().st_size
    return total
