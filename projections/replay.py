"""Replay and checkpoints against the log: which checkpoint serves, what is read.

`replay` tries the checkpoints newest first and takes the first that can serve the
cutoffs (`checkpoint.resume`), reading the log only from its positions; each refusal
is kept with its reason for the manifest. With none usable it reads from offset 0.
`take_checkpoint` advances the newest usable checkpoint (or offset 0) to the end of
the log and saves the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from projections import checkpoint_files
from projections.domain.as_of import AsOfRegistry, Cutoffs, Scope, take
from projections.domain.checkpoint import Checkpoint, Refused, advance, empty, resume
from projections.domain.record import Record
from projections.log import partition_count, read_log
from projections.memory import bulk
from schemas.admin_units import AdminUnits
from schemas.settings import Settings
from schemas.wire import Codec

Progress = Callable[[int, int], None]  # records read so far, records to read


@dataclass
class Replayed:
    registry: AsOfRegistry
    ends: dict[int, int]  # marker offset per partition: everything before was read
    records_read: int  # from the log, after the checkpoint's positions
    checkpoint: dict[str, Any] | None = None  # the one that served
    refused: list[dict[str, str]] = field(default_factory=list)


def checkpoints_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "checkpoints"


@bulk
def read_from(
    settings: Settings, start: dict[int, int], report: Progress
) -> tuple[dict[int, int], list[Record]]:
    """Every record from `start` up to freshly placed end markers."""
    ends, batches = read_log(settings, settings.topics.events, start)
    total = sum(max(0, end - start.get(p, 0)) for p, end in ends.items())
    records: list[Record] = []
    report(0, total)
    for batch in batches:
        records += batch
        report(len(records), total)
    report(len(records), len(records))  # the total counted earlier end markers too
    return ends, records


@bulk
def replay(
    settings: Settings,
    units: AdminUnits,
    cutoffs: Cutoffs,
    scope: Scope,
    report: Progress,
    use_checkpoints: bool = True,
) -> Replayed:
    refused: list[dict[str, str]] = []
    codec = Codec(settings.schema_registry_url)
    for where in checkpoint_files.listed(checkpoints_dir(settings)) if use_checkpoints else []:
        try:
            meta = checkpoint_files.meta_of(where)
            if meta.topic != settings.topics.events:
                raise Refused(f"taken from topic {meta.topic}")
            if cutoffs.as_of < meta.settled_through:
                raise Refused(f"as-of {cutoffs.as_of} is before its settled date")
            loaded = checkpoint_files.load(where, meta, codec)
            ends, records = read_from(settings, loaded.positions, report)
            rest = [r.event for r in [*loaded.tail, *records] if r.event is not None]
            registry = resume(loaded, rest, units, cutoffs, scope)
        except Refused as reason:
            refused.append({"path": str(where), "reason": str(reason)})
            continue
        used = checkpoint_files.summary_of(where, meta)
        return Replayed(registry, ends, len(records), used, refused)
    ends, records = read_from(settings, {}, report)
    events = [r.event for r in records if r.event is not None]
    return Replayed(take(events, units, cutoffs, scope), ends, len(records), None, refused)


@bulk
def take_checkpoint(
    settings: Settings,
    units: AdminUnits,
    settled_through: date,
    report: Progress,
) -> tuple[Path, Checkpoint, list[dict[str, str]]]:
    """A new checkpoint at the end of the log, settled through `settled_through`."""
    topic = settings.topics.events
    codec = Codec(settings.schema_registry_url)
    refused: list[dict[str, str]] = []
    for where in checkpoint_files.listed(checkpoints_dir(settings)):
        try:
            meta = checkpoint_files.meta_of(where)
            if meta.topic != topic:
                raise Refused(f"taken from topic {meta.topic}")
            if settled_through < meta.settled_through:
                raise Refused(f"settled through {meta.settled_through}, later than asked")
            base = checkpoint_files.load(where, meta, codec)
            ends, records = read_from(settings, base.positions, report)
            new = advance(base, records, ends, settled_through, units)
        except Refused as reason:
            refused.append({"path": str(where), "reason": str(reason)})
            continue
        return checkpoint_files.save(new, checkpoints_dir(settings)), new, refused
    base = empty(topic, partition_count(settings, topic))
    ends, records = read_from(settings, base.positions, report)
    new = advance(base, records, ends, settled_through, units)
    return checkpoint_files.save(new, checkpoints_dir(settings)), new, refused
