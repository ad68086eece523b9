"""Plain SQL migrations for PostgreSQL, applied in order by `popreg up`.

Files `projections/sql/postgres/NNN_name.sql` run once each, in one transaction
each, recorded in `schema_migrations` with a checksum. An applied file that was
edited afterwards is an error: a new migration must be added instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

SQL_DIR = Path(__file__).parent / "sql" / "postgres"
LOCK_ID = 0x706F70726567  # "popreg": one migrator at a time across processes


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def available(sql_dir: Path = SQL_DIR) -> list[Migration]:
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(int(number), name, path.read_text("utf-8")))
    return found


def migrate(url: str, sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Apply what is missing; returns the migrations applied now."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        done: dict[int, str] = {int(v): str(c) for v, c in rows}
        applied = []
        for migration in available(sql_dir):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:03d}_{migration.name} changed after it "
                        "was applied; add a new migration instead of editing an applied one"
                    )
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied.append(migration)
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
        return applied
