"""Writing indicator rows to ClickHouse so that no event ever counts twice or not at all.

ClickHouse has no transaction across tables, so exactness comes from two rules:
- each batch writes its rows, then the next offset per partition (`consumer_positions`);
- every start reconciles: the rows the tables hold are compared with the rows of
  the log folded up to the stored positions, and the difference is written.
A crash between the rows and the positions therefore leaves rows that the next start
cancels (and the batch is read again); a redelivered batch is below the positions
and skipped. Figures are sums of signed rows, so writing a difference is exact.

Rows go over HTTP in ClickHouse's Native format (clickhouse-connect's `insert`), so the
same code writes to the embedded chDB host and to a ClickHouse server. Rows read back from
ClickHouse (a start's reconciliation) are in their JSON form and go back as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from projections.clickhouse_schema import DATABASE
from projections.domain.indicator_rows import COLUMNS, Row
from projections.domain.recordings import COLUMNS as RECORDING_COLUMNS
from projections.domain.recordings import Recording

CHUNK = 50_000  # rows a request at most: the embedded host holds a request whole
NO_QUOTES = "SETTINGS output_format_json_quote_64bit_integers = 0"
# Tables ClickHouse fills from the row tables (001_indicator_tables.sql), with the view
# that says what each lacks: a crash between an insert and its view's leaves it short.
DERIVED = {
    "population_stock_deltas": "population_stock_missing",
    "vital_event_months": "vital_event_months_missing",
    "vital_recorded_months": "vital_recorded_months_missing",
    "submitted_months": "submitted_months_missing",
    "online_windows": "online_windows_missing",
    "mobile_windows": "mobile_windows_missing",
    "population_year_sums": "population_year_sums_missing",
    "household_year_sums": "household_year_sums_missing",
    "population_commune_year_sums": "population_commune_year_sums_missing",
    "household_commune_year_sums": "household_commune_year_sums_missing",
    "vital_event_province_months": "vital_event_province_months_missing",
    "vital_recorded_province_months": "vital_recorded_province_months_missing",
}

# the derived tables summed from the recordings, emptied with them (`clear_recordings`),
# not with the rows (`clear`: a rebuild writes the recordings before it clears the rows)
OF_RECORDINGS = ("mobile_windows",)


def canonical(value: Any) -> Any:
    """A value as ClickHouse's JSON formats print it, so rows compare across the wire."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        at = value.astimezone(UTC) if value.tzinfo else value
        return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_rows(rows: Iterable[Row]) -> list[Row]:
    return [(table, tuple(canonical(v) for v in values)) for table, values in rows]


