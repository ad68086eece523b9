"""Plain SQL for ClickHouse, applied in order by `popreg up`.

Files `projections/sql/clickhouse/NNN_name.sql` hold statements separated by `;` at
the end of a line. Each is idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE VIEW`),
so applying them all again is harmless; a file's checksum is recorded in
`popreg.schema_migrations` so `popreg status` can say what the server holds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SQL_DIR = Path(__file__).parent / "sql" / "clickhouse"
DATABASE = "popreg"


def statements(sql: str) -> list[str]:
    """The statements of a file: split at `;` ending a line, comments kept with them."""
    parts = [part.strip() for part in sql.split(";\n")]
    return [p.removesuffix(";") for p in parts if p and not _only_comments(p)]


def _only_comments(text: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in text.splitlines())


def migrate(client: Any, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply every file in order; returns the file names applied."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.schema_migrations (name String,"
        " checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
        " ENGINE = ReplacingMergeTree(applied_at) ORDER BY name"
    )
    applied = []
    for path in sorted(sql_dir.glob("*.sql")):
        sql = path.read_text("utf-8")
        for statement in statements(sql):
            client.command(statement)
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        client.command(
            f"INSERT INTO {DATABASE}.schema_migrations (name, checksum) FORMAT JSONEachRow\n"
            f'{{"name": "{path.stem}", "checksum": "{checksum}"}}'
        )
        applied.append(path.stem)
    return applied
