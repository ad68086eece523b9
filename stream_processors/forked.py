"""Work on a copy of a worker's memory, in a forked child, while the worker goes on.

Writing the indicator fold to disk takes minutes at province scale, and the live path
must not wait for it. A fork gives the child a copy-on-write view of the fold as it
is between two batches, so nothing is locked or copied up front. The child runs only
the given function, at the lowest CPU priority (within the worker's session: against
the rest of the machine it shares the worker's share), with the cyclic collector off (it
would walk millions of objects), and ends with `os._exit`: none of the parent's
threads, sockets or exit handlers run in it. It is killed when the thread that
started it ends (Linux ties the death signal to that thread; the workers start
children from threads that live as long as the process), so stopping a worker by pid
stops its child too.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import traceback
from collections.abc import Callable
from typing import NoReturn

PR_SET_PDEATHSIG = 1


def start(work: Callable[[], object]) -> int:
    """Run `work` in a child process; returns the child's pid (reap it with `ended`)."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _run(work, parent)
    return pid


def ended(pid: int) -> int | None:
    """The child's exit code once it has ended (0: `work` returned), else None."""
    found, status = os.waitpid(pid, os.WNOHANG)
    return None if found == 0 else os.waitstatus_to_exitcode(status)


def _run(work: Callable[[], object], parent: int) -> NoReturn:
    """The child. Its errors go straight to file descriptor 2: `sys.stderr` and logging
    have locks that another thread of the parent may have held at the fork."""
    code = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == parent:  # else the parent died before the line above
            gc.disable()
            os.nice(19)
            work()
            code = 0
    except BaseException:
        os.write(2, f"[child {os.getpid()}] {traceback.format_exc()}".encode())
    finally:
        os._exit(code)
