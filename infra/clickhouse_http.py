"""ClickHouse's HTTP interface, as far as clickhouse-connect and curl use it.

The chDB host answers on it so popreg's processors and analysts reach the embedded
engine with the client and SQL they would use against a ClickHouse server. This module
is the protocol only (reading a request, shaping answers and ClickHouse-style errors);
the engine stays in `infra.chdb_host`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from io import BufferedIOBase
from typing import Protocol

import lz4.frame

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

MAX_BODY_BYTES = 256 * 1024 * 1024  # the default of `AnalystLimits.max_body_bytes`

# URL parameters that are part of the protocol, not engine settings.
_PROTOCOL_PARAMS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "user",
        "password",
        "quota_key",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "compress",
        "decompress",
        "buffer_size",
        "wait_end_of_query",
        "client_protocol_version",
        "role",
        "stacktrace",
    }
)


# Decompressed bytes are produced this many at a time, and a body is kept whole in the
# first pass up to FIRST_PASS_KEPT bytes: bigger bodies are decoded once to count them
# (keeping nothing) and again to keep them, so a compression bomb costs the host a few
# MiB of memory, not the body limit, before it is refused.
DECODE_STEP = 1 << 20
FIRST_PASS_KEPT = 8 << 20


class _Decompressor(Protocol):
    """What zstd's, lz4's and (through `_ZlibStream`) zlib's decompressors share."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _ZlibStream:
    """zlib's decompressobj with the interface of the others (`needs_input`)."""

    def __init__(self, wbits: int) -> None:
        self._inner = zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._inner.eof

    @property
    def needs_input(self) -> bool:
        return not self._tail and not self._inner.eof

    @property
    def unused_data(self) -> bytes:
        return self._inner.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._inner.decompress(self._tail + data, max(max_length, 0))
        self._tail = self._inner.unconsumed_tail
        return out


def _pieces(new: Callable[[], _Decompressor], body: bytes) -> Iterator[bytes]:
    """Every frame (zstd, lz4), member (gzip) or stream (deflate) of the body, decoded
    at most DECODE_STEP bytes at a time. Each library's one-shot `decompress` keeps only
    the first frame (an lz4 insert of 50,000 rows keeps its first 32,768, silently) and
    expands the whole body in memory before anyone can count it."""
    rest = body
    while rest:
        stream, data = new(), rest
        while not stream.eof:
            out = stream.decompress(data, DECODE_STEP)
            data = b""
            if out:
                yield out
            elif stream.needs_input:
                raise ClickHouseError(
                    432, "CANNOT_DECOMPRESS", "The compressed body ends before its stream does"
                )
        rest = stream.unused_data


_DECODERS: dict[str, Callable[[], _Decompressor]] = {
    "lz4": lz4.frame.LZ4FrameDecompressor,
    "zstd": zstd.ZstdDecompressor,
    "gzip": lambda: _ZlibStream(31),
    "x-gzip": lambda: _ZlibStream(31),
    "deflate": lambda: _ZlibStream(15),
}


def decode_body(encoding: str, body: bytes, max_bytes: int) -> bytes:
    """The body decoded, refused (413) as soon as its decoded size passes `max_bytes`:
    the limit is on what the host would hold, not on the compressed bytes (a 291 KB
    gzip body can expand to 7.4 GB)."""
    new = _DECODERS.get(encoding)
    if new is None:
        raise ClickHouseError(
            48, "NOT_IMPLEMENTED", f"Content-Encoding {encoding} is not supported"
        )
    try:
        kept: list[bytes] | None = []
        total = 0
        for piece in _pieces(new, body):
            total += len(piece)
            if total > max_bytes:
                raise too_large(max_bytes)
            if kept is not None:
                kept.append(piece)
                if total > FIRST_PASS_KEPT:
                    kept = None  # counted to the end first; decoded again if it fits
        if kept is not None:
            return b"".join(kept)
        return b"".join(_pieces(new, body))
    except (zlib.error, RuntimeError, ValueError, zstd.ZstdError) as exc:
        raise ClickHouseError(
            432, "CANNOT_DECOMPRESS", f"The body is not valid {encoding}: {exc}"
        ) from None


