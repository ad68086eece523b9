"""`popreg rebuild state` against the real stack: the bulk path equals the live one.

The rebuild folds the whole log (every test's events so far, poison included), so it
is compared with what the live projector had written from the same log: every
current row, every archived event's outcome, every rejection and the counts. Then
the live projector must carry on from the positions the rebuild stored.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from popreg.settings import Settings
from projections.state_tables import COLUMNS
from tests.cli_env import popreg
from tests.projector_helpers import (
    Ids,
    db_rows,
    folded,
    publish,
    quiesce,
    synthetic,
    wait_projected,
)

pytestmark = pytest.mark.stack

COMPARED = {
    **{table: ", ".join(columns) for table, columns in COLUMNS.items()},
    "events": 'event_id, event_type, partition, "offset", payload, outcome, reason',
    "rejected_events": 'partition, "offset", event_id, reason, detail, raw',
    "processor_counts": "consumer, applied, rejected, voided, duplicates, undecodable",
}


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(settings.postgres_url) as conn:
        return {
            table: sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
            for table, columns in COMPARED.items()
        }


def test_rebuild_equals_the_live_projection_and_live_continues(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=150, years=(2021, 2024), seed=5, error_rate=0.05)
    wait_projected(settings, publish(settings, events))
    quiesce(settings)
    live = snapshot(settings)
    assert any(row[0] == ids.household("000001") for row in live["households"])

    result = popreg(settings, "rebuild", "state", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "rebuilt from" in result.stdout
    rebuilt = snapshot(settings)
    for table in COMPARED:
        assert rebuilt[table] == live[table], table

    later = Ids.new()
    more = synthetic(later, households=20, years=(2023, 2024), seed=6, error_rate=0.0)
    wait_projected(settings, publish(settings, more))
    assert db_rows(settings, later) == folded(more).rows
