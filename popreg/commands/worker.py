"""`popreg worker`: one stream processor in the foreground.

A container, a systemd unit and the embedded stack's supervisor all run the processors
through this one command, so a processor in a cluster reads its settings exactly as
every other command does (`POPREG_*` variables, a popreg.toml, `--data-dir`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from popreg.output import DataDir, fail, settings_for
from schemas.settings import Settings


class Processor(StrEnum):
    state = "state"
    indicators = "indicators"


def worker(
    processor: Annotated[
        Processor,
        typer.Argument(
            help="state: the household registry in PostgreSQL; indicators: the indicator"
            " tables in ClickHouse",
            show_default=False,
        ),
    ],
    data_dir: DataDir = None,
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            dir_okay=False,
            help="take every setting from this JSON file instead of the environment; the"
            " embedded stack's supervisor passes the settings `popreg up` ran with",
        ),
    ] = None,
) -> None:
    """Run one stream processor in the foreground until it is stopped (SIGTERM).

    It reads the settings every command reads, so a container or a systemd unit runs
    it as it is. A batch it cannot write (its database down) ends it with exit code
    75; started again, it resumes from the positions stored with its data, so run it
    under something that restarts it, as the supervisor of `popreg up` does (in
    compose, a restart policy; in systemd, Restart=always). Replicas of the state
    processor share the consumer group popreg-state and split the partitions between
    them. Run a single indicators processor: it folds every partition in memory, and
    a second one would see only the partitions it was given.
    """
    from stream_processors import indicator_worker, state_worker

    settings = settings_from(settings_file, data_dir)
    run = state_worker.run if processor is Processor.state else indicator_worker.run
    run(settings)


def settings_from(settings_file: Path | None, data_dir: Path | None) -> Settings:
    """The common settings, or the supervisor's file, which already names the data dir.

    The supervisor passes a file rather than the environment because `popreg up` may
    run with settings given in code (the tests' and the benchmark's ports and processor
    tuning), which no environment variable holds; the file (mode 0600, in the run dir)
    is the very object `up` checked the servers with."""
    if settings_file is None:
        return settings_for(data_dir)
    if data_dir is not None:
        raise fail("give --settings or --data-dir, not both: the file names the data dir")
    try:
        return Settings.model_validate_json(settings_file.read_text())
    except (OSError, ValidationError) as error:
        raise fail(f"cannot read the settings in {settings_file}: {error}") from None