# ClickHouse's exceptionCodeToHTTPStatus, by error name. Its 503s (SOCKET_TIMEOUT,
# CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK) stay 500 here: clickhouse-connect retries 503.
_STATUS_BY_NAME = {
    "REQUIRED_PASSWORD": 401,
    **dict.fromkeys(
        ["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "ACCESS_DENIED"], 403
    ),
    **dict.fromkeys(
        [
            "BAD_ARGUMENTS",
            "CANNOT_COMPILE_REGEXP",
            "CANNOT_PARSE_TEXT",
            "CANNOT_PARSE_ESCAPE_SEQUENCE",
            "CANNOT_PARSE_QUOTED_STRING",
            "CANNOT_PARSE_DATE",
            "CANNOT_PARSE_DATETIME",
            "CANNOT_PARSE_NUMBER",
            "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
            "CANNOT_PARSE_UUID",
            "DUPLICATE_COLUMN",
            "ILLEGAL_COLUMN",
            "THERE_IS_NO_COLUMN",
            "TOO_DEEP_AST",
            "TOO_BIG_AST",
            "SYNTAX_ERROR",
            "INCORRECT_DATA",
            "TYPE_MISMATCH",
            "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
        ],
        400,
    ),
    **dict.fromkeys(
        [
            "UNKNOWN_TABLE",
            "UNKNOWN_FUNCTION",
            "UNKNOWN_IDENTIFIER",
            "UNKNOWN_TYPE",
            "UNKNOWN_STORAGE",
            "UNKNOWN_DATABASE",
            "UNKNOWN_SETTING",
            "UNKNOWN_AGGREGATE_FUNCTION",
            "UNKNOWN_FORMAT",
            "UNKNOWN_TYPE_OF_QUERY",
        ],
        404,
    ),
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "TIMEOUT_EXCEEDED": 408,
}

_ENGINE_ERROR = re.compile(r"^Code: (\d+)\. ")
_ERROR_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
# In formatQuerySingleLine's output: the statement's own FORMAT clause, if any.
_TRAILING_FORMAT = re.compile(r" FORMAT (\w+)( SETTINGS .*)?$")
_RESULT_STATEMENT = re.compile(r"^\(*\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS|EXPLAIN|CHECK|KILL)\b")


# Where an engine message starts echoing the query: the analyzer's scope, the old
# interpreter's context, a syntax error's rest of the query, a stack trace.
_ECHO = re.compile(
    r"(\.?\s*In scope |:?\s*While processing |\.?\s*Stack trace|(?<=position \d)\d* \().*$",
    re.DOTALL,
)
_SYNTAX_AT = re.compile(r"^(Syntax error[^:]*: failed at position \d+).*$", re.DOTALL)
_PATH_REST = r"[^\s'\"`()\[\],;:]*"
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/>])/" + _PATH_REST)
# Quoted text long enough to be a piece of the query (a setting's name stays).
_QUOTED = re.compile(r"'(?![A-Za-z_]\w*')(?:[^'\\]|\\.){12,}'|`(?:[^`\\]|\\.){40,}`")
_TRAILER = re.compile(r"\s*\((?:[A-Z][A-Z0-9_]+|version [\w.-]+)\)\.?\s*$")
PUBLIC_MESSAGE_CHARS = 300


