"""ClickHouse's HTTP interface served by the chDB host: the writer writes, the analyst
only reads popreg's data, through clickhouse-connect and raw HTTP as curl sends it."""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import re
import stat
import time
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode

import lz4.frame
import psutil
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from pydantic import ValidationError

from infra import readonly_sql
from infra.clickhouse import ClickHouse, analyst_client, writer_client
from infra.clickhouse_http import parse_request, zstd
from schemas.settings import CLICKHOUSE_WRITER_USER, LOOPBACK, Settings
from tests.conftest import StackUnderTest

pytestmark = pytest.mark.stack

CH_ERROR = re.compile(r"^Code: (\d+)\. DB::Exception: .*\(([A-Z_]+)\) \(version [\d.]+\)\n$", re.S)
ROWS = 3


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> tuple[int, str]:
        """(code, name) of a ClickHouse-style error; fails the test if it is not one."""
        match = CH_ERROR.match(self.body.decode())
        assert match, self.body
        assert self.headers["X-ClickHouse-Exception-Code"] == match.group(1)
        return int(match.group(1)), match.group(2)


@dataclass
class Scratch:
    settings: Settings
    table: str
    writer: Any
    analyst: Any

    def count(self) -> int:
        return int(self.writer.command(f"SELECT count() FROM {self.table}"))

    def http(
        self,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request as curl sends it; HTTP Basic unless headers carry the credentials."""
        all_headers = dict(headers or {})
        if user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            all_headers["Authorization"] = f"Basic {token}"
        url = f"http://{LOOPBACK}:{self.settings.ports.clickhouse_http}/?{urlencode(params or {})}"
        request = urllib.request.Request(url, data=body, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def as_analyst(self, sql: str, **params: str) -> Reply:
        settings = self.settings
        password = settings.clickhouse_analyst_password_file.read_text().strip()
        return self.http(
            {"query": sql, **params}, user=settings.clickhouse_analyst_user, password=password
        )


@pytest.fixture(scope="module")
def scratch(test_stack: StackUnderTest) -> Iterator[Scratch]:
    if test_stack.backend != "embedded":
        pytest.skip("the chDB host's users exist on the embedded stack only")
    settings = test_stack.settings
    writer, analyst = writer_client(settings), analyst_client(settings)
    table = f"http_scratch_{uuid.uuid4().hex[:8]}"
    writer.command(f"CREATE TABLE {table} (id UInt32, name String) ENGINE = MergeTree ORDER BY id")
    rows = "\n".join(json.dumps({"id": i, "name": f"n{i}"}) for i in range(1, ROWS + 1))
    summary = writer.command(f"INSERT INTO {table} FORMAT JSONEachRow\n{rows}")
    assert summary.written_rows == ROWS
    try:
        yield Scratch(settings, table, writer, analyst)
    finally:
        writer.command(f"DROP TABLE IF EXISTS {table}")
        writer.close()
        analyst.close()


# --- the stack's part --------------------------------------------------------------


def test_passwords_are_private_files_never_in_argv(scratch: Scratch) -> None:
    settings = scratch.settings
    record = ClickHouse(settings).running()
    assert record is not None
    cmdline = " ".join(psutil.Process(record.pid).cmdline())
    for path in (
        settings.clickhouse_writer_password_file,
        settings.clickhouse_analyst_password_file,
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert str(path) in cmdline
        assert path.read_text().strip() not in cmdline
    assert settings.clickhouse_analyst_user == "analyst"


def test_ping_and_health_need_no_credentials(scratch: Scratch) -> None:
    assert scratch.analyst.ping()
    assert scratch.http().body == b"Ok.\n"
    base = f"http://{LOOPBACK}:{scratch.settings.ports.clickhouse_http}"
    with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
        assert json.load(response)["select_1"] == 1


# --- the writer ----------------------------------------------------------------------


def test_writer_runs_ddl_inserts_deletes_and_truncates(scratch: Scratch) -> None:
    writer = scratch.writer
    table = f"{scratch.table}_w"
    writer.command(f"CREATE TABLE {table} (id UInt32, at DateTime) ENGINE = MergeTree ORDER BY id")
    try:
        rows = '{"id": 1, "at": "2024-05-01 10:00:00"}\n{"id": 2, "at": "2024-05-02 10:00:00"}'
        assert writer.command(f"INSERT INTO {table} FORMAT JSONEachRow\n{rows}").written_rows == 2
        writer.insert(table, [[3, datetime.datetime(2024, 5, 3)]], column_names=["id", "at"])
        assert writer.query(f"SELECT id FROM {table} ORDER BY id").result_rows == [(1,), (2,), (3,)]
        writer.command(f"DELETE FROM {table} WHERE id = 2")
        assert writer.command(f"SELECT arraySort(groupArray(id)) FROM {table}") == "[1,3]"
        writer.command(f"TRUNCATE TABLE {table}")
        assert writer.command(f"SELECT count() FROM {table}") == 0
        assert writer.command(f"SELECT id FROM {table}") == ""  # an empty result, not a summary
    finally:
        writer.command(f"DROP TABLE {table}")


def test_writer_insert_data_reaches_the_engine_whole(scratch: Scratch) -> None:
    """chDB ends inline INSERT data at an empty line and runs the rest as a statement:
    3,000 UInt32s in Native hold one (row 2,570 is 0x0A0A), and so does JSON with a blank
    line between rows. The host hands it the data in a file."""
    writer = scratch.writer
    table = f"{scratch.table}_whole"
    writer.command(f"CREATE TABLE {table} (id UInt32) ENGINE = MergeTree ORDER BY id")
    try:
        writer.insert(table, [[n] for n in range(3000)], column_names=["id"])
        assert writer.query(f"SELECT count(), sum(id) FROM {table}").result_rows == [
            (3000, sum(range(3000)))
        ]
        writer.command(f"TRUNCATE TABLE {table}")
        sql = f"INSERT INTO {table} SETTINGS async_insert = 0 FORMAT JSONEachRow\n"
        writer.command(sql + '{"id": 1}\n\n{"id": 2}\n\n')
        assert writer.query(f"SELECT id FROM {table} ORDER BY id").result_rows == [(1,), (2,)]
        with pytest.raises(DatabaseError, match="CANNOT_PARSE_INPUT"):  # data, not a statement
            writer.command(sql + f'{{"id": 3}}\n\nTRUNCATE TABLE {table}')
        assert writer.query(f"SELECT id FROM {table} ORDER BY id").result_rows == [(1,), (2,)]
    finally:
        writer.command(f"DROP TABLE {table}")


def test_writer_insert_of_many_blocks_keeps_every_row(scratch: Scratch) -> None:
    """clickhouse-connect sends an insert's Native blocks (2 MiB each) as LZ4 frames of
    their own; the host once kept the first frame only, and `rebuild indicators` lost a
    third of `vital_events` without an error."""
    writer = scratch.writer
    table = f"{scratch.table}_blocks"
    writer.command(f"CREATE TABLE {table} (id UInt32, pad String) ENGINE = MergeTree ORDER BY id")
    try:
        rows = [[n, f"{n:0100d}"] for n in range(100_000)]  # ~105 bytes: blocks of 32,768
        writer.insert(table, rows, column_names=["id", "pad"])
        assert writer.query(f"SELECT count(), sum(id) FROM {table}").result_rows == [
            (100_000, sum(range(100_000)))
        ]
    finally:
        writer.command(f"DROP TABLE {table}")


def test_writer_insert_clauses_and_a_missing_spool(scratch: Scratch) -> None:
    """A column named `settings` is not a SETTINGS clause; with nowhere to keep the data,
    the INSERT fails whole and says where to look."""
    writer = scratch.writer
    table = f"{scratch.table}_spool"
    writer.command(f"CREATE TABLE {table} (settings UInt8) ENGINE = MergeTree ORDER BY settings")
    spool = scratch.settings.chdb_path / "popreg-inserts"
    try:
        writer.command(f'INSERT INTO {table} (settings) FORMAT JSONEachRow\n{{"settings": 1}}')
        spool.rmdir()
        with pytest.raises(DatabaseError, match="CANNOT_WRITE_TO_FILE_DESCRIPTOR") as missing:
            writer.command(f'INSERT INTO {table} FORMAT JSONEachRow\n{{"settings": 2}}')
        assert str(spool) in str(missing.value) and "nothing was inserted" in str(missing.value)
        assert writer.command(f"SELECT groupArray(settings) FROM {table}") == "[1]"
    finally:
        spool.mkdir(exist_ok=True)
        writer.command(f"DROP TABLE {table}")


def test_writer_errors_read_like_clickhouse(scratch: Scratch) -> None:
    with pytest.raises(DatabaseError) as missing:
        scratch.writer.query("SELECT * FROM no_such_table")
    assert (missing.value.code, missing.value.name) == (60, "UNKNOWN_TABLE")
    password = scratch.settings.clickhouse_writer_password_file.read_text().strip()
    reply = scratch.http({"query": "SELEC 1"}, user=CLICKHOUSE_WRITER_USER, password=password)
    assert reply.status == 400
    assert reply.error() == (62, "SYNTAX_ERROR")


# --- the analyst reads ---------------------------------------------------------------


def test_analyst_queries_with_clickhouse_connect(scratch: Scratch) -> None:
    analyst, table = scratch.analyst, scratch.table
    expected = [(i, f"n{i}") for i in range(1, ROWS + 1)]
    assert analyst.query(f"SELECT id, name FROM {table} ORDER BY id").result_rows == expected
    frame = analyst.query_df(f"SELECT id, name FROM {table} ORDER BY id")
    assert frame["name"].tolist() == [name for _, name in expected]
    arrow = analyst.query_arrow(f"SELECT id, name FROM {table} ORDER BY id")
    assert arrow.column("id").to_pylist() == [i for i, _ in expected]
    bound = analyst.query(
        f"SELECT id FROM {table} WHERE name = {{name:String}} AND id > {{low:UInt32}}",
        parameters={"name": "n2", "low": 1},
    )
    assert bound.result_rows == [(2,)]
    long_value = "x'\\\t" * 2000  # over clickhouse-connect's URL limit: sent as a form
    assert analyst.query("SELECT {v:String}", parameters={"v": long_value}).result_rows == [
        (long_value,)
    ]
    assert analyst.command(f"SELECT count() FROM {table}") == ROWS


def test_analyst_queries_a_parameterized_view(scratch: Scratch) -> None:
    """How analysts read the indicators: views in popreg taking parameters."""
    view = f"{scratch.table}_from"
    scratch.writer.command(
        f"CREATE VIEW {view} AS SELECT id FROM {scratch.table} WHERE id >= {{low:UInt32}}"
    )
    try:
        result = scratch.analyst.query(f"SELECT id FROM popreg.{view}(low=2) ORDER BY id")
        assert result.result_rows == [(i,) for i in range(2, ROWS + 1)]
    finally:
        scratch.writer.command(f"DROP VIEW {view}")


def test_small_queries_answer_in_milliseconds(scratch: Scratch) -> None:
    """Headers and body leave in two writes; with Nagle's algorithm on, each answer
    would wait for the client's delayed ACK (about 40 ms)."""
    timings = []
    for _ in range(11):
        started = time.perf_counter()
        scratch.analyst.query("SELECT 1")
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[5] < 0.030


def test_analyst_url_settings_apply_before_readonly(scratch: Scratch) -> None:
    result = scratch.analyst.query(
        "SELECT getSetting('max_threads'), getSetting('readonly')", settings={"max_threads": 3}
    )
    assert result.result_rows == [(3, 1)]


def test_analyst_over_raw_http_get_and_post(scratch: Scratch) -> None:
    reply = scratch.as_analyst(f"SELECT count() FROM {scratch.table}")
    assert (reply.status, reply.body) == (200, f"{ROWS}\n".encode())
    assert reply.headers["X-ClickHouse-Format"] == "TabSeparated"
    assert reply.headers["X-ClickHouse-Timezone"]
    assert reply.headers["X-ClickHouse-Query-Id"]
    assert json.loads(reply.headers["X-ClickHouse-Summary"])["result_rows"] == "1"

    settings = scratch.settings
    password = settings.clickhouse_analyst_password_file.read_text().strip()
    sql = f"SELECT name FROM {scratch.table} WHERE id = 1 FORMAT JSONEachRow".encode()
    by_headers = {
        "X-ClickHouse-User": settings.clickhouse_analyst_user,
        "X-ClickHouse-Key": password,
    }
    for body, headers in [
        (sql, by_headers),
        (gzip.compress(sql), {**by_headers, "Content-Encoding": "gzip"}),
        (lz4.frame.compress(sql), {**by_headers, "Content-Encoding": "lz4"}),
    ]:
        reply = scratch.http(body=body, headers=headers)
        assert (reply.status, reply.body) == (200, b'{"name":"n1"}\n'), reply.body
        assert reply.headers["X-ClickHouse-Format"] == "JSONEachRow"
    in_url = {"user": settings.clickhouse_analyst_user, "password": password}
    reply = scratch.http({"query": "SELECT 1 + {x:UInt8}", "param_x": "1", **in_url})
    assert reply.body == b"2\n"


# --- what the analyst may not do -----------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO {table} VALUES (99, 'x')", "READONLY"),
        ('INSERT INTO {table} FORMAT JSONEachRow\n{{"id": 99, "name": "x"}}', "READONLY"),
        ("DROP TABLE {table}", "READONLY"),
        ("CREATE TABLE {table}_2 (id UInt32) ENGINE = Memory", "READONLY"),
        ("ALTER TABLE {table} DELETE WHERE 1", "READONLY"),
        ("TRUNCATE TABLE {table}", "READONLY"),
        ("SYSTEM STOP MERGES", "READONLY"),
        ("KILL QUERY WHERE 1", "READONLY"),
        ("SELECT 1; SYSTEM STOP MERGES", "SYNTAX_ERROR"),
        ("SELECT * FROM file('/etc/hostname')", "READONLY"),
        ("SELECT file('/etc/hostname')", "READONLY"),
        ("SELECT * FROM `FILE` ('/etc/hostname', 'RawBLOB')", "READONLY"),
        ("SELECT * FROM url('http://127.0.0.1:1/', 'RawBLOB', 'x String')", "READONLY"),
        ("SELECT * FROM filesystem('/etc')", "READONLY"),
        ("SELECT * FROM eval('SELECT 1')", "READONLY"),
        ("SELECT * FROM merge('system', 'processes')", "READONLY"),
        ("SELECT query FROM system.processes", "ACCESS_DENIED"),
        ("SELECT * FROM information_schema.tables", "ACCESS_DENIED"),
        ("SHOW TABLES FROM system", "ACCESS_DENIED"),
        ("SHOW PROCESSLIST", "READONLY"),
        ("SELECT 1 SETTINGS readonly = 0", "READONLY"),
    ],
)
def test_analyst_is_refused(scratch: Scratch, sql: str, expected: str) -> None:
    reply = scratch.as_analyst(sql.format(table=scratch.table))
    assert reply.status in (400, 403, 500), reply.body
    assert reply.error()[1] == expected
    assert scratch.count() == ROWS


