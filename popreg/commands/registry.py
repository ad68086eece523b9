"""`popreg household/person/rejections/wait`: the registry as registrars and operators read it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from clickhouse_connect.driver.exceptions import ClickHouseError
from confluent_kafka import KafkaException
from rich import box
from rich.table import Table

from infra.processors import PROCESSORS, positions
from popreg.output import DataDir, console, fail, progress, settings_for
from projections import registry_queries
from projections.log import partition_count, place_markers
from projections.registry_queries import Found, Row

AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def household(household_id: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """A household now (members, head, commune) and every event in its history."""
    show(household_id, "household", registry_queries.household, data_dir, as_json)


def person(person_id: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """A person now (vital, marital and residence status), their households and history."""
    show(person_id, "person", registry_queries.person, data_dir, as_json)


def show(
    entity_id: str,
    kind: str,
    query: Callable[[str, str], Found | None],
    data_dir: Path | None,
    as_json: bool,
) -> None:
    settings = settings_for(data_dir)
    try:
        found: Found | None = query(settings.postgres_url, entity_id)
    except (psycopg.Error, OSError) as error:
        raise fail(f"cannot read the registry: {error}; is the stack up? (popreg status)") from None
    if found is None:
        raise fail(f"no {kind} {entity_id} in the registry")
    if as_json:
        doc = {"current": found.current, "members": found.members, "history": found.history}
        typer.echo(json.dumps(doc, default=str, ensure_ascii=False, indent=2))
        return
    current = Table(box=box.SIMPLE_HEAD, show_header=False, title=f"{kind} {entity_id}")
    for key, value in found.current.items():
        current.add_row(key, "" if value is None else str(value))
    console.print(current)
    shown = SHOWN_MEMBERS if kind == "household" else None
    members = rows_table("households" if kind == "person" else "members", found.members, shown)
    console.print(members)
    console.print(rows_table("history", [short_event(e) for e in found.history]))


# What fits on an 80-column terminal; `--json` has every column.
SHOWN_MEMBERS = (
    "person_id",
    "full_name",
    "birth_date",
    "relation_to_head",
    "left_on",
    "left_reason",
)


def short_event(row: Row) -> Row:
    return {
        "occurred": row["occurred_on"],
        "recorded": row["recorded_at"].date(),
        "event": row["event_type"],
        "outcome": row["outcome"]
        if row["reason"] is None
        else f"{row['outcome']}: {row['reason']}",
        "event id": str(row["event_id"])[:8],
    }


def rows_table(title: str, rows: list[Row], columns: tuple[str, ...] | None = None) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    if not rows:
        table.add_column("(none)")
        return table
    names = columns or tuple(rows[0])
    for column in names:
        table.add_column(column.replace("_", " "), no_wrap=column.endswith("id"))
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in names))
    return table


def wait(
    data_dir: DataDir = None,
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 600.0,
) -> None:
    """Wait until every processor has applied everything published so far (it marks
    the end of every partition and waits for the processors to pass the marks)."""
    settings = settings_for(data_dir)
    topic = settings.topics.events
    try:
        ends = place_markers(settings, topic, partition_count(settings, topic))
        total = sum(ends.values())
        with progress() as bar:
            tasks = {name: bar.add_task(name, total=total) for name in PROCESSORS}
            deadline = time.monotonic() + timeout
            while tasks:
                for name, task in list(tasks.items()):
                    done = positions(settings, name)
                    reached = sum(min(done.get(p, 0), e) for p, e in ends.items())
                    bar.update(task, completed=reached)
                    if reached == total:
                        del tasks[name]
                if tasks and time.monotonic() > deadline:
                    raise fail(
                        f"{', '.join(tasks)} not caught up after {timeout:.0f} s; see"
                        f" `popreg status` and {settings.resolved_data_dir}/logs/worker-*.log"
                    )
                time.sleep(0.2)
    except (psycopg.Error, ClickHouseError, KafkaException, RuntimeError) as error:
        raise fail(
            f"cannot wait for the processors: {error}; is the stack up? (popreg status)"
        ) from None
    console.print(f"every processor has applied all {total:,} records published so far")


def rejections(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Rejected messages by reason (undecodable ones, and events the fold refused)."""
    settings = settings_for(data_dir)
    try:
        rows = registry_queries.rejections(settings.postgres_url)
    except (psycopg.Error, OSError) as error:
        raise fail(f"cannot read the registry: {error}; is the stack up? (popreg status)") from None
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    console.print(rows_table("rejections by reason", rows))
