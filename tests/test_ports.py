"""Closed by default (issue 28, item 4): every port of the running embedded stack, walked
as an anonymous local client.

The ports are not taken from the settings but found: every listening socket of every
process the stack runs (the pids in `<data>/run/*.json` and their children). Each TCP
port gets, without credentials, a Kafka ApiVersions and Metadata request, a PostgreSQL
startup without a password, and HTTP (plain and TLS without a client certificate) GET of
the pages and listings SeaweedFS, ClickHouse and popreg serve, then PUT, POST and
DELETE of a file. A port that answers any of them with data, or takes a write, fails
the test unless `OPEN_BY_NECESSITY` lists it with the reason it cannot be closed (the
same list as docs/operations.md's "Ports and credentials"); a port listed there that turns out
closed fails it too, so the list cannot go stale. Unix sockets must be their owner's
only. docs/decisions/0003-closed-ports.md has the table.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import stat
import struct
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from infra import procs, stack
from infra.broker import OPEN_BROKER_NOTICE
from infra.postgres import Postgres
from schemas.settings import LOOPBACK, Settings
from tests.conftest import StackUnderTest

pytestmark = [pytest.mark.stack, pytest.mark.security]

# Parts whose every listening port may be used by any local user, and why (docs/operations.md,
# "Ports and credentials"). Keep this list and that table the same.
OPEN_BY_NECESSITY = {
    "broker": "tansu has SASL/SCRAM but keeps no users on S3 storage (no client can log"
    " in with --authentication on) and has no ACLs; the compose file runs Kafka with"
    " SASL and ACLs",
}
TIMEOUT_S = 3.0
# Answers that show a server is alive and nothing else (S3's /status, ClickHouse's ping).
LIVENESS = {b"", b"ok", b"ok."}
GET_PATHS = (
    "/",
    "/?query=SELECT%201",  # ClickHouse's HTTP interface
    "/ping",
    "/status",
    "/metrics",
    "/ui/index.html",
    "/dir/assign",  # SeaweedFS master: a file id to write to
    "/dir/lookup?volumeId=1",
    "/vol/status",
    "/cluster/status",
    "/buckets/",  # SeaweedFS filer: the listing of the broker's stored batches
    "/buckets/tansu/clusters/",
    "/tansu?list-type=2",  # S3 ListObjectsV2
    "/1,01637037d6",  # a volume server's file id
    "/debug/pprof/",
    "/debug/vars",
    "/openapi.json",
    "/api/indicators?level=nation&code=VN&period=2024",  # the portal's data
    "/api/map?indicator=population_end&year=2024",
    "/api/pulse",
    "/unit?level=nation&code=VN",
)
WRITES = (
    ("PUT", "/buckets/tansu/port-walk.txt"),  # filer upload
    ("PUT", "/tansu/port-walk.txt"),  # S3 upload
    ("POST", "/submit"),  # master: assign and upload
    ("POST", "/1,01637037d6"),  # volume server upload
    ("POST", "/?query=SELECT%201"),
    ("DELETE", "/buckets/tansu/clusters/"),  # filer: erase the log
    ("DELETE", "/tansu/clusters/"),
)


@dataclass
class Listener:
    part: str
    pid: int
    process: str
    port: int
    address: str
    answered: list[str] = field(default_factory=list)  # what an anonymous client got


def stack_processes(settings: Settings) -> Iterator[tuple[str, psutil.Process]]:
    """Every process of the running stack, with the part it belongs to."""
    data_dir = settings.resolved_data_dir
    for pid_file in sorted(procs.run_dir(data_dir).glob("*.json")):
        record = procs.read_pid(data_dir, pid_file.stem)
        process = record.process() if record is not None else None
        if process is None:
            continue
        yield pid_file.stem, process
        for child in process.children(recursive=True):
            yield pid_file.stem, child


def listeners(settings: Settings) -> list[Listener]:
    found: list[Listener] = []
    for part, process in stack_processes(settings):
        try:
            connections = process.net_connections(kind="tcp")
            name = process.name()
        except psutil.NoSuchProcess:
            continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN:
                found.append(Listener(part, process.pid, name, conn.laddr.port, conn.laddr.ip))
    return found


def unix_sockets(settings: Settings) -> list[tuple[str, str, str]]:
    """(part, process, path) of every unix socket a stack process has bound."""
    found: list[tuple[str, str, str]] = []
    for part, process in stack_processes(settings):
        try:
            connections = process.net_connections(kind="unix")
            name = process.name()
        except psutil.NoSuchProcess:
            continue
        for conn in connections:
            if isinstance(conn.laddr, str) and conn.laddr:
                found.append((part, name, conn.laddr))
    return sorted(set(found))


# --- the anonymous client ----------------------------------------------------------


def recv_some(sock: socket.socket, limit: int = 1 << 16) -> bytes:
    """What the server sends within the timeout (b"" if it closes or says nothing)."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(limit - len(data))
            if not chunk:
                break
            data += chunk
            if len(data) >= 4:
                size = struct.unpack(">i", data[:4])[0]
                if 0 <= size <= limit and len(data) >= size + 4:
                    break
    except (TimeoutError, ConnectionError, OSError):
        pass
    return data


