"""Free loopback ports for a scratch stack (tests, bench), so it can run beside a demo stack."""

from __future__ import annotations

import random
import socket

from infra.procs import port_is_free
from infra.seaweed import SEAWEED_PORT_COUNT
from schemas.settings import LOOPBACK, PortSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def free_block(count: int) -> int:
    """First port of `count` consecutive free ports (below the ephemeral range)."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        if all(port_is_free(LOOPBACK, base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def free_ports() -> PortSettings:
    base = free_block(SEAWEED_PORT_COUNT + 4)
    return PortSettings(
        broker=base + SEAWEED_PORT_COUNT,
        postgres=base + SEAWEED_PORT_COUNT + 1,
        clickhouse_http=base + SEAWEED_PORT_COUNT + 2,
        seaweed_base=base,
        portal=base + SEAWEED_PORT_COUNT + 3,
    )
