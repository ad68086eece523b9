"""How a history was judged: by the registry (`history.fold_log`, the judge), or as
the indicator rows tell it; and the net of indicator rows, for comparing them."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from projections.domain.history import fold_log, is_correction
from projections.domain.indicator_rows import Row
from schemas.models import Event
from tests.builders import UNITS


def net(rows: list[Row]) -> Counter[Row]:
    counted: Counter[Row] = Counter()
    for table, values in rows:
        counted[(table, values[:-1])] += values[-1]
    return +counted


def registry_verdicts(events: list[Event]) -> dict[UUID, str | None]:
    _, verdicts = fold_log(events, UNITS)
    return {i: None if v is None else v.reason for i, v in verdicts.items()}


def row_verdicts(rows: list[Row]) -> dict[UUID, str | None]:
    """Each event's verdict in the indicator rows: its fact counted, or its rejection."""
    net: Counter[tuple[str, UUID, str]] = Counter()
    for table, values in rows:
        if table == "vital_events":
            net[(table, values[0], "")] += values[-1]
        elif table == "rejections":
            net[(table, values[0], values[3])] += values[-1]
    found: dict[UUID, str | None] = {}
    for (table, event_id, reason), count in net.items():
        assert count in (0, 1), f"{table} counts {event_id} {count} times"
        if count:
            assert event_id not in found, f"{event_id} is both applied and rejected"
            found[event_id] = None if table == "vital_events" else reason
    return found


def state_verdicts(rows: list[Row], events: list[Event]) -> dict[UUID, str | None]:
    states = {e.envelope.event_id for e in events if not is_correction(e)}
    return {i: v for i, v in row_verdicts(rows).items() if i in states}
