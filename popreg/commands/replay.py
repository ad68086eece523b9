"""`popreg replay`: the registry as of a date (as known at a time), for auditors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from confluent_kafka import KafkaException

from popreg.output import DataDir, console, fail, progress, settings_for
from projections import replay as replay_run
from projections.as_of_files import manifest_of, write
from projections.as_of_files import to_postgres as to_postgres_schema
from projections.checkpoint_files import prune
from projections.domain.as_of import Cutoffs, Scope
from projections.domain.checkpoint import Refused
from projections.replay import Replayed
from schemas.admin_units import load
from schemas.models import VIETNAM
from schemas.settings import Settings


def replay(
    as_of: Annotated[str, typer.Option("--as-of", help="valid date, YYYY-MM-DD")],
    out: Annotated[
        Path | None, typer.Option("--out", help="directory for the Parquet files")
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="knowledge time, e.g. 2025-01-15T00:00:00Z (default now)"),
    ] = None,
    province: Annotated[str | None, typer.Option(help="2-digit province code")] = None,
    commune: Annotated[str | None, typer.Option(help="5-digit commune code")] = None,
    to_postgres: Annotated[
        str | None,
        typer.Option("--to-postgres", help="write into this PostgreSQL schema instead"),
    ] = None,
    from_offset_zero: Annotated[
        bool, typer.Option("--from-offset-zero", help="ignore checkpoints; read the whole log")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """The registry as of a date, as known at a time, for auditors.

    Folds the log into the households, persons and memberships of --as-of, as known at
    --known-at, starting from the newest checkpoint that can serve these cutoffs;
    writes Parquet, a summary and a manifest with a content hash."""
    if province and commune:
        raise fail("give --province or --commune, not both")
    if (out is None) == (to_postgres is None):
        raise fail("say where the registry as of the date goes: --out DIR or --to-postgres SCHEMA")
    cutoffs = Cutoffs(parse_day(as_of), parse_instant(known_at))
    settings = settings_for(data_dir)
    replayed = run_replay(settings, cutoffs, Scope(province or commune), not from_offset_zero)
    registry = replayed.registry
    start = {int(p): n for p, n in (replayed.checkpoint or {}).get("positions", {}).items()}
    read = {
        "topic": settings.topics.events,
        "partitions": len(replayed.ends),
        "offsets": {
            p: {"first": start.get(p, 0), "last": end - 1}
            for p, end in sorted(replayed.ends.items())
        },
        "records_read": replayed.records_read,
        "checkpoint": replayed.checkpoint,
        "checkpoints_refused": replayed.refused,
    }
    manifest = manifest_of(registry, read, cutoffs)
    if out is not None:
        where = f"manifest {write(registry, out, manifest)}"
    else:
        assert to_postgres is not None
        try:
            to_postgres_schema(registry, settings.postgres_url, to_postgres, manifest)
        except (ValueError, psycopg.Error) as error:
            raise fail(f"cannot write schema {to_postgres}: {error}") from None
        where = f"schema {to_postgres} (manifest in {to_postgres}.manifest)"
    people = sum(row["persons"] for row in registry.summary["population"])
    source = (
        f"from checkpoint {Path(replayed.checkpoint['path']).name}"
        if replayed.checkpoint
        else "from offset 0"
    )
    console.print(
        f"{people:,} residents in {len(registry.tables['households']):,} households as of"
        f" {cutoffs.as_of}, known at {cutoffs.known_at:%Y-%m-%d %H:%M:%S}Z ({source});"
        f" content hash {registry.content_hash[:16]}…; {where}"
    )


def run_replay(
    settings: Settings, cutoffs: Cutoffs, scope: Scope, use_checkpoints: bool = True
) -> Replayed:
    try:
        with reading() as report:
            return replay_run.replay(settings, load(), cutoffs, scope, report, use_checkpoints)
    except (KafkaException, RuntimeError) as error:
        raise fail(f"cannot read the log: {error}; is the stack up? (popreg status)") from None


def checkpoint(
    settle_days: Annotated[
        int,
        typer.Option(
            min=0, help="events that occurred this many days ago or earlier count as settled"
        ),
    ] = 365,
    settled_through: Annotated[
        str | None,
        typer.Option(
            "--settled-through", help="settled date, YYYY-MM-DD (instead of --settle-days)"
        ),
    ] = None,
    keep: Annotated[int, typer.Option(min=1, help="how many checkpoints to keep")] = 3,
    data_dir: DataDir = None,
) -> None:
    """Save a checkpoint at the end of the log so replays read only what follows it;
    advances the newest usable checkpoint, or folds the log from offset 0."""
    settings = settings_for(data_dir)
    settled = (
        parse_day(settled_through, "--settled-through")
        if settled_through
        else datetime.now(VIETNAM).date() - timedelta(days=settle_days)
    )
    try:
        with reading() as report:
            where, taken, refused = replay_run.take_checkpoint(settings, load(), settled, report)
    except (KafkaException, RuntimeError) as error:
        raise fail(f"cannot read the log: {error}; is the stack up? (popreg status)") from None
    except Refused as error:
        raise fail(f"cannot take a checkpoint: {error}") from None
    for found in refused:
        console.print(f"not built on {found['path']}: {found['reason']}", markup=False)
    gone = prune(replay_run.checkpoints_dir(settings), keep)
    console.print(
        f"checkpoint {where}: {taken.counted:,} events settled through {taken.settled_through},"
        f" {len(taken.tail):,} kept unsettled; {len(gone)} older removed",
        markup=False,
    )


@contextmanager
def reading() -> Iterator[replay_run.Progress]:
    """A progress bar (records/s) for reading the log."""
    with progress() as bar:
        task = bar.add_task("reading the log", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def parse_day(text: str, option: str = "--as-of") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} wants a date like 2024-12-31, got {text!r}") from None


def parse_instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--known-at wants a time like 2025-01-15T00:00:00Z, got {text!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
