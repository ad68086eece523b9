"""popreg, an event-sourced population registry: run its stack and processors, bring
events in, read the registry and the indicators, replay and audit the log.

Every command reads the same settings: `POPREG_*` environment variables (nested with
`__`, e.g. `POPREG_KAFKA__BOOTSTRAP_SERVERS`), an optional popreg.toml, and
`--data-dir`. A server the settings leave unset is provided by the embedded stack.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich import box
from rich.table import Table

import bench as popreg_bench
from infra import kafka, stack
from infra.part import PartStatus
from infra.procs import StackError
from popreg.commands import forecast, indicators, portal, publish, registry, replay, report, worker
from popreg.commands.audit import audit
from popreg.commands.gateway import gateway
from popreg.commands.rebuild import rebuild
from popreg.output import DataDir, console, fail, settings_for
from producers.gateway.collaborators import list_collaborators

# Markdown, so that help written across lines in the source is reflowed to the
# terminal's width (typer's "rich" mode keeps every line break of a docstring).
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode="markdown"
)


@app.callback()
def stop_cleanly_when_terminated() -> None:
    """Python's default for SIGTERM ends the process on the spot: a bench killed so left
    its scratch stack's servers running. As an exception, what a command started is
    stopped on the way out (`finally`, `with`). Workers and the supervisor install
    their own handlers."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@app.command()
def up(
    data_dir: DataDir = None,
    no_processors: Annotated[
        bool, typer.Option("--no-processors", help="the servers only, no stream processors")
    ] = False,
) -> None:
    """Start the stack: its servers, then its processors.

    Starts the embedded parts the settings do not point elsewhere and waits until each
    is healthy, creates the topics, applies the PostgreSQL schema, then starts the
    processors under a supervisor that restarts a worker that dies. Servers the
    settings point at are only checked."""
    settings = settings_for(data_dir)
    try:
        with console.status("starting the stack…"):
            result = stack.up(
                settings,
                report=lambda line: console.print(f"  {line}"),
                with_processors=not no_processors,
            )
    except StackError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"[green]stack up[/]: {len(result.statuses)} parts healthy, data in "
        f"{settings.resolved_data_dir}; `popreg status` for details, `popreg down` to stop"
    )


@app.command()
def down(data_dir: DataDir = None) -> None:
    """Stop what `up` started, by pid: gracefully, then forcefully. Data stays."""
    settings = settings_for(data_dir)
    try:
        stack.down(settings, report=lambda line: console.print(f"  {line}"))
    except StackError as exc:
        raise fail(str(exc)) from exc
    console.print("[green]stack down[/] (data kept)")


@app.command()
def status(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Each part: pid, address, health (a real round trip) and data size.
    Exits 1 when a part is down."""
    settings = settings_for(data_dir)
    statuses = stack.status(settings)
    healthy = all(s.healthy for s in statuses)
    accounts = Counter("active" if c.active else "revoked" for c in list_collaborators(settings))
    team = {"active": accounts["active"], "revoked": accounts["revoked"]}
    if as_json:
        doc = {"healthy": healthy, "parts": [asdict(s) for s in statuses], "collaborators": team}
        typer.echo(json.dumps(doc, indent=2))
    else:
        print_statuses(statuses)
        console.print(
            f"collaborators: {team['active']} active, {team['revoked']} revoked"
            " (popreg gateway collaborator list)"
        )
    if not healthy:
        raise typer.Exit(code=1)


@app.command()
def roundtrip(data_dir: DataDir = None) -> None:
    """Publish a test message to the health-check topic and read that record back."""
    settings = settings_for(data_dir)
    try:
        trip = kafka.round_trip(settings)
    except Exception as exc:
        raise fail(f"round trip through {settings.bootstrap_servers} failed: {exc}") from exc
    console.print(
        f"published to {trip.topic}[{trip.partition}] at offset {trip.offset} and read it back "
        f"in {trip.millis:.0f} ms"
    )


def print_statuses(statuses: list[PartStatus]) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("part", "pid", "address", "health", "data"):
        table.add_column(column, no_wrap=True)
    table.add_column("detail", min_width=20)
    for s in statuses:
        table.add_row(
            s.name if s.mode == "embedded" else f"{s.name} (external)",
            str(s.pid) if s.pid else "-",
            s.address.removeprefix("http://"),
            "[green]up[/]" if s.healthy else "[red]down[/]",
            human_bytes(s.data_bytes),
            s.detail,
        )
    console.print(table)


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


app.command()(worker.worker)
app.command()(publish.publish)
app.command()(publish.synth)
app.add_typer(gateway, name="gateway")
app.add_typer(rebuild, name="rebuild")
app.add_typer(audit, name="audit")


@app.command()
def bench(
    scale: Annotated[
        str, typer.Option(help="small: a minute, for CI; province: Cà Mau scale")
    ] = "small",
    out: Annotated[Path, typer.Option(help="where results.json and results.md go")] = Path(
        "bench/runs/latest"
    ),
    only: Annotated[
        list[str] | None,
        typer.Option(help=f"only these groups of figures: {', '.join(popreg_bench.GROUPS)}"),
    ] = None,
    freshness_rate: Annotated[
        int,
        typer.Option(
            min=1,
            help="events/s of the freshness stream; the aim is for 1,000, and a lower rate"
            " shows a slower machine at the load 1,000/s puts on a normal one",
        ),
    ] = 1000,
) -> None:
    """Measure popreg against baselines taken in the same run, on a scratch stack."""
    if scale not in popreg_bench.SCALES:
        raise fail(f"--scale must be one of {', '.join(popreg_bench.SCALES)}")
    unknown = set(only or ()) - set(popreg_bench.GROUPS)
    if unknown:
        raise fail(f"unknown --only {', '.join(sorted(unknown))}: {', '.join(popreg_bench.GROUPS)}")
    from bench.run import run

    results = run(
        scale,
        out,
        lambda line: console.print(f"  {line}"),
        only or popreg_bench.GROUPS,
        freshness_rate,
    )
    console.print(results.markdown(), markup=False, soft_wrap=True)
    console.print(f"written to {out / 'results.json'} and {out / 'results.md'}")


app.command()(replay.replay)
app.command()(replay.checkpoint)
app.command()(indicators.sql)
app.command()(indicators.indicators)
app.command()(indicators.pyramid)
app.command()(forecast.forecast)
app.command()(report.report)
app.command()(registry.household)
app.command()(registry.rejections)
app.command()(registry.wait)
app.command()(registry.person)
app.command()(portal.portal)
