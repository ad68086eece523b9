"""`popreg audit verify`: does the live registry hold exactly what the log says?"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
import typer

from infra.processors import positions
from popreg.output import DataDir, console, fail, settings_for
from popreg.replay_cli import run_replay
from projections.audit import differences, live_rows
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
