"""`popreg replay`: the registry as of a date (as known at a time), for auditors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from confluent_kafka import KafkaException

from popreg.output import DataDir, console, fail, progress, settings_for
from popreg.settings import Settings
from projections.admin_units import load
from projections.log import read_log
from projections.replay import Cutoffs, Scope, take
from projections.snapshot_files import manifest_of, write
from projections.snapshot_files import to_postgres as to_postgres_schema
from schemas.models import Event


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
    data_dir: DataDir = None,
) -> None:
    """Fold the log into the households, persons and memberships of `--as-of`, as known
    at `--known-at`; writes Parquet, a summary and a manifest with a content hash."""
    if province and commune:
        raise fail("give --province or --commune, not both")
    if (out is None) == (to_postgres is None):
        raise fail("say where the snapshot goes: --out DIR or --to-postgres SCHEMA")
    cutoffs = Cutoffs(_day(as_of), _instant(known_at))
    settings = settings_for(data_dir)
    topic = settings.topics.events
    try:
        ends, events = read_events(settings)
    except (KafkaException, RuntimeError) as error:
        raise fail(f"cannot read the log: {error}; is the stack up? (popreg status)") from None
    snapshot = take(events, load(), cutoffs, Scope(province or commune))
    read = {
        "topic": topic,
        "partitions": len(ends),
        "offsets": {p: {"first": 0, "last": end - 1} for p, end in sorted(ends.items())},
        "events_read": len(events),
    }
    manifest = manifest_of(snapshot, read, cutoffs)
    if out is not None:
        where = f"manifest {write(snapshot, out, manifest)}"
    else:
        assert to_postgres is not None
        try:
            to_postgres_schema(snapshot, settings.postgres_url, to_postgres, manifest)
        except (ValueError, psycopg.Error) as error:
            raise fail(f"cannot write schema {to_postgres}: {error}") from None
        where = f"schema {to_postgres} (manifest in {to_postgres}.manifest)"
    people = sum(row["persons"] for row in snapshot.summary["population"])
    console.print(
        f"{people:,} residents in {len(snapshot.tables['households']):,} households as of"
        f" {cutoffs.as_of}, known at {cutoffs.known_at:%Y-%m-%d %H:%M:%S}Z;"
        f" content hash {snapshot.content_hash[:16]}…; {where}"
    )


def read_events(settings: Settings) -> tuple[dict[int, int], list[Event]]:
    """Every decodable event up to the end markers, with a progress bar (events/s)."""
    events: list[Event] = []
    ends, batches = read_log(settings, settings.topics.events)
    with progress() as bar:
        task = bar.add_task("reading the log", total=sum(ends.values()))
        for batch in batches:
            events += [r.event for r in batch if r.event is not None]
            bar.advance(task, len(batch))
    return ends, events


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"--as-of wants a date like 2024-12-31, got {text!r}") from None


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--known-at wants a time like 2025-01-15T00:00:00Z, got {text!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