CORRELATION = 0x5EED


def kafka_request(api_key: int, version: int, body: bytes) -> bytes:
    client = b"popreg-port-walk"
    header = struct.pack(">hhih", api_key, version, CORRELATION, len(client)) + client
    return struct.pack(">i", len(header) + len(body)) + header + body


def kafka_probe(port: int) -> list[str]:
    """ApiVersions v0, then Metadata v0 for every topic, on one connection."""
    with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT_S) as sock:
        sock.sendall(kafka_request(18, 0, b""))
        versions = recv_some(sock)
        if len(versions) < 10 or struct.unpack(">i", versions[4:8])[0] != CORRELATION:
            return []
        answered = ["Kafka ApiVersions"]
        sock.sendall(kafka_request(3, 0, struct.pack(">i", 0)))
        metadata = recv_some(sock)
        if len(metadata) >= 12 and struct.unpack(">i", metadata[4:8])[0] == CORRELATION:
            brokers = struct.unpack(">i", metadata[8:12])[0]
            answered.append(f"Kafka Metadata ({brokers} broker(s))")
        return answered


def postgres_probe(port: int) -> list[str]:
    """A startup as the superuser with no password: only AuthenticationOk lets it in."""
    params = b"user\0postgres\0database\0popreg\0\0"
    message = struct.pack(">ii", 8 + len(params), 196608) + params
    with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT_S) as sock:
        sock.sendall(message)
        try:
            reply = sock.recv(64)  # PostgreSQL answers a startup in one message
        except OSError:
            return []
    if len(reply) >= 9 and reply[:1] == b"R" and struct.unpack(">i", reply[5:9])[0] == 0:
        return ["PostgreSQL session without a password"]
    return []


def http_probe(port: int, tls: bool) -> list[str]:
    """GETs and writes; a 2xx or 3xx with more than a liveness answer, or to any write,
    is data served or accepted."""
    answered: list[str] = []
    scheme = "https" if tls else "http"
    requests = [("GET", path) for path in GET_PATHS] + list(WRITES)
    for method, path in requests:
        connection: http.client.HTTPConnection
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(
                LOOPBACK, port, timeout=TIMEOUT_S, context=context
            )
        else:
            connection = http.client.HTTPConnection(LOOPBACK, port, timeout=TIMEOUT_S)
        try:
            body = b"port walk" if method in {"PUT", "POST"} else None
            connection.request(method, path, body=body)
            response = connection.getresponse()
            content = response.read(1 << 16)
        except TimeoutError:
            return answered  # waits for another protocol's bytes (gRPC over TLS)
        except (OSError, http.client.HTTPException, ssl.SSLError):
            if tls:
                return answered  # no TLS session without a client certificate
            continue
        finally:
            connection.close()
        served = 200 <= response.status < 400 and (
            method != "GET" or content.strip().lower() not in LIVENESS
        )
        if served:
            answered.append(f"{scheme} {method} {path}: {response.status} {content[:60]!r}")
    return answered


PROBES: tuple[Callable[[int], list[str]], ...] = (
    kafka_probe,
    postgres_probe,
    lambda port: http_probe(port, tls=False),
    lambda port: http_probe(port, tls=True),
)


def walk(listener: Listener) -> None:
    for probe in PROBES:
        with contextlib.suppress(OSError):  # refused or reset: nothing served
            listener.answered += probe(listener.port)


# --- the tests ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def walked(test_stack: StackUnderTest) -> list[Listener]:
    if test_stack.backend != "embedded":
        pytest.skip("the port walk is of the embedded stack")
    found = listeners(test_stack.settings)
    # side by side: a server that waits for more of a foreign protocol costs a timeout
    with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
        list(pool.map(walk, found))
    return found


