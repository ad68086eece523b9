"""ClickHouse: embedded chDB (hosted by one process of the stack) or a ClickHouse server.

Clients get a clickhouse-connect client from `writer_client` (popreg's processors: full
access) or `analyst_client` (read-only); both speak HTTP, to the chDB host's port with
the credentials the stack generated, or to the server of `clickhouse_dsn` with the
DSN's credentials.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import clickhouse_connect

from infra import procs, secrets
from infra.part import Part
from schemas.settings import (
    CLICKHOUSE_DATABASE,
    CLICKHOUSE_WRITER_USER,
    LOOPBACK,
    Settings,
    redact_url,
)


def writer_client(settings: Settings) -> Any:
    """A clickhouse-connect client that may write (DDL, INSERT, DELETE, TRUNCATE)."""
    if settings.embedded_clickhouse:
        password = settings.clickhouse_writer_password_file.read_text().strip()
        return _embedded_client(settings, CLICKHOUSE_WRITER_USER, password)
    return _server_client(settings)


def analyst_client(settings: Settings) -> Any:
    """A clickhouse-connect client for analysts: on the embedded host, read-only and
    limited to the popreg database; on a server, whatever the DSN's user may do."""
    if settings.embedded_clickhouse:
        password = settings.clickhouse_analyst_password_file.read_text().strip()
        return _embedded_client(settings, settings.clickhouse_analyst_user, password)
    return _server_client(settings)


def _embedded_client(settings: Settings, username: str, password: str) -> Any:
    # No session: the host keeps nothing between requests (and a server would lock a
    # session used from two threads at once).
    return clickhouse_connect.get_client(
        host=LOOPBACK,
        port=settings.ports.clickhouse_http,
        username=username,
        password=password,
        database=CLICKHOUSE_DATABASE,
        autogenerate_session_id=False,
    )


def _server_client(settings: Settings) -> Any:
    return clickhouse_connect.get_client(dsn=settings.clickhouse_url, autogenerate_session_id=False)


class ClickHouse(Part):
    name = "clickhouse"

    @property
    def embedded(self) -> bool:
        return self.settings.embedded_clickhouse

    @property
    def address(self) -> str:
        return redact_url(self.settings.clickhouse_url)

    def ports(self) -> dict[int, str]:
        return {self.settings.ports.clickhouse_http: "ClickHouse HTTP (chDB host)"}

    def data_path(self) -> Path:
        return self.settings.chdb_path

    def require_binaries(self) -> None:
        try:
            import chdb  # noqa: F401
        except ImportError as exc:
            raise procs.StackError(
                "chDB is missing (clickhouse-connect[chdb]); reinstall popreg (`make install`)"
            ) from exc

    def launch(self) -> procs.PidRecord:
        """The host reads its users' passwords from files: secrets stay out of argv; the
        analysts' endpoint's limits go as JSON (`AnalystLimits`)."""
        writer_file = self.settings.clickhouse_writer_password_file
        analyst_file = self.settings.clickhouse_analyst_password_file
        for password_file in (writer_file, analyst_file):
            secrets.get_or_create(self.data_dir, password_file.name)
        argv = [
            sys.executable,
            "-m",
            "infra.chdb_host",
            "--path",
            str(self.data_path()),
            "--port",
            str(self.settings.ports.clickhouse_http),
            "--writer-password-file",
            str(writer_file),
            "--analyst-user",
            self.settings.clickhouse_analyst_user,
            "--analyst-password-file",
            str(analyst_file),
            "--limits",
            self.settings.analyst_limits.model_dump_json(),
        ]
        return procs.spawn(self.data_dir, self.name, argv, self.address, cwd=self.data_dir)

    def check(self) -> str:
        if self.embedded:
            with urllib.request.urlopen(f"{self.settings.clickhouse_url}/health", timeout=5) as r:
                health = json.load(r)
            if health.get("select_1") != 1:
                raise procs.StackError(f"chDB host answered {health}")
            return f"SELECT 1 ok, chDB (ClickHouse {health['version']})"
        client = _server_client(self.settings)
        try:
            one = client.query("SELECT 1").result_rows[0][0]
            version = client.server_version
        finally:
            client.close()
        if one != 1:
            raise procs.StackError(f"SELECT 1 answered {one}")
        return f"SELECT 1 ok, ClickHouse {version}"