def test_analyst_into_outfile_writes_no_file(scratch: Scratch, tmp_path: Path) -> None:
    target = tmp_path / "leak.tsv"
    with pytest.raises(DatabaseError) as refused:
        scratch.analyst.query(f"SELECT * FROM {scratch.table} INTO OUTFILE '{target}'")
    assert (refused.value.code, refused.value.name) == (164, "READONLY")
    assert not target.exists()


@pytest.mark.parametrize("readonly", [["0"], ["1", "0"]])
def test_analyst_url_readonly_cannot_lift_it(scratch: Scratch, readonly: list[str]) -> None:
    """The last of repeated URL parameters wins; readonly stays 1 whatever they say."""
    settings = scratch.settings
    password = settings.clickhouse_analyst_password_file.read_text().strip()
    sql = f"INSERT INTO {scratch.table} VALUES (100, 'lifted')"
    params = [("query", sql), *(("readonly", value) for value in readonly)]
    reply = scratch.http(params, b"", user=settings.clickhouse_analyst_user, password=password)
    assert reply.error() == (164, "READONLY")
    assert scratch.count() == ROWS


def test_analyst_other_databases_and_file_settings_are_refused(scratch: Scratch) -> None:
    assert scratch.as_analyst("SELECT 1", database="system").error() == (497, "ACCESS_DENIED")
    shown = scratch.analyst.query("SHOW TABLES FROM {d:Identifier}", parameters={"d": "popreg"})
    assert (scratch.table,) in shown.result_rows
    with pytest.raises(DatabaseError) as refused:
        scratch.analyst.query("SHOW TABLES FROM {d:Identifier}", parameters={"d": "system"})
    assert refused.value.name == "ACCESS_DENIED"
    for sql, binds in [
        ("SELECT count() FROM system.{t:Identifier}", {"t": "processes"}),
        ("SELECT count() FROM {d:Identifier}.{t:Identifier}", {"d": "system", "t": "processes"}),
        ("SELECT count() FROM {t:Identifier}", {"t": "system.processes"}),
    ]:
        with pytest.raises(DatabaseError) as refused:
            scratch.analyst.query(sql, parameters=binds)
        assert refused.value.name == "ACCESS_DENIED", sql
    reply = scratch.as_analyst("SELECT 1", format_schema="/etc/hostname:Message")
    assert reply.error() == (164, "READONLY")


