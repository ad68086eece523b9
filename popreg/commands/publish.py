"""Commands that bring events in: `popreg publish` (commune exports) and `popreg synth`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from popreg.output import DataDir, console, errors, fail, progress, settings_for
from producers.files import Check, check_file, events_to_send, file_format, write_rejects
from producers.publisher import Publisher, PublishError
from producers.synth import Synth, SynthConfig
from producers.synth.config import (
    CORRECTION,
    CROSSING,
    MISTAKE,
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from schemas.admin_units import load
from schemas.models import Context, Event
from schemas.validation import event_json

EXIT_REJECTED = 1
EXIT_UNREADABLE = 2
EXIT_UNDELIVERED = 3


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def publish(
    file: Annotated[Path, typer.Argument(help="a commune export: .jsonl or .csv")],
    data_dir: DataDir = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check every row, publish nothing")
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="publish the valid rows even if some are rejected"),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="write the rejected rows and their reasons here"),
    ] = None,
) -> None:
    """Check every row of a commune export, then publish it: all of it, or nothing.

    Every rejected row is listed with its line number and reasons. Exit codes: 0 all
    published, 1 rows rejected, 2 file unreadable, 3 events not acknowledged by Kafka."""
    if skip_invalid and rejects is None:
        raise fail("--skip-invalid needs --rejects FILE: rejected rows are kept, never dropped")
    try:
        file_format(file)
        total = count_lines(file)
    except (ValueError, OSError) as error:
        raise fail(str(error), EXIT_UNREADABLE) from error
    settings = settings_for(data_dir)
    context = Context(load())
    with progress() as bar:
        task = bar.add_task(f"checking {file.name}", total=total)
        check = check_file(file, context, on_row=lambda n: bar.update(task, completed=n))
        bar.update(task, total=check.rows, completed=check.rows)
    report_bad_rows(check)
    if rejects is not None and check.bad:
        write_rejects(rejects, file, check.bad)
        console.print(f"rejected rows and their reasons written to {rejects}")
    if dry_run or (check.bad and not skip_invalid):
        print_summary(check, Counter(), Counter(), published=False)
        if check.bad and not dry_run:
            errors.print(
                f"nothing published: {len(check.bad)} rows rejected. Fix them, or publish "
                "the valid rows with --skip-invalid --rejects FILE."
            )
        raise typer.Exit(EXIT_REJECTED if check.bad else 0)

    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    try:
        with progress() as bar, Publisher(settings, check_world=False) as publisher:
            task = bar.add_task(f"publishing to {publisher.topic}", total=check.valid)
            for _, result in publisher.stream(events_to_send(file, check, context)):
                (sent if result.accepted else failed)[
                    result.type if result.accepted else str(result.reason)
                ] += 1
                bar.advance(task)
    except PublishError as error:
        raise fail(str(error), EXIT_UNDELIVERED) from error
    print_summary(check, sent, failed, published=True)
    if failed:
        raise fail(f"{sum(failed.values())} events were not acknowledged", EXIT_UNDELIVERED)
    if check.bad:
        raise typer.Exit(EXIT_REJECTED)


def report_bad_rows(check: Check) -> None:
    for row in check.bad:
        reasons = "; ".join(str(p) for p in row.problems)
        console.print(
            f"[red]line {row.line}[/]: {escape(reasons)}", highlight=False, soft_wrap=True
        )


def print_summary(
    check: Check, sent: Counter[str], failed: Counter[str], *, published: bool
) -> None:
    table = Table(box=box.SIMPLE_HEAD, title="summary", title_justify="left")
    table.add_column("event type")
    table.add_column("valid rows", justify="right")
    if published:
        table.add_column("published", justify="right")
    for name, count in sorted(check.types.items()):
        table.add_row(name, f"{count:,}", *([f"{sent[name]:,}"] if published else []))
    console.print(table)
    console.print(
        f"{check.rows:,} rows: {check.valid:,} valid, {len(check.bad):,} rejected, "
        f"{check.repeated:,} repeating an earlier row (sent once)"
    )
    for reason, count in check.reasons().most_common():
        console.print(f"  rejected {escape(f'[{reason}]')}: {count:,}")
    for reason, count in failed.most_common():
        console.print(f"  [red]not acknowledged[/] {escape(f'[{reason}]')}: {count:,}")


def synth(
    data_dir: DataDir = None,
    province: Annotated[
        str, typer.Option(help="2-digit GSO code of a province as it was before 2025-07-01")
    ] = "96",
    households: Annotated[int, typer.Option(min=1)] = 2000,
    years: Annotated[str, typer.Option(help="FIRST-LAST, e.g. 2015-2025")] = "2015-2025",
    seed: int = 7,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="share of deliberate mistakes; 0 = clean")
    ] = 0.005,
    void_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="share of events that are registrations made in error, each voided"
            " days to months later by its commune; 0 = none",
        ),
    ] = REALISTIC_VOID_RATE,
    amend_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="share of events published with a mistyped field (a date, a name, a"
            " place, ...), amended days to months later; 0 = none",
        ),
    ] = REALISTIC_AMEND_RATE,
    crossing_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="share of events registered late, after a later event about the same"
            " persons was recorded (e.g. a birth after the mother's death); 0 = recording"
            " follows knowledge",
        ),
    ] = REALISTIC_CROSSING_RATE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write JSON Lines here")
    ] = None,
    publish_events: Annotated[
        bool, typer.Option("--publish", help="publish straight to Kafka through the SDK")
    ] = False,
    now: Annotated[
        datetime | None,
        typer.Option(help="the generator's present (UTC): later registrations are left out"),
    ] = None,
) -> None:
    """Generate a realistic province (seeded): baseline enumeration, then years of events.

    Deliberate mistakes (duplicates, unknown codes, contradictions) are published as a
    faulty commune system would, for the processors downstream to reject; corrections
    (voids, amendments) and late registrations that cross later events about the same
    persons as real registries receive them, for the processors to re-fold."""
    if output is None and not publish_events:
        raise fail("say where the events go: --output FILE, --publish, or both")
    try:
        first, last = (int(y) for y in years.split("-"))
    except ValueError:
        raise fail(f"--years {years!r}: expected FIRST-LAST, e.g. 2015-2025") from None
    present = now or datetime.now(UTC)
    if present.tzinfo is None:
        present = present.replace(tzinfo=UTC)
    try:
        config = SynthConfig(
            province,
            households,
            first,
            last,
            seed,
            present,
            error_rate,
            void_rate=void_rate,
            amend_rate=amend_rate,
            crossing_rate=crossing_rate,
        )
        generator = Synth(config, load())
    except ValueError as error:
        raise fail(str(error)) from None
    settings = settings_for(data_dir)
    generated: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    with ExitStack() as stack:
        bar = stack.enter_context(progress())
        estimate = int(households * 4.5 * 1.8 + households)  # persons x events per person
        task = bar.add_task(f"province {province}, {households:,} households", total=estimate)
        out = stack.enter_context(output.open("w", encoding="utf-8")) if output else None

        def emitted() -> Iterator[Event]:
            for event in generator.events():
                if out is not None:
                    out.write(json.dumps(event_json(event), ensure_ascii=False) + "\n")
                generated[event.type] += 1
                if generated.total() % 1000 == 0:
                    bar.update(task, completed=generated.total())
                yield event
            bar.update(task, total=generated.total(), completed=generated.total())

        if publish_events:
            publisher = stack.enter_context(Publisher(settings, check_world=False))
            for _, result in publisher.stream(emitted()):
                if result.accepted:
                    sent[result.type] += 1
                else:
                    failed[str(result.reason)] += 1
        else:
            for _ in emitted():
                pass
    print_synth_summary(generator, output, generated, sent if publish_events else None)
    if failed:
        raise fail(f"{sum(failed.values())} events were not acknowledged", EXIT_UNDELIVERED)


def _by_kind(counts: Counter[str]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{count:,} {kind}" for kind, count in counts.most_common()) + ")"


def print_synth_summary(
    generator: Synth, output: Path | None, generated: Counter[str], sent: Counter[str] | None
) -> None:
    table = Table(box=box.SIMPLE_HEAD, title="events", title_justify="left")
    table.add_column("event type")
    table.add_column("generated", justify="right")
    if sent is not None:
        table.add_column("published", justify="right")
    for name, count in sorted(generated.items()):
        table.add_row(name, f"{count:,}", *([f"{sent[name]:,}"] if sent is not None else []))
    console.print(table)
    kinds = {
        category: Counter(m.kind for m in generator.mistakes if m.category == category)
        for category in (MISTAKE, CORRECTION, CROSSING)
    }
    mistakes, corrections, crossings = kinds[MISTAKE], kinds[CORRECTION], kinds[CROSSING]
    console.print(
        f"{sum(generated.values()):,} events; {mistakes.total():,} deliberate mistakes"
        + "".join(f", {count:,} {kind}" for kind, count in mistakes.most_common())
    )
    voids = Counter({k.split(":")[1]: n for k, n in corrections.items() if k.startswith("void:")})
    amends = Counter({k.split(":")[1]: n for k, n in corrections.items() if k.startswith("amend:")})
    console.print(
        f"corrections: {voids.total():,} voids of registrations made in error"
        + _by_kind(voids)
        + f"; {amends.total():,} amendments of mistyped fields"
        + _by_kind(amends)
    )
    console.print(
        f"{crossings.total():,} late registrations recorded after a later event about the"
        " same persons" + _by_kind(Counter({k.split(":", 1)[1]: n for k, n in crossings.items()}))
    )
    if output is not None:
        console.print(f"written to {output}")
