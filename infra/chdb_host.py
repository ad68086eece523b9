"""The one process that owns the embedded ClickHouse (chDB) data directory and serves
ClickHouse's HTTP interface for it on 127.0.0.1.

chDB runs inside a process and only one process may open a data directory, so the stack
starts this host for it; everything else reaches the engine over HTTP, with
clickhouse-connect or curl, exactly as it would reach a ClickHouse server:

- `/ping` and `/health` (a `SELECT 1` round trip), without credentials;
- `/` for queries (protocol in `infra.clickhouse_http`) as one of two users: the writer
  (`popreg`, used by popreg's processors: reads popreg and system, writes popreg, and
  nothing that reaches files or the network; `readonly_sql.check_writer`) or the
  analyst (read-only: the parser check of `infra.readonly_sql`, an allowlist of URL
  settings, then the host's limits and `readonly=1` applied after them).

The analysts' endpoint is limited (`schemas.settings.AnalystLimits`, given as JSON in
`--limits`): each query's time, memory and result size, how many of one user's queries
run at once (more wait a while, then get 503 with Retry-After), the request body
counted decompressed. A query is cancelled (`KILL QUERY` on the host's own mark, its
`log_comment`) when its client disconnects, or when the analyst sends `KILL QUERY WHERE
query_id = '...'` for a query of theirs. An analyst's error names no query text and no
path of the server's.

Each request runs on a chDB connection of its own (about 0.35 ms to open; chDB releases
the GIL, so concurrent requests run in parallel), so one request's settings never reach
another; for the same reason nothing is kept between requests of a `session_id`.

Run: python -m infra.chdb_host --path DIR --port PORT --writer-password-file FILE
         --analyst-user NAME --analyst-password-file FILE [--limits JSON]
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlsplit

from chdb._exceptions import ChdbError  # what connections raise (not chdb.ChdbError)
from chdb.state.sqlitelike import Connection, connect

from infra import analyst_tables, readonly_sql
from infra.clickhouse_http import (
    Answer,
    ClickHouseError,
    Credentials,
    QueryRequest,
    answer_headers,
    credentials,
    error_headers,
    parse_request,
    read_body,
    result_format,
)
from schemas.settings import CLICKHOUSE_DATABASE, CLICKHOUSE_WRITER_USER, LOOPBACK, AnalystLimits

# An INSERT's data (maybe binary) is for the engine, not the parser: the writer's INSERT
# runs with its data in a file (`_spooled`), the analyst's is refused unread.
_INSERT = re.compile(rb"^(\s|--[^\n]*\n|/\*.*?\*/)*INSERT\b", re.IGNORECASE | re.DOTALL)
# Where an INSERT's inline data begins: after its format's name and the first newline.
_INLINE_DATA = re.compile(rb"\bFORMAT\s+(\w+)[ \t]*\r?\n", re.IGNORECASE)
_SETTINGS_CLAUSE = re.compile(rb"\bSETTINGS\s+\w+\s*=", re.IGNORECASE)  # not a column `settings`
_SETTING_NAME = re.compile(r"^[A-Za-z_]\w*$")
NORMALISED_KEPT = 1000  # distinct query texts whose normalised statements are kept
NORMALISED_TEXT_MAX = 64 * 1024  # longer texts are normalised every time, never kept
WATCH_EVERY_S = 0.05  # how often a running analyst query's client is checked for EOF
KILL_WAIT_S = 5.0  # how long an analyst's KILL QUERY waits for its query to end
# Settings the writer's INSERT data runs under: a Values row may otherwise call any
# function (`VALUES (file('/etc/passwd'))`), out of reach of the statement's check.
_WRITER_INSERT_SETTINGS = (
    "SET input_format_values_interpret_expressions = 0,"
    " input_format_values_deduce_templates_of_expressions = 0"
)


@dataclass(frozen=True)
class User:
    name: str
    password: str
    role: Literal["writer", "analyst"]


@dataclass(frozen=True)
class Running:
    """A query in the engine: whose, and the host's mark on it (its `log_comment`, which
    `KILL QUERY` finds it by; None for the writer's, which nobody cancels)."""

    user: str
    mark: str | None


ClientGone = Callable[[], bool]


