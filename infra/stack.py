"""`popreg up | down | status`: the stack as a whole.

Parts start in dependency order (S3 store, broker, PostgreSQL, ClickHouse) and stop
in reverse. Parts the settings point at external servers are checked, never started.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from clickhouse_connect.driver.exceptions import ClickHouseError

from infra import kafka, procs
from infra.broker import OPEN_BROKER_NOTICE, Broker
from infra.clickhouse import ClickHouse, writer_client
from infra.part import Part, PartStatus
from infra.portal_part import Portal, ensure_logins
from infra.postgres import Postgres, set_login_passwords
from infra.processors import Processors
from infra.roster import sync_roster
from infra.seaweed import Seaweed
from infra.supervisor import MAX_DELAY_S
from projections import clickhouse_schema, disclosure, migrations
from projections.indicator_units import load_units
from schemas import admin_units
from schemas.settings import LOOPBACK, Settings

Report = Callable[[str], None]


@dataclass(frozen=True)
class UpResult:
    started: list[str]
    topics_created: list[str]
    statuses: list[PartStatus]


def parts(settings: Settings) -> list[Part]:
    """Every part, in start order; the processors come last, after topics and schema."""
    servers: list[Part] = [Seaweed(settings), Broker(settings), Postgres(settings)]
    last: list[Part] = [Portal(settings)] if settings.portal.enabled else []
    return [*servers, ClickHouse(settings), Processors(settings), *last]


def shown_parts(settings: Settings) -> list[Part]:
    """The parts `status` lists: the S3 store only when it is in use."""
    return [part for part in parts(settings) if part.embedded or not isinstance(part, Seaweed)]


@contextmanager
def stack_lock(settings: Settings) -> Iterator[None]:
    """One `up`/`down` at a time per data directory."""
    lock_file = settings.resolved_data_dir / "run" / "stack.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise procs.StackError(
                f"another `popreg up/down` is running on {settings.resolved_data_dir}"
            ) from exc
        yield


def preflight(settings: Settings, to_start: list[Part]) -> None:
    """Fail in seconds, with a specific reason, before starting anything."""
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    if to_start and free_mb < settings.embedded.min_free_disk_mb:
        raise procs.StackError(
            f"disk full: {free_mb} MB free on the filesystem of {data_dir}, the stack needs "
            f"{settings.embedded.min_free_disk_mb} MB; free space or move the data directory "
            f"(--data-dir / POPREG_DATA_DIR)"
        )
    for part in to_start:
        part.require_binaries()
    ports: dict[int, str] = {}
    for part in to_start:
        ports.update(part.ports())
    procs.require_free_ports(LOOPBACK, ports)


def up(
    settings: Settings, report: Report = lambda _: None, with_processors: bool = True
) -> UpResult:
    with stack_lock(settings):
        all_parts = [p for p in parts(settings) if with_processors or not _is_processors(p)]
        to_start = [p for p in all_parts if p.embedded and p.running() is None]
        preflight(settings, to_start)
        started: list[Part] = []
        try:
            for part in all_parts:
                if _is_processors(part):
                    continue
                if not part.embedded:
                    report(f"{part.name}: external at {part.address}")
                    continue
                if part.start():
                    started.append(part)
                    report(f"{part.name}: started on {part.address}")
                else:
                    report(f"{part.name}: already running on {part.address}")
                if isinstance(part, Broker):
                    report(f"{part.name}: {OPEN_BROKER_NOTICE}")
            created = kafka.ensure_topics(settings)
            report(f"topics: created {', '.join(created)}" if created else "topics: present")
            applied = migrate(settings)
            report(
                f"postgres: applied {', '.join(f'{m.version:03d}_{m.name}' for m in applied)}"
                if applied
                else "postgres: schema up to date"
            )
            report(f"clickhouse: {migrate_clickhouse(settings)}")
            for part in all_parts:
                if isinstance(part, Processors):
                    if part.start():
                        started.append(part)
                    elif (record := part.running()) is not None:
                        # A worker may be between restarts, or failing, because a server
                        # it needs was down until now: the supervisor forgets its failures
                        # and starts it again.
                        part.retry()
                        what = "the processors (a worker is restarting)"
                        procs.wait_until(record, part.ready, RESTART_WAIT_S, what)
                    report(f"{part.name}: {part.check()}")
            for part in all_parts:
                if isinstance(part, Portal):
                    started += [part] if part.start() else []
                    logins = ensure_logins(settings)
                    users = ", ".join(settings.portal.users)
                    report(f"portal: {part.address} (users {users}; passwords in")
                    report(f"  {logins[0].parent}/portal-<user>.password)")
            statuses = [
                part.status()
                for part in shown_parts(settings)
                if with_processors or not _is_processors(part)
            ]
            unhealthy = [s for s in statuses if not s.healthy]
            if unhealthy:
                raise procs.StackError(
                    "; ".join(f"{s.name} is not healthy: {s.detail}" for s in unhealthy)
                )
        except BaseException:
            for part in reversed(started):
                report(f"{part.name}: stopping (up failed) — {part.stop()}")
            raise
        return UpResult([p.name for p in started], created, statuses)


RESTART_WAIT_S = MAX_DELAY_S + 30


def _is_processors(part: Part) -> bool:
    """The parts of popreg's own that `--no-processors` leaves out: the workers and the
    portal (the servers only)."""
    return isinstance(part, Processors | Portal)


def migrate(settings: Settings) -> list[migrations.Migration]:
    """The migrations, then the settings the schema reads (the analysts' k), then the
    passwords of popreg's own logins (they exist once the migrations ran)."""
    try:
        applied = migrations.migrate(settings.postgres_url)
        disclosure.write_k(settings.postgres_url, settings.disclosure_k)
        set_login_passwords(settings)
        return applied
    except (migrations.MigrationError, psycopg.Error) as exc:
        raise procs.StackError(f"postgres migrations failed: {exc}") from exc


def migrate_clickhouse(settings: Settings) -> str:
    """The indicator tables, views and unit tables: idempotent, applied on every `up`."""
    try:
        client = writer_client(settings)
        try:
            applied = clickhouse_schema.migrate(client)
            load_units(client, admin_units.load())
        finally:
            client.close()
        accounts = sync_roster(settings)
    except ClickHouseError as exc:
        raise procs.StackError(f"clickhouse schema failed: {exc}") from exc
    return (
        f"schema {', '.join(applied)} applied; admin units loaded;"
        f" {accounts} collaborators' accounts"
    )


def down(settings: Settings, report: Report = lambda _: None) -> None:
    with stack_lock(settings):
        for part in reversed(parts(settings)):
            if part.embedded:
                report(f"{part.name}: {part.stop()}")


def status(settings: Settings) -> list[PartStatus]:
    return [part.status() for part in shown_parts(settings)]