def test_analyst_native_insert_is_refused(scratch: Scratch) -> None:
    with pytest.raises(DatabaseError) as refused:
        scratch.analyst.insert(scratch.table, [[101, "native"]], column_names=["id", "name"])
    assert refused.value.name == "READONLY"
    assert scratch.count() == ROWS


def test_wrong_or_missing_credentials_are_refused(scratch: Scratch) -> None:
    settings = scratch.settings
    wrong = scratch.http({"query": "SELECT 1"}, user=settings.clickhouse_analyst_user, password="x")
    assert wrong.status == 403
    assert wrong.error() == (516, "AUTHENTICATION_FAILED")
    writer_as_analyst = scratch.http(
        {"query": "SELECT 1"},
        user=CLICKHOUSE_WRITER_USER,
        password=settings.clickhouse_analyst_password_file.read_text().strip(),
    )
    assert writer_as_analyst.error() == (516, "AUTHENTICATION_FAILED")
    missing = scratch.http({"query": "SELECT 1"})
    assert missing.status == 401
    assert missing.error() == (516, "AUTHENTICATION_FAILED")


def test_writer_still_inserts_after_the_refusals(scratch: Scratch) -> None:
    table = scratch.table
    scratch.writer.command(f'INSERT INTO {table} FORMAT JSONEachRow\n{{"id": 50, "name": "w"}}')
    try:
        assert scratch.analyst.command(f"SELECT count() FROM {table}") == ROWS + 1
    finally:
        scratch.writer.command(f"DELETE FROM {table} WHERE id = 50")
    assert scratch.count() == ROWS


