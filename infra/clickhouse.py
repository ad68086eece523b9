"""ClickHouse: embedded chDB (hosted by one process of the stack) or a ClickHouse server."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import clickhouse_connect

from infra import procs
from infra.part import Part
from popreg.settings import redact_url


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
        argv = [
            sys.executable,
            "-m",
            "infra.chdb_host",
            "--path",
            str(self.data_path()),
            "--port",
            str(self.settings.ports.clickhouse_http),
        ]
        return procs.spawn(self.data_dir, self.name, argv, self.address, cwd=self.data_dir)

    def check(self) -> str:
        if self.embedded:
            with urllib.request.urlopen(f"{self.settings.clickhouse_url}/health", timeout=5) as r:
                health = json.load(r)
            if health.get("select_1") != 1:
                raise procs.StackError(f"chDB host answered {health}")
            return f"SELECT 1 ok, chDB (ClickHouse {health['version']})"
        client = clickhouse_connect.get_client(dsn=self.settings.clickhouse_url)
        try:
            one = client.query("SELECT 1").result_rows[0][0]
            version = client.server_version
        finally:
            client.close()
        if one != 1:
            raise procs.StackError(f"SELECT 1 answered {one}")
        return f"SELECT 1 ok, ClickHouse {version}"
