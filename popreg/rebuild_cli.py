"""`popreg rebuild state`: the registry tables rebuilt from the log, at bulk speed."""

from __future__ import annotations

import psycopg
import typer
from confluent_kafka import KafkaException

from infra.processors import Processors
from popreg.output import DataDir, console, fail, progress, settings_for
from projections import rebuild as projection
from projections.admin_units import load

rebuild = typer.Typer(no_args_is_help=True, help="Rebuild a projection from the event log.")


@rebuild.command()
def state(data_dir: DataDir = None) -> None:
    """Replace the PostgreSQL registry with the fold of the whole log (the processors are
    paused meanwhile, then continue from where the rebuild ended)."""
    settings = settings_for(data_dir)
    processors = Processors(settings)
    paused = processors.running() is not None
    if paused:
        console.print(f"pausing the processors: {processors.stop()}")
    try:
        with progress() as bar:
            tasks = {
                "read": bar.add_task("reading the log", total=None),
                "fold": bar.add_task("folding", total=None),
                "write": bar.add_task("writing tables", total=5),
            }
            result = projection.rebuild_state(
                settings, load(), lambda stage, n: bar.advance(tasks[stage], n)
            )
    except (psycopg.Error, KafkaException, RuntimeError) as error:
        raise fail(
            f"rebuild failed, nothing changed: {error}; is the stack up? (popreg status)"
        ) from None
    finally:
        if paused:
            processors.start()
            console.print("processors resumed")
    console.print(
        f"rebuilt from {result.events:,} events in {result.seconds:.1f} s"
        f" ({result.events / max(result.seconds, 1e-9):,.0f} events/s; read {result.read_s:.1f} s,"
        f" fold {result.fold_s:.1f} s, write {result.write_s:.1f} s): applied {result.applied:,},"
        f" rejected {result.rejected:,}, voided {result.voided:,}, duplicates {result.duplicates:,}"
    )