def test_every_engine_table_function_is_judged(scratch: Scratch) -> None:
    """A chDB upgrade that adds a table function makes this fail until it is classified."""
    names = {
        row[0]
        for row in scratch.writer.query("SELECT name FROM system.table_functions").result_rows
    }
    unjudged = names - readonly_sql.DENIED_FUNCTIONS - readonly_sql.PURE_TABLE_FUNCTIONS
    assert unjudged == set()


# --- without the stack ----------------------------------------------------------------


def test_the_analyst_cannot_be_named_as_the_writer() -> None:
    with pytest.raises(ValidationError, match="is the writer"):
        Settings(clickhouse_analyst_user=CLICKHOUSE_WRITER_USER)


def test_denied_functions_match_whole_names_only() -> None:
    denied = readonly_sql.DENIED_FUNCTIONS
    readonly_sql.check("SELECT profile(1), urlx(2) FROM t", [], denied, {})
    for statement in ["SELECT * FROM FILE('x')", "SELECT * FROM s3 ('x')", "SELECT `url`('x')"]:
        with pytest.raises(readonly_sql.ReadOnlyViolation):
            readonly_sql.check(statement, [], denied, {})


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("lz4", lz4.frame.compress),
        ("zstd", zstd.compress),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
    ],
)
def test_a_body_of_several_frames_is_decoded_whole(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    headers = Message()
    headers["Content-Encoding"] = encoding
    body = compress(b"INSERT INTO t FORMAT CSV\n1\n") + compress(b"2\n")
    request = parse_request("POST", {}, headers, body)
    assert request.sql == b"INSERT INTO t FORMAT CSV\n1\n2\n"


def test_handshake_is_recognised_exactly() -> None:
    handshake = "SELECT name, value, readonly FROM system.settings LIMIT 10000 FORMAT Native"
    assert readonly_sql.HANDSHAKE.match(handshake)
    assert not readonly_sql.HANDSHAKE.match(handshake.replace("settings", "settings, t"))
