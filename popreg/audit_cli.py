"""`popreg audit verify`: does the live registry hold exactly what the log says?
`popreg audit diff`: what changed between two dates?"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Annotated

import psycopg
import typer
from confluent_kafka import KafkaException
from rich import box
from rich.table import Table

from infra.processors import positions
from popreg.output import DataDir, console, fail, settings_for
from popreg.replay_cli import parse_day, parse_instant, reading, run_replay
from projections import replayer
from projections.admin_units import load
from projections.audit import Diff, diff, differences, live_rows
from projections.replay import Cutoffs, Scope
from schemas.models import VIETNAM

audit = typer.Typer(no_args_is_help=True, help="Check the live registry against the log.")
SHOWN = 20


@audit.command()
def verify(
    data_dir: DataDir = None,
    timeout: float = typer.Option(600.0, help="seconds to wait for the projector to catch up"),
    from_offset_zero: bool = typer.Option(
        False, "--from-offset-zero", help="ignore checkpoints; read the whole log"
    ),
) -> None:
    """Replay the whole log to now and compare it with PostgreSQL row by row; exits 1 and
    lists the differences if there is any."""
    settings = settings_for(data_dir)
    now = datetime.now(UTC)
    replayed = run_replay(
        settings, Cutoffs(now.astimezone(VIETNAM).date(), now), Scope(), not from_offset_zero
    )
    ends, snapshot = replayed.ends, replayed.snapshot
    try:
        deadline = time.monotonic() + timeout
        while any(positions(settings, "state").get(p, 0) < e for p, e in ends.items()):
            if time.monotonic() > deadline:
                raise fail(f"the state projector has not caught up after {timeout:.0f} s")
            time.sleep(0.2)
        live = live_rows(settings.postgres_url)
    except (psycopg.Error, RuntimeError) as error:
        raise fail(f"cannot verify: {error}; is the stack up? (popreg status)") from None
    found = differences(snapshot.tables, live)
    counts = ", ".join(f"{len(rows):,} {t}" for t, rows in snapshot.tables.items())
    if not found:
        console.print(f"verified: the live registry equals the replay of the log ({counts})")
        return
    for d in found[:SHOWN]:
        console.print(
            f"{d.table} {d.key}:\n  replay {d.replayed}\n  live   {d.live}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    if len(found) > SHOWN:
        console.print(f"… and {len(found) - SHOWN:,} more")
    raise fail(f"{len(found):,} rows differ between the live registry and the replay ({counts})")


@audit.command("diff")
def diff_command(
    start: Annotated[str, typer.Option("--from", help="first date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="second date, YYYY-MM-DD")],
    commune: Annotated[str | None, typer.Option(help="5-digit commune code")] = None,
    province: Annotated[str | None, typer.Option(help="2-digit province code")] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="knowledge time (default now)")
    ] = None,
    shown: Annotated[int, typer.Option("--limit", min=0, help="events listed")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable, every event")] = False,
    data_dir: DataDir = None,
) -> None:
    """The events that occurred after --from up to --to, and the net effect on residents
    and households per commune (the registry as of each date, as known at --known-at)."""
    if province and commune:
        raise fail("give --province or --commune, not both")
    first, second = parse_day(start, "--from"), parse_day(end, "--to")
    if second < first:
        raise fail(f"--to {second} is before --from {first}")
    settings = settings_for(data_dir)
    try:
        with reading() as report:
            _, records = replayer.read_from(settings, {}, report)
    except (KafkaException, RuntimeError) as error:
        raise fail(f"cannot read the log: {error}; is the stack up? (popreg status)") from None
    events = [r.event for r in records if r.event is not None]
    found = diff(events, load(), first, second, parse_instant(known_at), Scope(commune or province))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(found), default=str, ensure_ascii=False, indent=1))
        return
    _show(found, shown)


def _show(found: Diff, shown: int) -> None:
    events = Table(
        "occurred",
        "recorded (UTC)",
        "type",
        "commune",
        "household",
        "event id",
        box=box.SIMPLE_HEAD,
        title=f"{len(found.changes):,} events",
    )
    for c in found.changes[:shown]:
        events.add_row(
            str(c.occurred_on),
            f"{c.recorded_at:%Y-%m-%d %H:%M}",
            c.type,
            c.commune_code,
            c.household_id,
            c.event_id,
        )
    console.print(events)
    if len(found.changes) > shown:
        console.print(f"… and {len(found.changes) - shown:,} more (--limit, or --json for all)")
    console.print(", ".join(f"{n:,} {t}" for t, n in found.by_type.items()) or "no events")
    effect = Table(
        "commune",
        "residents before",
        "after",
        "change",
        "households before",
        "after",
        "change",
        box=box.SIMPLE_HEAD,
        title="net effect",
    )
    households = {row["commune_code"]: row for row in found.households}
    nothing = {"before": 0, "after": 0, "change": 0}
    for row in found.population:
        h = households.get(row["commune_code"], nothing)
        effect.add_row(row["commune_code"], *_three(row), *_three(h))
    console.print(effect)


def _three(row: dict[str, int]) -> list[str]:
    return [f"{row['before']:,}", f"{row['after']:,}", f"{row['change']:+,}"]