class IndicatorSink:
    """The indicator tables and this consumer's positions, through one writer client."""

    def __init__(self, client: Any, consumer: str, topic: str) -> None:
        self.client, self.consumer, self.topic = client, consumer, topic
        self.inserts = NativeInserts(client)

    def positions(self) -> dict[int, int]:
        result = self.client.query(
            f"SELECT partition, argMax(next_offset, written_at) FROM {DATABASE}.consumer_positions"
            " WHERE consumer = {consumer:String} AND topic = {topic:String} GROUP BY partition",
            parameters={"consumer": self.consumer, "topic": self.topic},
        )
        return {int(p): int(o) for p, o in result.result_rows}

    def counts(self) -> tuple[int, int]:
        """Events counted (net of corrections) and rejections, as analysts see them."""
        counted, rejected = self.client.query(
            f"SELECT (SELECT sum(sign) FROM {DATABASE}.vital_events),"
            f" (SELECT sum(sign) FROM {DATABASE}.rejections)"
        ).result_rows[0]
        return int(counted or 0), int(rejected or 0)

    def write_recordings(self, found: list[Recording]) -> None:
        """Who recorded the events of a batch, before the batch's positions (a batch read
        again writes them again: the table keeps one row per event on merge, and the
        figures count distinct collaborators)."""
        if found:
            self.inserts.insert(f"{DATABASE}.recordings", RECORDING_COLUMNS, found)

    def clear_recordings(self) -> None:
        """Empty the recordings and what is summed from them."""
        for table in ("recordings", *OF_RECORDINGS):
            self.client.command(f"TRUNCATE TABLE {DATABASE}.{table}")

    def write(self, rows: Iterable[Row], positions: dict[int, int]) -> None:
        """The rows as the fold makes them first, then the positions they bring the
        tables to."""
        for table, listed in by_table(rows).items():
            self.inserts.insert(f"{DATABASE}.{table}", COLUMNS[table], listed)
        if positions:
            now = datetime.now(UTC)
            self.inserts.insert(
                f"{DATABASE}.consumer_positions",
                ("consumer", "topic", "partition", "next_offset", "written_at"),
                [(self.consumer, self.topic, p, o, now) for p, o in sorted(positions.items())],
            )

    def write_canonical(self, rows: Iterable[Row]) -> None:
        """Rows in their canonical (JSON) form, as `net_rows` reads them back."""
        for table, listed in by_table(rows).items():
            insert_json(self.client, f"{DATABASE}.{table}", COLUMNS[table], listed)

    def net_rows(self) -> list[Row]:
        """Every distinct row the tables hold with its summed count, zero sums left out."""
        found: list[Row] = []
        for table, columns in COLUMNS.items():
            *keys, count = columns
            listed = ", ".join(keys)
            raw = self.client.raw_query(
                f"SELECT {listed}, sum({count}) AS n FROM {DATABASE}.{table}"
                f" GROUP BY {listed} HAVING n != 0 FORMAT JSONCompactEachRow {NO_QUOTES}"
            )
            found += [(table, tuple(json.loads(line))) for line in raw.splitlines() if line]
        return found

    def settle(self) -> int:
        """Add to each derived table what it lacks against its row table; returns the
        rows added. Only while nothing writes: the indicator processor, as it starts."""
        added = 0
        for table, missing in DERIVED.items():
            lacking = int(self.client.command(f"SELECT count() FROM {DATABASE}.{missing}"))
            if lacking:
                self.client.command(
                    f"INSERT INTO {DATABASE}.{table} SELECT * FROM {DATABASE}.{missing}"
                )
            added += lacking
        return added

    def clear(self) -> None:
        """Empty the tables and forget the positions (a rebuild writes everything anew)."""
        for table in [
            *COLUMNS,
            *(t for t in DERIVED if t not in OF_RECORDINGS),
            "consumer_positions",
        ]:
            self.client.command(f"TRUNCATE TABLE {DATABASE}.{table}")

    def merge(self) -> None:
        """Merge each table into one part: a bulk load leaves dozens (one per insert of
        50,000 rows), and analysts' queries should not meet them or the merges."""
        for table in [*COLUMNS, *DERIVED, "recordings"]:
            self.client.command(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")


def by_table(rows: Iterable[Row]) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table, values in rows:
        found.setdefault(table, []).append(values)
    return found


class NativeInserts:
    """Inserts of Python values in the Native format, at most CHUNK rows a request.

    In-process (chDB), Native rows cost well under half of JSON ones (3,000 population
    deltas: ~21 ms against ~48 ms, ~19 of them `json.dumps`). clickhouse-connect asks
    for a table's column types (DESCRIBE TABLE) before every insert unless given a
    context: one is kept per table."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.contexts: dict[tuple[str, tuple[str, ...]], Any] = {}

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        context = self.contexts.get((table, columns))
        if context is None:
            context = self.client.create_insert_context(table, list(columns))
            self.contexts[(table, columns)] = context
        for chunk in chunks(rows):
            context.data = chunk
            self.client.insert(context=context)


def chunks(rows: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def insert_json(
    client: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Rows as inline JSONCompactEachRow inserts of at most CHUNK rows each."""
    for chunk in chunks(rows):
        lines = "\n".join(json.dumps(row, ensure_ascii=False) for row in chunk)
        head = f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONCompactEachRow\n"
        client.command(head + lines)
