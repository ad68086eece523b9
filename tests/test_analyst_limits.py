"""The chDB host under abuse (issue 28, items 5 and 6): the analysts' endpoint's limits
(time, memory, result size, concurrency, body size counted decompressed), cancellation
on disconnect and by KILL QUERY, the settings allowlist, errors that echo nothing, and
the writer's least privilege.

Each test runs against a host of its own module (or one it starts with other limits),
on a free port with a scratch data directory, as `python -m infra.chdb_host` runs in
the stack: no broker or PostgreSQL needed, and limits small enough to reach quickly.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

import clickhouse_connect
import lz4.frame
import psutil
import pytest

from infra import clickhouse_http, readonly_sql
from infra.clickhouse_http import ClickHouseError, decode_body, parse_request
from infra.ports import free_port
from projections import clickhouse_schema
from projections.clickhouse_sink import IndicatorSink
from schemas.settings import CLICKHOUSE_DATABASE, CLICKHOUSE_WRITER_USER, LOOPBACK, AnalystLimits

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

MiB = 1 << 20
# The module's host: small enough limits to reach in a test, big enough for its queries.
LIMITS = AnalystLimits(
    max_execution_s=4,
    max_memory_bytes=256 * MiB,
    max_result_rows=100_000,
    max_result_bytes=4 * MiB,
    max_concurrent_queries=2,
    max_queued=64,
    queue_wait_s=60,
    max_body_bytes=64 * MiB,
)
# Runs until the time limit (or a kill) stops it: 1e11 rows take minutes to count.
LONG_QUERY = "SELECT count() FROM numbers(100000000000)"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> tuple[int, str]:
        text = self.body.decode()
        assert text.startswith("Code: "), text
        code = int(self.headers["X-ClickHouse-Exception-Code"])
        name = text.rsplit("(", 2)[-2].split(")")[0]
        return code, name


@dataclass
class Host:
    """A chDB host process and how to reach it as either user."""

    process: subprocess.Popen[bytes]
    port: int
    path: Path
    secrets: Path
    analyst_password: str
    writer_password: str

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def http(
        self,
        params: dict[str, str],
        body: bytes | None = None,
        *,
        writer: bool = False,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Reply:
        user, password = (
            (CLICKHOUSE_WRITER_USER, self.writer_password)
            if writer
            else ("analyst", self.analyst_password)
        )
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        all_headers = {"Authorization": f"Basic {token}", **(headers or {})}
        request = urllib.request.Request(
            f"{self.url}/?{urlencode(params)}", data=body, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def analyst(self, sql: str, **params: str) -> Reply:
        return self.http({"query": sql, **params})

    def writer(self, sql: str, **params: str) -> Reply:
        """A POST, as clickhouse-connect sends commands (a GET only reads)."""
        return self.http(params, sql.encode(), writer=True)

    def client(self, *, writer: bool = False) -> Any:
        user, password = (
            (CLICKHOUSE_WRITER_USER, self.writer_password)
            if writer
            else ("analyst", self.analyst_password)
        )
        return clickhouse_connect.get_client(
            host=LOOPBACK,
            port=self.port,
            username=user,
            password=password,
            database=CLICKHOUSE_DATABASE,
            autogenerate_session_id=False,
        )

    def running(self, where: str = "1") -> int:
        """Queries of analysts (marked by the host) the engine is running, as the writer
        sees them in system.processes."""
        reply = self.writer(
            "SELECT count() FROM system.processes"
            f" WHERE Settings['log_comment'] LIKE 'popreg-analyst-%' AND ({where})"
        )
        assert reply.status == 200, reply.body
        return int(reply.body)

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=5) as response:
                return bool(response.read() == b"Ok.\n")
        except (URLError, OSError):
            return False


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until `condition` held; fails the test at the deadline."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - began


@contextmanager
def started_host(root: Path, limits: AnalystLimits) -> Iterator[Host]:
    """`python -m infra.chdb_host` as the stack starts it (passwords in files, limits as
    JSON), until the block ends."""
    secrets = root / "secrets"
    secrets.mkdir(parents=True)
    passwords = {name: uuid.uuid4().hex for name in ("writer", "analyst")}
    for name, password in passwords.items():
        (secrets / f"clickhouse-{name}.password").write_text(password)
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "infra.chdb_host",
        "--path",
        str(root / "clickhouse"),
        "--port",
        str(port),
        "--writer-password-file",
        str(secrets / "clickhouse-writer.password"),
        "--analyst-user",
        "analyst",
        "--analyst-password-file",
        str(secrets / "clickhouse-analyst.password"),
        "--limits",
        limits.model_dump_json(),
    ]
    log = (root / "host.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    host = Host(
        process, port, root / "clickhouse", secrets, passwords["analyst"], passwords["writer"]
    )
    try:
        wait_for(lambda: host.alive() or process.poll() is not None, 60, "the host answers")
        assert process.poll() is None, (root / "host.log").read_text()
        yield host
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    with started_host(tmp_path_factory.mktemp("chdb-host"), LIMITS) as started:
        reply = started.writer(
            "CREATE TABLE numbered (n UInt64, s String) ENGINE = MergeTree ORDER BY n"
        )
        assert reply.status == 200, reply.body
        assert (
            started.writer(
                "INSERT INTO numbered SELECT number, toString(number) FROM numbers(1000)"
            ).status
            == 200
        )
        yield started


# --- per-query limits ----------------------------------------------------------------


def test_a_query_stops_at_the_time_limit_and_an_analyst_cannot_raise_it(host: Host) -> None:
    began = time.monotonic()
    reply = host.analyst(LONG_QUERY, max_execution_time="1000")  # the host's 4 s holds
    spent = time.monotonic() - began
    assert reply.error() == (159, "TIMEOUT_EXCEEDED")
    assert LIMITS.max_execution_s - 0.5 < spent < LIMITS.max_execution_s + 3
    lowered = host.analyst(LONG_QUERY, max_execution_time="1")  # lowering it is fine
    assert lowered.error() == (159, "TIMEOUT_EXCEEDED")
    in_query = host.analyst(LONG_QUERY + " SETTINGS max_execution_time = 1000")
    assert in_query.error() == (164, "READONLY")
    assert host.running() == 0


def test_a_query_stops_at_the_memory_limit(host: Host) -> None:
    reply = host.analyst("SELECT groupArray(number) FROM numbers(1000000000)")
    assert reply.error() == (241, "MEMORY_LIMIT_EXCEEDED")
    raised = host.analyst(
        "SELECT groupArray(number) FROM numbers(1000000000)", max_memory_usage="0"
    )  # 0 is ClickHouse's "unlimited": taken as the host's limit
    assert raised.error() == (241, "MEMORY_LIMIT_EXCEEDED")


def test_results_stop_at_their_row_and_byte_limits(host: Host) -> None:
    rows = host.analyst("SELECT number FROM numbers(1000000)")
    assert rows.error() == (396, "TOO_MANY_ROWS_OR_BYTES")
    wide = host.analyst("SELECT repeat(toString(number), 100) FROM numbers(90000)")
    assert wide.error() == (396, "TOO_MANY_ROWS_OR_BYTES")
    within = host.analyst("SELECT number FROM numbers(90000) FORMAT RowBinary")
    assert (within.status, len(within.body)) == (200, 90000 * 8)


# --- the settings an analyst may pass ------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        ("os_thread_priority", "-20"),
        ("function_sleep_max_microseconds_per_block", "1000000000"),
        ("log_comment", "popreg-analyst-x"),
        ("max_query_size", "1000000000"),
        ("format_schema", "/etc/hostname:Message"),
        ("dialect", "prql"),
    ],
)
def test_settings_outside_the_allowlist_are_refused(host: Host, setting: tuple[str, str]) -> None:
    name, value = setting
    assert host.analyst("SELECT 1", **{name: value}).error() == (164, "READONLY")


def test_allowed_settings_apply(host: Host) -> None:
    reply = host.analyst(
        "SELECT getSetting('max_threads'), getSetting('readonly'),"
        " getSetting('max_execution_time') FORMAT JSONCompactEachRow",
        max_threads="1",
        output_format_json_quote_64bit_integers="0",
    )
    assert reply.body == b"[1, 1, 4]\n"
    with host.client() as client:  # what clickhouse-connect sends, in every shape
        assert client.query("SELECT count() FROM numbered").result_rows == [(1000,)]
        assert client.query_df("SELECT n FROM numbered ORDER BY n LIMIT 2")["n"].tolist() == [
            0,
            1,
        ]
        arrow = client.query_arrow("SELECT s FROM numbered ORDER BY n LIMIT 1")
        assert arrow.column("s").to_pylist() == ["0"]


# --- cancelling: the client went away, or asked -----------------------------------------


def test_a_query_is_cancelled_when_its_client_disconnects(host: Host) -> None:
    """Without the host's watch, the query would run on to its 4 s limit (once, 35 s
    to its end) with nobody to read its answer."""
    token = base64.b64encode(f"analyst:{host.analyst_password}".encode()).decode()
    request = (
        f"GET /?{urlencode({'query': LONG_QUERY})} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Basic {token}\r\n\r\n"
    ).encode()
    sock = socket.create_connection((LOOPBACK, host.port))
    sock.sendall(request)
    wait_for(lambda: host.running() == 1, 10, "the query runs")
    process = psutil.Process(host.process.pid)
    sock.close()
    gone = wait_for(lambda: host.running() == 0, 10, "the query is gone")
    assert gone < 1.5, f"the query ran {gone:.2f} s after its client went away"
    print(f"disconnect: the query was gone {gone:.3f} s after its client closed")
    before = process.cpu_times()
    time.sleep(0.5)  # a window to measure the CPU in, not a wait for anything
    after = process.cpu_times()
    busy = (after.user + after.system) - (before.user + before.system)
    assert busy < 0.25, f"the host still used {busy:.2f} s of CPU in 0.5 s"
    print(f"disconnect: the host then used {busy:.3f} s of CPU in 0.5 s")
    assert host.alive()


def test_an_analyst_kills_their_own_query_by_its_query_id(host: Host) -> None:
    query_id = f"mine-{uuid.uuid4()}"
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(host.analyst, LONG_QUERY, query_id=query_id)
        wait_for(lambda: host.running() == 1, 10, "the query runs")
        again = host.analyst("SELECT 1", query_id=query_id)
        assert again.error() == (216, "QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING")
        began = time.monotonic()
        killed = host.analyst(f"KILL QUERY WHERE query_id = '{query_id}' SYNC")
        assert (killed.status, killed.body) == (200, f"finished\t{query_id}\tanalyst\n".encode())
        assert running.result().error() == (394, "QUERY_WAS_CANCELLED")
        assert time.monotonic() - began < 2
    assert host.running() == 0


@pytest.mark.parametrize(
    "sql",
    [
        "KILL QUERY WHERE 1",
        "KILL QUERY WHERE user = 'default'",
        "KILL QUERY WHERE query_id = 'x' OR 1",
        "KILL QUERY WHERE query_id LIKE '%'",
        "KILL MUTATION WHERE 1",
    ],
)
def test_no_other_kill_is_allowed(host: Host, sql: str) -> None:
    assert host.analyst(sql).error() == (164, "READONLY")


def test_an_analyst_cannot_kill_the_writers_query(host: Host) -> None:
    query_id = f"writer-{uuid.uuid4()}"
    # The pattern is built at run time, so this query's own text does not match it.
    writers = (
        "SELECT count() FROM system.processes"
        " WHERE query LIKE concat('%numbers(1000', '000000000)%')"
    )
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            host.writer,
            "SELECT count() FROM numbers(1000000000000) SETTINGS max_execution_time = 2",
            query_id=query_id,
        )
        wait_for(lambda: host.writer(writers).body == b"1\n", 10, "the writer's query runs")
        refused = host.analyst(f"KILL QUERY WHERE query_id = '{query_id}' SYNC")
        assert (refused.status, refused.body) == (200, b"")  # matches nothing, as ClickHouse
        assert running.result().error() == (159, "TIMEOUT_EXCEEDED")  # ran to its own end


# --- concurrency ----------------------------------------------------------------------


def test_excess_queries_wait_for_a_slot_then_get_503_with_retry_after(tmp_path: Path) -> None:
    """One query runs at a time and one may wait: of two more, one waits and is answered
    once the slot frees, the other is told at once to come back."""
    limits = AnalystLimits(max_concurrent_queries=1, max_queued=1, queue_wait_s=60)
    with started_host(tmp_path, limits) as host, ThreadPoolExecutor(3) as pool:
        query_id = f"slow-{uuid.uuid4()}"
        slow = pool.submit(host.analyst, LONG_QUERY, query_id=query_id)
        wait_for(lambda: host.running() == 1, 10, "the first query runs")
        first, second = (
            pool.submit(host.analyst, "SELECT 41"),
            pool.submit(host.analyst, "SELECT 42"),
        )
        wait_for(lambda: first.done() or second.done(), 10, "one is answered at once")
        done, waiting = (first, second) if first.done() else (second, first)
        refused = done.result()
        assert refused.status == 503, refused.body
        assert refused.error() == (202, "TOO_MANY_SIMULTANEOUS_QUERIES")
        assert int(refused.headers["Retry-After"]) >= 1
        assert not waiting.done()
        host.analyst(f"KILL QUERY WHERE query_id = '{query_id}' SYNC")
        assert slow.result().error() == (394, "QUERY_WAS_CANCELLED")
        assert waiting.result(timeout=10).status == 200
        retried = host.analyst("SELECT 42")  # the client's retry after Retry-After
        assert (retried.status, retried.body) == (200, b"42\n")


def test_fifty_concurrent_clients_are_all_answered_correctly(host: Host) -> None:
    """Two run at a time (the module's limit), the rest wait their turn; each of 50
    clickhouse-connect clients gets its own right answer and the endpoint stays up."""

    def one(i: int) -> tuple[int, int, float]:
        client = host.client()
        try:
            began = time.monotonic()
            n = 2_000_000 + i
            (total,) = client.query(
                "SELECT sum(number) FROM numbers({n:UInt64})", parameters={"n": n}
            ).result_rows[0]
            return n, int(total), time.monotonic() - began
        finally:
            client.close()

    began = time.monotonic()
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(one, range(50)))
    wall = time.monotonic() - began
    assert all(total == n * (n - 1) // 2 for n, total, _ in answers)
    latencies = sorted(spent for _, _, spent in answers)
    print(
        f"50 clients: wall {wall:.2f} s, per query p50 {latencies[25]:.3f} s,"
        f" max {latencies[-1]:.3f} s"
    )
    assert host.alive()
    assert host.running() == 0
    assert host.analyst("SELECT count() FROM numbered").body == b"1000\n"


# --- request bodies -------------------------------------------------------------------


def gzip_of_zeros(size: int) -> bytes:
    """`size` zero bytes gzipped, without holding them: ~1,030 to 1."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    step = b"\0" * MiB
    parts = [packer.compress(step) for _ in range(size // MiB)]
    return b"".join([*parts, packer.flush()])


def test_a_compression_bomb_is_refused_quickly_with_memory_bounded(host: Host) -> None:
    """300 KB of gzip that expands to 300 MiB, past the 64 MiB body limit: refused with
    413 before it is expanded, and the host's memory rises by less than the limit (it
    once rose to 7.4 GB for a 291 KB body)."""
    bomb = gzip_of_zeros(300 * MiB)
    assert 250_000 < len(bomb) < 350_000
    headers = {"Content-Encoding": "gzip"}
    warm = host.http({}, gzip.compress(b"SELECT 1"), headers=headers)
    assert warm.body == b"1\n"
    process = psutil.Process(host.process.pid)
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.monotonic()
    try:
        reply = host.http(
            {"query": "SELECT count() FROM input('x String') FORMAT TSV"}, bomb, headers=headers
        )
    finally:
        spent = time.monotonic() - began
        done.set()
        sampler.join()
    print(
        f"bomb: {len(bomb):,} B refused in {spent:.3f} s,"
        f" RSS rise {(peak - baseline) / MiB:.1f} MiB"
    )
    assert reply.status == 413
    assert reply.error() == (229, "QUERY_IS_TOO_LARGE")
    assert spent < 5
    assert peak - baseline < LIMITS.max_body_bytes
    zstd_bomb = zstd.compress(b"\0" * (128 * MiB))
    refused = host.http({}, zstd_bomb, headers={"Content-Encoding": "zstd"})
    assert refused.error() == (229, "QUERY_IS_TOO_LARGE")
    assert host.alive()


def test_a_compressed_insert_over_the_first_pass_is_kept_whole(host: Host) -> None:
    """Bodies past FIRST_PASS_KEPT are decoded twice (counted, then kept): every row lands."""
    assert (
        host.writer("CREATE TABLE big_body (n UInt64) ENGINE = MergeTree ORDER BY n").status == 200
    )
    rows = b"".join(b"%d\n" % n for n in range(2_000_000))  # ~15 MB: over the 8 MiB pass
    assert len(rows) > clickhouse_http.FIRST_PASS_KEPT
    body = b"INSERT INTO big_body FORMAT TSV\n" + rows
    reply = host.http({}, gzip.compress(body, 1), writer=True, headers={"Content-Encoding": "gzip"})
    assert reply.status == 200, reply.body
    assert host.writer("SELECT count(), sum(n) FROM big_body").body == (
        f"2000000\t{sum(range(2_000_000))}\n".encode()
    )


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("zstd", zstd.compress),
        ("lz4", lz4.frame.compress),
    ],
)
def test_decoding_stops_at_the_limit_and_keeps_every_frame(
    encoding: str, compress: Callable[[bytes], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clickhouse_http, "FIRST_PASS_KEPT", 1000)
    monkeypatch.setattr(clickhouse_http, "DECODE_STEP", 256)
    data = bytes(range(256)) * 20
    body = compress(data[:3000]) + compress(data[3000:])
    assert decode_body(encoding, body, len(data)) == data  # two passes, two frames
    with pytest.raises(ClickHouseError) as refused:
        decode_body(encoding, body, len(data) - 1)
    assert refused.value.status == 413
    with pytest.raises(ClickHouseError) as broken:
        decode_body(encoding, body[:-5], len(data))
    assert broken.value.name == "CANNOT_DECOMPRESS"
    headers = Message()
    headers["Content-Encoding"] = encoding
    with pytest.raises(ClickHouseError):
        parse_request("POST", {}, headers, body, max_body_bytes=len(data) - 1)


# --- errors ---------------------------------------------------------------------------


MARKER = "zqxjkvbwmarkerzqxjkvbw"


@pytest.mark.parametrize(
    "sql",
    [
        f"SELEC 1 FROM t_{MARKER} WHERE x = 'a long literal {MARKER}'",
        f"SELECT {MARKER}_column FROM numbered WHERE s = 'literal {MARKER}'",
        f"SELECT toDate('{MARKER}{MARKER}') FROM numbered",
        f"SELECT n + 'text {MARKER}' FROM numbered",
        f"SELECT * FROM popreg.no_such_table WHERE s = '{MARKER}'",
    ],
)
def test_analyst_errors_echo_no_query(host: Host, sql: str) -> None:
    reply = host.analyst(sql)
    assert reply.status >= 400
    text = reply.body.decode()
    assert f"literal {MARKER}" not in text and f"{MARKER}{MARKER}" not in text, text
    assert "In scope" not in text and "SELECT" not in text, text
    assert str(host.path) not in text and str(host.secrets) not in text


def test_redacted_errors_hide_paths_and_the_query() -> None:
    engine = (
        "Code: 107. DB::Exception: Cannot open file /data/popreg/clickhouse/store/a/b.bin"
        " for /etc/shadow: In scope SELECT secret FROM t. (FILE_DOESNT_EXIST)"
    )
    error = ClickHouseError.from_engine(engine).redacted(["/data/popreg"])
    assert error.body("1").decode() == (
        "Code: 107. DB::Exception: Cannot open file <hidden> for <path>."
        " (FILE_DOESNT_EXIST) (version 1)\n"
    )
    nested = ClickHouseError.from_engine(
        "Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify 'max_threads'"
        " setting in readonly mode. (READONLY) (version 26.9.2.1). (READONLY)"
    ).redacted([])
    assert nested.text == (
        "Code: 164. DB::Exception: Cannot modify 'max_threads' setting in readonly mode. (READONLY)"
    )


# --- the writer: popreg's tables and nothing else ------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM file('{secrets}/clickhouse-analyst.password', 'RawBLOB')",
        "SELECT file('{secrets}/clickhouse-analyst.password')",
        "SELECT * FROM `FILE` ('{secrets}/clickhouse-analyst.password', 'RawBLOB')",
        "INSERT INTO strings FROM INFILE '{secrets}/clickhouse-analyst.password' FORMAT RawBLOB",
        "INSERT INTO FUNCTION file('{root}/leak.tsv', 'TSV', 's String') SELECT 'x'",
        "SELECT 1 INTO OUTFILE '{root}/leak.tsv'",
        "SELECT * FROM url('http://127.0.0.1:1/', 'RawBLOB', 'x String')",
        "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'RawBLOB')",
        "SELECT * FROM hdfs('hdfs://127.0.0.1:1/x', 'RawBLOB')",
        "SELECT * FROM remote('127.0.0.1:1', system.one)",
        "SELECT * FROM mysql('127.0.0.1:1', 'd', 't', 'u', 'p')",
        "SELECT * FROM postgresql('127.0.0.1:1', 'd', 't', 'u', 'p')",
        "SELECT * FROM jdbc('x', 'y')",
        "SELECT * FROM odbc('x', 'y')",
        "SELECT * FROM executable('x.sh', 'TSV', 'a String')",
        "SELECT * FROM filesystem('/etc')",
        "SELECT * FROM merge('system', 'processes')",
        "CREATE TABLE leak (s String)"
        " ENGINE = File(RawBLOB, '{secrets}/clickhouse-analyst.password')",
        "CREATE TABLE leak (s String) ENGINE = URL('http://127.0.0.1:1/', RawBLOB)",
        "CREATE TABLE leak (s String) ENGINE = Buffer(system, one, 1, 1, 1, 1, 1, 1, 1)",
        "CREATE TABLE leak (s String) ENGINE = MergeTree ORDER BY s"
        " SETTINGS disk = disk(type = local, path = '{root}/elsewhere/')",
        "CREATE TABLE leak AS SELECT * FROM file('/etc/hostname')",
        "CREATE DICTIONARY leak (s String) PRIMARY KEY s"
        " SOURCE(FILE(path '/etc/hostname' format 'RawBLOB')) LAYOUT(FLAT()) LIFETIME(0)",
        "CREATE FUNCTION leak AS (x) -> file(x)",
        "CREATE DATABASE elsewhere",
        "CREATE TABLE default.leak (s String) ENGINE = Memory",
        "INSERT INTO default.leak VALUES ('x')",
        "SELECT * FROM information_schema.tables",
        "DROP DATABASE popreg",
        "DROP TABLE system.query_log",
        "TRUNCATE TABLE system.query_log",
        "ATTACH TABLE leak FROM '{root}/x' (s String) ENGINE = MergeTree ORDER BY s",
        "SYSTEM DROP DNS CACHE",
        "SYSTEM STOP MERGES",
        "KILL QUERY WHERE 1",
        "SET max_threads = 1",
        "USE default",
        "BACKUP TABLE strings TO File('{root}/backup')",
        "SELECT 1 SETTINGS format_schema = '{secrets}/x:M'",
        "INSERT INTO strings SETTINGS input_format_values_interpret_expressions = 1"
        " VALUES (file('{secrets}/clickhouse-analyst.password'))",
    ],
)
def test_the_writer_is_refused_files_network_and_other_databases(
    writer_host: Host, sql: str
) -> None:
    root = writer_host.path.parent
    reply = writer_host.writer(sql.format(secrets=writer_host.secrets, root=root))
    assert reply.status == 403, reply.body
    assert reply.error() == (497, "ACCESS_DENIED")
    assert not (root / "leak.tsv").exists() and not (root / "elsewhere").exists()
    assert writer_host.writer("SELECT count() FROM strings").body == b"0\n"
    tables = writer_host.writer("SELECT count() FROM system.tables WHERE name = 'leak'")
    assert tables.body == b"0\n"


