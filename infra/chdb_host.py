"""The one process that owns the embedded ClickHouse (chDB) data directory.

chDB runs inside a process and only one process may open a data directory, so the
stack starts this host for it; everything else reaches it over HTTP on 127.0.0.1.
For now it answers ClickHouse's `/ping` and a `/health` round trip (`SELECT 1` on the
engine); the indicator processor and the analysts' read-only query endpoint move in
here when they are built.

Run: python -m infra.chdb_host --path DIR --port PORT
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

import clickhouse_connect

from popreg.settings import LOOPBACK

DATABASE = "popreg"


class ChdbHost:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.client: Any = clickhouse_connect.get_client(dsn=f"chdb://{path}")
        self.client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        self.lock = threading.Lock()

    def health(self) -> dict[str, Any]:
        with self.lock:
            one = self.client.query("SELECT 1").result_rows[0][0]
            version = self.client.server_version
        return {"select_1": one, "version": version, "database": DATABASE}

    def close(self) -> None:
        with self.lock:
            self.client.close()


def make_handler(host: ChdbHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "popreg-chdb-host"

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._reply(200, b"Ok.\n", "text/plain")
            elif self.path == "/health":
                try:
                    body = json.dumps(host.health()).encode()
                    self._reply(200, body, "application/json")
                except Exception as exc:
                    self._reply(500, f"{type(exc).__name__}: {exc}\n".encode(), "text/plain")
            else:
                self._reply(404, b"not found: only /ping and /health are served\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Health probes are frequent; keep the log for what matters."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    host = ChdbHost(args.path)
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