def test_the_walk_finds_every_part_of_the_stack(walked: list[Listener], settings: Settings) -> None:
    """The walk covers what the stack runs: a walk that found nothing would pass."""
    parts = {listener.part for listener in walked}
    assert {"s3store", "broker", "postgres", "clickhouse", "portal"} <= parts
    ports = {listener.port for listener in walked}
    expected = {settings.ports.broker, settings.ports.postgres, settings.ports.clickhouse_http}
    assert expected | {settings.ports.portal} <= ports


def test_every_port_listens_on_loopback_only(walked: list[Listener]) -> None:
    wide = [
        f"{one.part} ({one.process}) {one.address}:{one.port}"
        for one in walked
        if one.address != LOOPBACK
    ]
    assert not wide, f"listening beyond {LOOPBACK}: {wide}"


def test_no_port_serves_or_accepts_data_without_credentials(walked: list[Listener]) -> None:
    """The acceptance of item 4: every listening port refuses an anonymous local client,
    or its part is in OPEN_BY_NECESSITY (and docs/operations.md) with the reason it cannot."""
    open_ports = [
        f"{one.part} ({one.process}, port {one.port}): {'; '.join(one.answered)}"
        for one in walked
        if one.answered and one.part not in OPEN_BY_NECESSITY
    ]
    assert not open_ports, "ports serving an anonymous client:\n" + "\n".join(open_ports)


def test_the_ports_listed_as_open_really_are(walked: list[Listener]) -> None:
    """A part listed as open that closed its ports must leave the list and docs/operations.md."""
    answering = {one.part for one in walked if one.answered}
    assert set(OPEN_BY_NECESSITY) <= answering, set(OPEN_BY_NECESSITY) - answering


def test_the_open_broker_is_open_for_writes_and_reads(settings: Settings) -> None:
    """What docs/operations.md warns of, shown: an anonymous client produces to and reads from
    the embedded broker's log."""
    if not settings.embedded_broker:
        pytest.skip("the embedded broker only")
    anonymous = {"bootstrap.servers": settings.bootstrap_servers}
    topic = settings.topics.healthcheck
    value = f"port-walk-{uuid.uuid4().hex}".encode()
    producer = Producer(anonymous)
    delivered: list[tuple[int | None, int | None]] = []
    producer.produce(
        topic, value, on_delivery=lambda err, msg: delivered.append((msg.partition(), msg.offset()))
    )
    assert producer.flush(15) == 0 and delivered
    partition, offset = delivered[0]
    assert partition is not None and offset is not None
    consumer = Consumer({**anonymous, "group.id": f"port-walk-{uuid.uuid4().hex}"})
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        message = consumer.poll(15)
        assert message is not None and message.error() is None and message.value() == value
    finally:
        consumer.close()


def test_postgres_demands_a_password_of_every_host_connection(settings: Settings) -> None:
    """pg_hba: scram-sha-256 for TCP, no `trust` line; and no unix socket at all."""
    if not settings.embedded_postgres:
        pytest.skip("the embedded server only")
    hba = Postgres(settings).data_path() / "pg_hba.conf"
    rules = [
        line.split()
        for line in hba.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert rules
    assert not [r for r in rules if "trust" in r], rules
    assert all(r[-1] in {"scram-sha-256", "peer"} for r in rules), rules
    assert postgres_probe(settings.ports.postgres) == []


def test_unix_sockets_are_their_owners_only(settings: Settings) -> None:
    """weed makes its sockets in /tmp: no other user may connect (write) to them."""
    sockets = unix_sockets(settings)
    assert sockets, "weed mini makes unix sockets for its servers; none were found"
    exposed: list[str] = []
    for part, process, path in sockets:
        if path.startswith("\0") or path.startswith("@"):
            exposed.append(f"{part} ({process}): abstract socket {path!r}, any user")
            continue
        try:
            mode = Path(path).stat().st_mode
        except FileNotFoundError:
            continue  # unlinked while open: nobody can connect to it
        if not stat.S_ISSOCK(mode) or mode & 0o022:
            exposed.append(f"{part} ({process}): {path} mode {stat.filemode(mode)}")
    assert not exposed, exposed


def test_popreg_up_says_the_broker_is_open(settings: Settings) -> None:
    """The one port that cannot be closed is announced on every `up` (here an `up` of
    the running stack, which starts nothing)."""
    if not settings.embedded_broker:
        pytest.skip("the embedded broker only")
    lines: list[str] = []
    stack.up(settings, report=lines.append, with_processors=False)
    assert f"broker: {OPEN_BROKER_NOTICE}" in lines