def test_values_in_the_writers_insert_data_cannot_call_functions(writer_host: Host) -> None:
    """`input_format_values_interpret_expressions` would run `file()` inside the data,
    which no check of the statement sees: the host turns it off for the writer."""
    secret = writer_host.secrets / "clickhouse-analyst.password"
    for sql in [
        f"INSERT INTO strings VALUES (file('{secret}'))",
        f"INSERT INTO strings FORMAT Values\n(file('{secret}'))",
    ]:
        reply = writer_host.writer(sql)
        assert reply.status != 200, reply.body
    assert writer_host.writer("SELECT count() FROM strings").body == b"0\n"
    assert writer_host.writer("INSERT INTO strings VALUES ('plain')").status == 200
    assert writer_host.writer("SELECT s FROM strings").body == b"plain\n"
    assert writer_host.writer("TRUNCATE TABLE strings").status == 200


@pytest.fixture(scope="module")
def writer_host(host: Host) -> Host:
    assert (
        host.writer("CREATE TABLE strings (s String) ENGINE = MergeTree ORDER BY s").status == 200
    )
    return host


def test_the_writer_still_does_all_popreg_does(host: Host) -> None:
    """What popreg sends as the writer (grep writer_client): the schema's DDL, Native and
    JSON inserts, INSERT ... SELECT, reads of popreg and system, TRUNCATE, OPTIMIZE
    FINAL, the unit tables' load, DELETE, RENAME and EXCHANGE."""
    from projections.indicator_units import load_units
    from schemas.admin_units import load

    client = host.client(writer=True)
    try:
        applied = clickhouse_schema.migrate(client)
        assert applied == [path.stem for path in sorted(clickhouse_schema.SQL_DIR.glob("*.sql"))]
        load_units(client, load())
        assert int(client.command("SELECT count() FROM popreg.communes")) > 10_000
        sink = IndicatorSink(client, "limits-test", "topic")
        sink.inserts.insert(
            "popreg.consumer_positions",
            ("consumer", "topic", "partition", "next_offset", "written_at"),
            [("limits-test", "topic", 0, 42, datetime.datetime(2026, 1, 1))],
        )
        assert sink.positions() == {0: 42}
        assert sink.counts() == (0, 0)
        sink.settle()
        sink.merge()
        sink.clear()
        assert sink.positions() == {}
        tables = client.query(
            "SELECT name FROM system.tables WHERE database = {d:String}", parameters={"d": "popreg"}
        ).result_rows
        assert ("vital_events",) in tables
        client.command("CREATE TABLE popreg.swap_a (n UInt8) ENGINE = MergeTree ORDER BY n")
        client.command("CREATE TABLE swap_b (n UInt8) ENGINE = Memory")
        client.insert("swap_a", [[1], [2]], column_names=["n"])
        client.command("EXCHANGE TABLES popreg.swap_a AND popreg.swap_b")
        client.command("RENAME TABLE swap_b TO swap_c")
        client.command("DELETE FROM swap_c WHERE n = 1")
        client.command("ALTER TABLE swap_c DELETE WHERE n = 3")
        assert client.query("SELECT n FROM swap_c").result_rows == [(2,)]
        client.command("DROP TABLE swap_c")
        client.command("DROP TABLE swap_a")
    finally:
        client.close()


def test_the_writer_policy_passes_every_statement_of_the_schema(host: Host) -> None:
    """Every statement of popreg's ClickHouse SQL, as the engine's parser normalises it,
    passes `check_writer` (a denied name in a view would stop `popreg up`)."""
    denied = readonly_sql.denied_functions([]) | readonly_sql.WRITER_EXTRA_DENIED
    checked = 0
    for path in sorted(clickhouse_schema.SQL_DIR.glob("*.sql")):
        for statement in clickhouse_schema.statements(path.read_text("utf-8")):
            reply = host.writer(
                "SELECT formatQuerySingleLine({q:String}) FORMAT RawBLOB",
                param_q=readonly_sql.escape_param(statement),
            )
            assert reply.status == 200, reply.body
            readonly_sql.check_writer(reply.body.decode(), ["system", "default"], denied, {})
            checked += 1
    assert checked > 10
