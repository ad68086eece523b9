"""`popreg audit verify`: does the live registry hold exactly what the log says, and do
the indicators say what the registry holds? `popreg audit diff`: what changed between
two dates?"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated

import psycopg
import typer
from clickhouse_connect.driver.exceptions import ClickHouseError
from confluent_kafka import KafkaException
from rich import box
from rich.table import Table

from infra.clickhouse import writer_client
from infra.processors import positions
from infra.processors import shown as listed
from popreg.commands.replay import parse_day, parse_instant, reading, run_replay
from popreg.output import DataDir, console, fail, settings_for
from projections import replay
from projections.agreement_queries import (
    indicator_figures,
    indicator_years,
    registry_figures,
    registry_years,
)
from projections.audit import Diff, Difference, Rows, diff, differences, live_rows
from projections.domain.as_of import Cutoffs, Scope
from projections.domain.store_agreement import Agreement, compare, stock_dates
from schemas.admin_units import load
from schemas.models import VIETNAM
from schemas.settings import Settings

audit = typer.Typer(no_args_is_help=True, help="Check the live registry against the log.")
SHOWN = 20
PROCESSORS = {"state": "state projector", "indicators": "indicator processor"}


class NotAtRest(Exception):
    """The processors did not reach the log's end, or did not hold still, in time."""


@audit.command()
def verify(
    data_dir: DataDir = None,
    timeout: float = typer.Option(
        600.0, help="seconds to wait for the processors to catch up and hold still"
    ),
    from_offset_zero: bool = typer.Option(
        False, "--from-offset-zero", help="ignore checkpoints; read the whole log"
    ),
) -> None:
    """Check that both stores hold exactly what the log says.

    Replays the whole log to now and compares it with PostgreSQL row by row, then
    compares ClickHouse's indicator tables with the registry (population by commune,
    sex and age, households, events applied and refused); exits 1 and lists the
    differences if either finds any."""
    settings = settings_for(data_dir)
    now = datetime.now(UTC)
    today = now.astimezone(VIETNAM).date()
    replayed = run_replay(settings, Cutoffs(today, now), Scope(), not from_offset_zero)
    ends, registry = replayed.ends, replayed.registry
    deadline = time.monotonic() + timeout
    failures: list[str] = []
    with _explained(failures):
        _wait_for(settings, "state", ends, deadline, timeout)
        live = live_rows(settings.postgres_url)
    failures.append(_registry_check(differences(registry.tables, live), registry.tables))
    with _explained(failures):
        _wait_for(settings, "indicators", ends, deadline, timeout)
        agreement = _stores_at_rest(settings, today, deadline, timeout)
    failures.append(_indicator_check(agreement))
    if any(failures):
        raise fail("; ".join(f for f in failures if f))


@contextmanager
def _explained(failures: list[str]) -> Iterator[None]:
    """A store that cannot be read, or processors that do not catch up, as one line
    after what the checks before found."""
    found = [f for f in failures if f]
    try:
        yield
    except NotAtRest as error:
        raise fail("; ".join([*found, str(error)])) from None
    except (psycopg.Error, ClickHouseError, OSError, RuntimeError) as error:
        cannot = f"cannot verify: {error}; is the stack up? (popreg status)"
        raise fail("; ".join([*found, cannot])) from None


def _wait_for(
    settings: Settings, processor: str, ends: dict[int, int], deadline: float, timeout: float
) -> None:
    """Until `processor` has passed `ends`, the end markers the replay read up to."""
    while any(positions(settings, processor).get(p, 0) < e for p, e in ends.items()):
        if time.monotonic() > deadline:
            raise NotAtRest(f"the {PROCESSORS[processor]} has not caught up after {timeout:.0f} s")
        time.sleep(0.2)


def _stores_at_rest(settings: Settings, today: date, deadline: float, timeout: float) -> Agreement:
    """The two stores' figures read while both processors stand at the same positions,
    unchanged from before the reads to after them: both hold the same records of the
    log. (The indicator processor writes its rows before its positions, so a batch
    in flight shows as positions that differ, or that move during the reads.)"""
    url, topic = settings.postgres_url, settings.topics.events
    client = writer_client(settings)
    try:
        while True:
            before = _both_positions(settings)
            if _same(*before):
                dates = stock_dates(registry_years(url, topic) | indicator_years(client), today)
                registry = registry_figures(url, topic, dates)
                indicators = indicator_figures(client, dates)
                if _both_positions(settings) == before:
                    return compare(registry, indicators, dates)
            if time.monotonic() > deadline:
                state, indicators_at = (listed(p) for p in _both_positions(settings))
                raise NotAtRest(
                    f"the processors did not hold still at the same log positions within"
                    f" {timeout:.0f} s (state {state}; indicators {indicators_at}): is something"
                    " still publishing, or is one of them failing? (popreg status)"
                )
            time.sleep(0.2)
    finally:
        client.close()


def _both_positions(settings: Settings) -> tuple[dict[int, int], dict[int, int]]:
    return positions(settings, "state"), positions(settings, "indicators")


def _same(a: dict[int, int], b: dict[int, int]) -> bool:
    return all(a.get(p, 0) == b.get(p, 0) for p in a.keys() | b.keys())


def _registry_check(found: list[Difference], tables: Rows) -> str:
    """Print the registry check's outcome; what failed, or '' if nothing did."""
    counts = ", ".join(f"{len(rows):,} {t}" for t, rows in tables.items())
    if not found:
        console.print(
            f"verified: the live registry equals the replay of the log ({counts})", soft_wrap=True
        )
        return ""
    for d in found[:SHOWN]:
        console.print(
            f"{d.table} {d.key}:\n  replay {d.replayed}\n  live   {d.live}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    if len(found) > SHOWN:
        console.print(f"… and {len(found) - SHOWN:,} more")
    return f"{len(found):,} rows differ between the live registry and the replay ({counts})"


def _indicator_check(agreement: Agreement) -> str:
    """Print the indicator check's outcome; what failed, or '' if nothing did."""
    found = agreement.mismatches
    if not found:
        console.print(
            f"verified: the indicators equal the registry ({agreement.summary()})",
            soft_wrap=True,
            highlight=False,
        )
        return ""
    console.print("indicators (ClickHouse) against the registry (PostgreSQL):")
    for m in found[:SHOWN]:
        console.print(f"  {m}", soft_wrap=True, highlight=False, markup=False)
    if len(found) > SHOWN:
        console.print(f"  … and {len(found) - SHOWN:,} more")
    return (
        f"{len(found):,} figures differ between the indicators and the registry"
        f" ({agreement.summary()})"
    )


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
            _, records = replay.read_from(settings, {}, report)
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