class ClickHouseError(Exception):
    """An error answered the way ClickHouse answers it, so clients raise code and name."""

    def __init__(
        self,
        code: int,
        name: str,
        message: str,
        status: int | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        self.text = f"Code: {code}. DB::Exception: {message}. ({name})"
        super().__init__(self.text)
        self.code = code
        self.name = name
        self.message = message
        self.status = status or _STATUS_BY_NAME.get(name, 500)
        self.retry_after_s = retry_after_s

    @classmethod
    def from_engine(cls, text: str) -> ClickHouseError:
        """chDB already words its errors like ClickHouse; keep them as they are."""
        text = text.strip()
        code = _ENGINE_ERROR.match(text)
        if code is None:
            return cls(1001, "STD_EXCEPTION", text)
        names = _ERROR_NAME.findall(text)
        name = names[-1] if names else "UNKNOWN_EXCEPTION"
        error = cls(int(code.group(1)), name, "")
        error.text = text
        message = text.removeprefix(code.group(0))
        while message.startswith("DB::Exception: "):
            message = message.removeprefix("DB::Exception: ")
        error.message = message.removesuffix(f"({name})").strip().removesuffix(".")
        return error

    def redacted(self, hidden: list[str]) -> ClickHouseError:
        """The same error for someone who may not see the query or the server's paths:
        the engine's message up to where it echoes the query (the analyzer's `In scope
        SELECT ...`, a syntax error's rest of the text), long quoted literals, the
        `hidden` strings (data directory, secrets) and any absolute path taken out."""
        message = self.message
        while inner := _ENGINE_ERROR.match(message):  # the engine nests "Code: N. ..." in one
            message = message.removeprefix(inner.group(0)).removeprefix("DB::Exception: ")
            while trailer := _TRAILER.search(message):
                message = message[: trailer.start()]
        message = _SYNTAX_AT.sub(r"\1", message)
        message = _ECHO.sub("", message)
        for text in sorted(filter(None, hidden), key=len, reverse=True):
            message = re.sub(re.escape(text) + _PATH_REST, "<hidden>", message)
        message = _ABSOLUTE_PATH.sub("<path>", message)
        message = _QUOTED.sub("<literal>", message)
        if len(message) > PUBLIC_MESSAGE_CHARS:
            message = message[:PUBLIC_MESSAGE_CHARS] + "..."
        return ClickHouseError(
            self.code,
            self.name,
            message.strip().rstrip(".:") or self.name,
            self.status,
            self.retry_after_s,
        )

    def body(self, version: str) -> bytes:
        return f"{self.text} (version {version})\n".encode()


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


@dataclass(frozen=True)
class QueryRequest:
    sql: bytes
    settings: dict[str, str]
    binds: dict[str, str]
    database: str | None
    default_format: str
    via_get: bool


@dataclass(frozen=True)
class Answer:
    body: bytes
    result_format: str | None  # None: the statement returns no result set (DDL, INSERT)
    summary: dict[str, int]


def credentials(headers: Message, params: dict[str, str]) -> Credentials | None:
    """HTTP Basic, then X-ClickHouse-User/Key, then user/password URL parameters."""
    authorization = headers.get("Authorization")
    if authorization:
        scheme, _, encoded = authorization.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            scheme = ""
        if scheme.lower() != "basic":
            raise ClickHouseError(516, "AUTHENTICATION_FAILED", "Only HTTP Basic is accepted")
        return Credentials(user, password)
    if "X-ClickHouse-User" in headers:
        return Credentials(headers["X-ClickHouse-User"], headers.get("X-ClickHouse-Key", ""))
    if "user" in params:
        return Credentials(params["user"], params.get("password", ""))
    return None


def read_body(rfile: BufferedIOBase, headers: Message, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body as sent (maybe compressed), refused past `max_bytes` before it is read."""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        return _read_chunked(rfile, max_bytes)
    length = int(headers.get("Content-Length") or 0)
    if length > max_bytes:
        raise too_large(max_bytes)
    return rfile.read(length)


def _read_chunked(rfile: BufferedIOBase, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        total += size
        if total > max_bytes:
            raise too_large(max_bytes)
        chunks.append(rfile.read(size))
        rfile.readline()


def too_large(max_bytes: int) -> ClickHouseError:
    return ClickHouseError(
        229, "QUERY_IS_TOO_LARGE", f"Request body over {max_bytes} bytes (decompressed)"
    )


def parse_request(
    method: str,
    params: dict[str, str],
    headers: Message,
    body: bytes,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> QueryRequest:
    """The query is the `query` URL parameter, a newline, then the (decoded) body, whose
    decoded size counts against `max_body_bytes`."""
    params = dict(params)
    if method == "GET":
        body = b""
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if body and encoding not in ("", "identity"):
        body = decode_body(encoding, body, max_body_bytes)
    if headers.get_content_type() == "multipart/form-data":
        params.update(_form_fields(body, headers["Content-Type"]))
        body = b""
    if "1" in (params.get("compress"), params.get("decompress")):
        raise ClickHouseError(
            48, "NOT_IMPLEMENTED", "compress/decompress=1 is not supported; use Content-Encoding"
        )
    query = params.get("query", "").encode()
    sql = query + b"\n" + body if query and body else query or body
    if not sql.strip():
        raise ClickHouseError(62, "SYNTAX_ERROR", "Empty query")
    return QueryRequest(
        sql=sql,
        settings={
            name: value
            for name, value in params.items()
            if name not in _PROTOCOL_PARAMS and not name.startswith("param_")
        },
        binds={
            name.removeprefix("param_"): value
            for name, value in params.items()
            if name.startswith("param_")
        },
        database=params.get("database") or None,
        default_format=params.get("default_format") or "TabSeparated",
        via_get=method == "GET",
    )


def _form_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The query and binds clickhouse-connect sends as a form when they are long."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_filename() is not None:
            raise ClickHouseError(48, "NOT_IMPLEMENTED", "External data tables are not supported")
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


def result_format(statement: str | None, body: bytes, default: str) -> str | None:
    """X-ClickHouse-Format: set when the statement returns a result set (clickhouse-connect
    tells an empty result from a command by it). `statement` is formatQuerySingleLine's
    output, or None for an INSERT whose data was not parsed."""
    if statement is not None:
        trailing = _TRAILING_FORMAT.search(statement)
        if trailing:
            return trailing.group(1)
        if _RESULT_STATEMENT.match(statement):
            return default
    return default if body else None


def answer_headers(answer: Answer, query_id: str, timezone: str) -> dict[str, str]:
    headers = {
        "Content-Type": _content_type(answer.result_format),
        "X-ClickHouse-Query-Id": query_id,
        "X-ClickHouse-Timezone": timezone,
        "X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in answer.summary.items()}),
    }
    if answer.result_format is not None:
        headers["X-ClickHouse-Format"] = answer.result_format
    return headers


def error_headers(error: ClickHouseError, query_id: str) -> dict[str, str]:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "X-ClickHouse-Query-Id": query_id,
        "X-ClickHouse-Exception-Code": str(error.code),
    }
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="ClickHouse server HTTP API"'
    return headers


def _content_type(fmt: str | None) -> str:
    if fmt is None or fmt.startswith(("Pretty", "Vertical", "Markdown", "Values", "Raw")):
        return "text/plain; charset=UTF-8"
    if fmt.startswith("JSON"):
        return "application/json; charset=UTF-8"
    if fmt.startswith(("TabSeparated", "TSV")):
        return "text/tab-separated-values; charset=UTF-8"
    if fmt.startswith("CSV"):
        return "text/csv; charset=UTF-8"
    return "application/octet-stream"
