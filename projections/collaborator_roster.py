"""The collaborators' roster in ClickHouse, de-identified (`popreg.collaborators`,
001_indicator_tables.sql): loaded whole from the gateway's roster, which is small (one
row per account), by `popreg up` and after each change to it."""

from __future__ import annotations

from typing import Any

from projections.clickhouse_schema import DATABASE
from projections.domain.recordings import ROSTER_COLUMNS, Member


def load_roster(client: Any, members: list[Member]) -> None:
    """Make `popreg.collaborators` hold exactly `members`."""
    client.command(f"TRUNCATE TABLE {DATABASE}.collaborators")
    if members:
        client.insert(f"{DATABASE}.collaborators", [m.row() for m in members], list(ROSTER_COLUMNS))