class ChdbHost:
    def __init__(
        self,
        path: Path,
        users: list[User],
        limits: AnalystLimits | None = None,
        hidden: list[str] | None = None,
    ) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.users = {user.name: user for user in users}
        self.limits = limits or AnalystLimits()
        # What an analyst's error may not show: the data directory (and secrets').
        self.hidden = sorted({self.path, str(path.resolve()), *(hidden or [])}, key=len)
        self.slots = {
            user.name: threading.BoundedSemaphore(self.limits.max_concurrent_queries)
            for user in users
            if user.role == "analyst"
        }
        self.waiting = dict.fromkeys(self.slots, 0)
        self.running: dict[str, Running] = {}  # by the query_id the client sent (or ours)
        self.queries_lock = threading.Lock()
        # Held for the host's life: chDB shuts the engine down with its last connection.
        self.anchor = connect(self.path)
        self.anchor.query(f"CREATE DATABASE IF NOT EXISTS {CLICKHOUSE_DATABASE}")
        self.version, self.timezone = _rows(self.anchor, "SELECT version(), timezone()")[0]
        table_functions = _rows(self.anchor, "SELECT name FROM system.table_functions")
        self.denied = readonly_sql.denied_functions(name for (name,) in table_functions)
        self.writer_denied = self.denied | readonly_sql.WRITER_EXTRA_DENIED
        self.normalised: dict[str, str] = {}  # query text: its normalised statement
        # popreg's own statements that may name row tables (infra.analyst_tables)
        self.published = analyst_tables.published(lambda sql: _format(self.anchor, sql))
        self.spool = path / "popreg-inserts"  # INSERT data on its way in (`_spooled`)
        shutil.rmtree(self.spool, ignore_errors=True)
        self.spool.mkdir()
        self.lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        conn = connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def health(self) -> dict[str, Any]:
        with self.connection() as conn:
            one = int(conn.query("SELECT 1", "TabSeparated").bytes())
        return {"select_1": one, "version": self.version, "database": CLICKHOUSE_DATABASE}

    def authenticate(self, given: Credentials | None) -> User:
        if given is None:
            raise ClickHouseError(
                516, "AUTHENTICATION_FAILED", "Credentials are required", status=401
            )
        user = self.users.get(given.user)
        if user is None or not hmac.compare_digest(user.password.encode(), given.password.encode()):
            raise ClickHouseError(
                516,
                "AUTHENTICATION_FAILED",
                f"{given.user}: Authentication failed: password is incorrect, "
                "or there is no user with such name",
            )
        return user

    def run(
        self,
        user: User,
        request: QueryRequest,
        query_id: str,
        client_gone: ClientGone = lambda: False,
    ) -> Answer:
        with self.connection() as conn:
            try:
                if user.role == "writer":
                    return self._write(conn, user, request, query_id)
                return self._read(conn, user, request, query_id, client_gone)
            except ChdbError as exc:
                error = ClickHouseError.from_engine(str(exc))
                # The writer is popreg's own and keeps the engine's whole message.
                raise (error if user.role == "writer" else error.redacted(self.hidden)) from None
            except readonly_sql.ReadOnlyViolation as exc:
                raise ClickHouseError(exc.code, exc.name, str(exc)) from None

    def _write(self, conn: Connection, user: User, request: QueryRequest, query_id: str) -> Answer:
        """The writer's statement, judged on the engine's parse (for an INSERT with
        inline data, its head up to FORMAT: the data is for the engine, not the parser)."""
        inserting = _INSERT.match(request.sql) is not None
        inline = _INLINE_DATA.search(request.sql) if inserting else None
        statement = self._normalised(conn, request.sql[: inline.end()] if inline else request.sql)
        if request.database not in (None, CLICKHOUSE_DATABASE):
            raise ClickHouseError(
                497, "ACCESS_DENIED", f"The writer uses the {CLICKHOUSE_DATABASE} database only"
            )
        readonly_sql.check_writer_settings(request.settings)
        readonly_sql.check_writer(
            statement, self._other_databases(conn), self.writer_denied, request.binds
        )
        _apply_settings(conn, request.settings)
        conn.query(_WRITER_INSERT_SETTINGS)
        if request.via_get:
            conn.query("SET readonly = 2")  # as ClickHouse: a GET only reads
        conn.query(f"USE {CLICKHOUSE_DATABASE}")  # unqualified names are popreg's
        with (
            self._registered(query_id, user, None),
            self._spooled(request.sql) if inserting else nullcontext(request.sql) as sql,
        ):
            result = conn.query(cast(str, sql), request.default_format, params=request.binds)
        return _answer(result, None if inserting else statement, request.default_format)

    @contextmanager
    def _spooled(self, sql: bytes) -> Iterator[bytes]:
        """The INSERT with its inline data moved to a file it reads `FROM INFILE`.

        chDB ends inline data at its first empty line and runs what follows as another
        statement: JSON rows with a blank line keep those before it and fail on the
        rest, and Native data (clickhouse-connect's `insert`) holds such a line within a
        few thousand rows. Read from a file, every byte reaches the format."""
        found = _INLINE_DATA.search(sql)
        if found is None:  # VALUES, INSERT ... SELECT, or no data
            yield sql
            return
        head, fmt, data = sql[: found.start()], found.group(1), sql[found.end() :]
        clause = _SETTINGS_CLAUSE.search(head)
        into, settings = (
            (head, b"") if clause is None else (head[: clause.start()], head[clause.start() :])
        )
        try:
            spooled = tempfile.NamedTemporaryFile(dir=self.spool, suffix=".data")  # noqa: SIM115
            spooled.write(data)
            spooled.flush()
        except OSError as exc:
            raise ClickHouseError(
                75,
                "CANNOT_WRITE_TO_FILE_DESCRIPTOR",
                f"The host could not keep the INSERT's data in {self.spool} ({exc}); nothing"
                " was inserted: check that directory (free space, it exists), then retry",
            ) from None
        with spooled:
            infile = _quote(spooled.name).encode()
            yield b"%s FROM INFILE %s %s FORMAT %s" % (into, infile, settings, fmt)

    def _read(
        self,
        conn: Connection,
        user: User,
        request: QueryRequest,
        query_id: str,
        client_gone: ClientGone,
    ) -> Answer:
        if _INSERT.match(request.sql):  # refused before its (maybe binary) data is decoded
            raise ClickHouseError(164, "READONLY", "Cannot execute query in readonly mode: INSERT")
        statement = self._normalised(conn, request.sql)
        if readonly_sql.HANDSHAKE.match(statement):
            # clickhouse-connect sends no settings at all once it sees readonly=1 here,
            # so it is answered with readonly=1 only for the settings it may not send.
            result = conn.query(readonly_sql.handshake(statement), request.default_format)
            return _answer(result, statement, request.default_format)
        killed = readonly_sql.own_kill(statement)
        if killed is not None:  # takes no slot: all of them may be busy with that query
            return self._kill_own(conn, user, killed, request.default_format)
        if request.database not in (None, CLICKHOUSE_DATABASE):
            raise ClickHouseError(
                497, "ACCESS_DENIED", f"The analyst reads the {CLICKHOUSE_DATABASE} database only"
            )
        readonly_sql.check_settings(request.settings)
        readonly_sql.check(statement, self._other_databases(conn), self.denied, request.binds)
        analyst_tables.check(statement, request.binds, self.published)
        settings = readonly_sql.limited(
            {k: v for k, v in request.settings.items() if k != "readonly"},
            {
                "max_execution_time": self.limits.max_execution_s,
                "max_memory_usage": self.limits.max_memory_bytes,
                "max_result_rows": self.limits.max_result_rows,
                "max_result_bytes": self.limits.max_result_bytes,
            },
        )
        mark = f"popreg-analyst-{uuid.uuid4()}"
        with self._slot(user):
            if client_gone():  # it went away while it waited
                raise _cancelled()
            # The limits and the mark after the analyst's settings, readonly last:
            # nothing after it can lift them (a query's own SETTINGS clause included).
            _apply_settings(conn, {**settings, "log_comment": mark})
            conn.query("SET readonly = 1")
            conn.query(f"USE {CLICKHOUSE_DATABASE}")
            with self._registered(query_id, user, mark), self._watched(mark, client_gone):
                result = conn.query(statement, request.default_format, params=request.binds)
            return _answer(result, statement, request.default_format)

    def _other_databases(self, conn: Connection) -> list[str]:
        rows = _rows(
            conn,
            "SELECT name FROM system.databases WHERE name != {db:String}",
            {"db": CLICKHOUSE_DATABASE},
        )
        return [name for (name,) in rows]

    @contextmanager
    def _slot(self, user: User) -> Iterator[None]:
        """One of the user's max_concurrent_queries slots; a query waits up to
        queue_wait_s for one (max_queued at most wait), then is answered 503 with
        Retry-After (clickhouse-connect retries a read twice on 503, within 0.3 s)."""
        slots = self.slots[user.name]
        if not slots.acquire(blocking=False):
            with self.queries_lock:
                queued = self.waiting[user.name] < self.limits.max_queued
                if queued:
                    self.waiting[user.name] += 1
            try:
                got = queued and slots.acquire(timeout=self.limits.queue_wait_s)
            finally:
                if queued:
                    with self.queries_lock:
                        self.waiting[user.name] -= 1
            if not got:
                raise ClickHouseError(
                    202,
                    "TOO_MANY_SIMULTANEOUS_QUERIES",
                    f"Too many simultaneous queries of {user.name}: at most"
                    f" {self.limits.max_concurrent_queries} run and"
                    f" {self.limits.max_queued} wait; retry later",
                    status=503,
                    retry_after_s=max(1, round(self.limits.queue_wait_s / 10)),
                )
        try:
            yield
        finally:
            slots.release()

    @contextmanager
    def _registered(self, query_id: str, user: User, mark: str | None) -> Iterator[None]:
        """The query under the id its client sent, for KILL QUERY; as ClickHouse, a
        second query under a running one's id is refused."""
        with self.queries_lock:
            if query_id in self.running:
                raise ClickHouseError(
                    216,
                    "QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING",
                    f"Query with id = {query_id} is already running",
                )
            self.running[query_id] = Running(user.name, mark)
        try:
            yield
        finally:
            with self.queries_lock:
                del self.running[query_id]

    @contextmanager
    def _watched(self, mark: str, client_gone: ClientGone) -> Iterator[None]:
        """While the block runs, a thread checks every WATCH_EVERY_S whether the client
        went away and if so kills the query: chDB otherwise runs it to its end, on a core,
        however long after its client has gone."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(WATCH_EVERY_S):
                if client_gone():
                    while not done.is_set():  # again until it ends: it may not be listed yet
                        self._cancel(mark)
                        done.wait(WATCH_EVERY_S)

        watcher = threading.Thread(target=watch, name="client-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()

    def _cancel(self, mark: str) -> None:
        try:
            with self.connection() as conn:
                conn.query(f"KILL QUERY WHERE Settings['log_comment'] = {_quote(mark)} ASYNC")
        except ChdbError:
            traceback.print_exc(file=sys.stderr)

    def _kill_own(self, conn: Connection, user: User, query_id: str, fmt: str) -> Answer:
        """`KILL QUERY WHERE query_id = '...'` of the analyst's own running query; any
        other id (another user's, none) matches nothing, as in ClickHouse."""
        with self.queries_lock:
            found = self.running.get(query_id)
        mine = found is not None and found.user == user.name and found.mark is not None
        status = "waiting"
        if mine and found is not None and found.mark is not None:
            deadline = time.monotonic() + KILL_WAIT_S
            while time.monotonic() < deadline:
                self._cancel(found.mark)
                with self.queries_lock:
                    if self.running.get(query_id) is not found:
                        status = "finished"
                        break
                time.sleep(WATCH_EVERY_S)
        result = conn.query(
            "SELECT {status:String} AS kill_status, {id:String} AS query_id,"
            " {user:String} AS user FROM numbers({n:UInt8})",
            fmt,
            params={
                "status": status,
                "id": readonly_sql.escape_param(query_id),
                "user": readonly_sql.escape_param(user.name),
                "n": "1" if mine else "0",
            },
        )
        return _answer(result, "SELECT", fmt)

    def _normalised(self, conn: Connection, sql: bytes) -> str:
        """The statement as ClickHouse's parser normalises it, once per distinct text:
        clients send the same few texts with different parameters, and normalising
        popreg's 16 KB indicator query takes ~20 ms a time."""
        text = _text(sql)
        with self.lock:
            found = self.normalised.get(text)
        if found is None:
            found = _format(conn, text)
            if len(text) > NORMALISED_TEXT_MAX:  # 1,000 of them could hold gigabytes
                return found
            with self.lock:
                if len(self.normalised) >= NORMALISED_KEPT:
                    self.normalised.clear()
                self.normalised[text] = found
        return found

    def close(self) -> None:
        self.anchor.close()


def _cancelled() -> ClickHouseError:
    return ClickHouseError(394, "QUERY_WAS_CANCELLED", "Query was cancelled: its client went away")


def _rows(conn: Connection, sql: str, params: dict[str, str] | None = None) -> list[list[Any]]:
    answer = conn.query(sql, "JSONCompact", params=params).bytes()
    rows: list[list[Any]] = json.loads(answer)["data"]
    return rows


def _text(sql: bytes) -> str:
    try:
        return sql.decode()
    except UnicodeDecodeError as exc:
        raise ClickHouseError(36, "BAD_ARGUMENTS", f"The query is not UTF-8: {exc}") from None


def _format(conn: Connection, sql: str) -> str:
    """The statement as ClickHouse's parser normalises it; refuses several statements."""
    result = conn.query(
        "SELECT formatQuerySingleLine({q:String})",
        "RawBLOB",
        params={"q": readonly_sql.escape_param(sql)},
    )
    statement: str = result.bytes().decode()
    return statement


def _apply_settings(conn: Connection, settings: dict[str, str]) -> None:
    for name in settings:
        if not _SETTING_NAME.match(name):
            raise ClickHouseError(115, "UNKNOWN_SETTING", f"Unknown setting '{name}'")
    if settings:
        conn.query("SET " + ", ".join(f"{k} = {_quote(v)}" for k, v in settings.items()))


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _answer(result: Any, statement: str | None, default_format: str) -> Answer:
    body: bytes = result.bytes() or b""
    summary = {
        "read_rows": result.storage_rows_read(),
        "read_bytes": result.storage_bytes_read(),
        "written_rows": result.rows_written(),
        "written_bytes": result.bytes_written(),
        "total_rows_to_read": result.storage_rows_read(),
        "result_rows": result.rows_read(),
        "result_bytes": len(body),
        "elapsed_ns": int(result.elapsed() * 1e9),
    }
    return Answer(body, result_format(statement, body, default_format), summary)


def make_handler(host: ChdbHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "popreg-chdb-host"
        protocol_version = "HTTP/1.1"  # keep-alive: clickhouse-connect pools connections
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))  # the last value wins
            query_id = params.get("query_id") or str(uuid.uuid4())
            try:
                body = read_body(self.rfile, self.headers, host.limits.max_body_bytes)
            except ClickHouseError as error:
                self.close_connection = True  # the rest of the body is still unread
                self._error(error, query_id)
                return
            if url.path == "/ping" or (
                (url.path, method) == ("/", "GET") and "query" not in params
            ):
                self._reply(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            elif url.path == "/health":
                self._health()
            elif url.path == "/":
                self._query(method, params, body, query_id)
            else:
                text = f"There is no handle {url.path}\n\nUse / for queries, /ping or /health.\n"
                self._reply(404, text.encode(), {"Content-Type": "text/plain; charset=UTF-8"})

        def _query(self, method: str, params: dict[str, str], body: bytes, query_id: str) -> None:
            try:
                user = host.authenticate(credentials(self.headers, params))
                request = parse_request(
                    method, params, self.headers, body, host.limits.max_body_bytes
                )
                del body  # the decoded request holds it now
                answer = host.run(user, request, query_id, self._client_gone)
            except ClickHouseError as error:
                self._error(error, query_id)
                return
            except Exception as exc:  # a bug or an undecodable body: say so, keep serving
                traceback.print_exc(file=sys.stderr)
                message = f"The host failed on this query ({type(exc).__name__}); see its log"
                self._error(ClickHouseError(1001, "STD_EXCEPTION", message), query_id)
                return
            self._reply(200, answer.body, answer_headers(answer, query_id, host.timezone))

        def _client_gone(self) -> bool:
            """Whether the client closed its end (EOF or a reset) while its query runs.
            Bytes of a next request (keep-alive) are left unread."""
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except (OSError, ValueError):
                return True

        def _health(self) -> None:
            try:
                body = json.dumps(host.health()).encode()
                self._reply(200, body, {"Content-Type": "application/json"})
            except Exception as exc:
                text = f"{type(exc).__name__}: {exc}\n".encode()
                self._reply(500, text, {"Content-Type": "text/plain; charset=UTF-8"})

        def _error(self, error: ClickHouseError, query_id: str) -> None:
            self._reply(error.status, error.body(host.version), error_headers(error, query_id))

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Health probes and queries are frequent; keep the log for what matters."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--writer-password-file", type=Path, required=True)
    parser.add_argument("--analyst-user", required=True)
    parser.add_argument("--analyst-password-file", type=Path, required=True)
    parser.add_argument("--limits", type=AnalystLimits.model_validate_json, default=AnalystLimits())
    args = parser.parse_args()

    users = [
        User(CLICKHOUSE_WRITER_USER, args.writer_password_file.read_text().strip(), "writer"),
        User(args.analyst_user, args.analyst_password_file.read_text().strip(), "analyst"),
    ]
    secret_dirs = {
        str(path.resolve().parent)
        for path in (args.writer_password_file, args.analyst_password_file)
    }
    host = ChdbHost(args.path, users, args.limits, sorted(secret_dirs))
    server = ThreadingHTTPServer((LOOPBACK, args.port), make_handler(host))

    def shutdown(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"chDB at {args.path} served on http://{LOOPBACK}:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        host.close()
        print("chDB host stopped", flush=True)


if __name__ == "__main__":
    main()
