"""`popreg rebuild state`: the registry tables rebuilt from the log, at bulk speed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import typer
from clickhouse_connect.driver.exceptions import ClickHouseError
from confluent_kafka import KafkaException

from infra import secrets
from infra.clickhouse import writer_client
from infra.processors import Processors
from popreg.output import DataDir, console, fail, progress, settings_for
from projections import rebuild as projection
from projections.indicator_rebuild import rebuild_indicators
from schemas.admin_units import load
from schemas.settings import Settings
from stream_processors import indicator_worker

rebuild = typer.Typer(no_args_is_help=True, help="Rebuild a projection from the event log.")


@contextmanager
def paused(settings: Settings) -> Iterator[None]:
    """The processors stopped while a projection is replaced, then started again."""
    processors = Processors(settings)
    running = processors.running() is not None
    if running:
        console.print(f"pausing the processors: {processors.stop()}")
    try:
        yield
    finally:
        if running:
            processors.start()
            console.print("processors resumed")


@rebuild.command()
def state(data_dir: DataDir = None) -> None:
    """Replace the PostgreSQL registry with the fold of the whole log (the processors are
    paused meanwhile, then continue from where the rebuild ended)."""
    settings = settings_for(data_dir)
    try:
        with paused(settings), progress() as bar:
            tasks = {
                "read": bar.add_task("reading the log", total=None),
                "fold": bar.add_task("folding", total=None),
                "write": bar.add_task("writing tables", total=5),
            }
            result = projection.rebuild_state(
                settings, load(), lambda stage, n: bar.advance(tasks[stage], n)
            )
    except projection.PartlyRebuilt as error:
        raise fail(f"rebuild failed: {error}; is the stack up? (popreg status)") from None
    except (psycopg.Error, KafkaException, RuntimeError, OSError) as error:
        raise fail(
            f"rebuild failed, nothing changed: {error}; is the stack up? (popreg status)"
        ) from None
    console.print(
        f"rebuilt from {result.events:,} events in {result.seconds:.1f} s"
        f" ({result.events / max(result.seconds, 1e-9):,.0f} events/s; read {result.read_s:.1f} s,"
        f" fold {result.fold_s:.1f} s, write {result.write_s:.1f} s): applied {result.applied:,},"
        f" rejected {result.rejected:,}, voided {result.voided:,}, duplicates {result.duplicates:,}"
    )


@rebuild.command()
def indicators(data_dir: DataDir = None) -> None:
    """Replace the ClickHouse indicator tables with the fold of the whole log (the
    processors are paused meanwhile, then continue from where the rebuild ended)."""
    settings = settings_for(data_dir)
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    with paused(settings):
        client = writer_client(settings)
        try:
            with progress() as bar:
                tasks = {
                    "read": bar.add_task("reading the log", total=None),
                    "fold": bar.add_task("folding", total=None),
                    "write": bar.add_task("writing rows", total=None),
                    "snapshot": bar.add_task("writing the fold's snapshot", total=1),
                }
                result = rebuild_indicators(
                    settings,
                    client,
                    indicator_worker.CONSUMER,
                    load(),
                    secret,
                    lambda stage, n: bar.advance(tasks[stage], n),
                )
        except (ClickHouseError, KafkaException, RuntimeError) as error:
            raise fail(f"rebuild failed: {error}; is the stack up? (popreg status)") from None
        finally:
            client.close()
    console.print(
        f"rebuilt from {result.events:,} events in {result.seconds:.1f} s"
        f" ({result.events / max(result.seconds, 1e-9):,.0f} events/s; read {result.read_s:.1f} s,"
        f" fold {result.fold_s:.1f} s, write {result.write_s:.1f} s): {result.rows:,} rows;"
        f" the fold's snapshot for the processor written in {result.snapshot_s:.1f} s"
    )
