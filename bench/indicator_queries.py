"""How fast the indicator views answer for a Cà Mau-sized province (in-process chDB).

    .venv/bin/python bench/indicator_queries.py [--data DIR] [--views-from FILE.sql]

The rows of a synthetic province ('96', 2015-2025) are folded once and cached as a
pickle in /tmp (folding runs at ~10-15k events/s). They are written to a chDB warehouse
and copied `--copies` times over (each copy's `subject_key` shifted; the other columns
are de-identified and left as they are, so every count is multiplied): with the
defaults ~3.4 M population deltas, ~2.9 M vital events and ~0.6 M household deltas,
about 1.3 M people in ~360k households over 11 years. Copies are identical population
deltas, which `population_stock_deltas` sums into one row: for the stocks' speed, fold a
province whole instead (`--households 290000 --copies 1`, as `popreg bench --scale
province`; ~15 minutes to fold). `--data` keeps the warehouse between runs. Each query
shape then runs after a warm-up; p50/p99 in milliseconds.

`--views-from` replaces the views with those of another copy of
`003_indicator_views.sql` (say, `git show HEAD~1:projections/sql/clickhouse/...`) to
time them on the same rows.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import clickhouse_connect

from producers.synth import Synth, SynthConfig
from projections.clickhouse_schema import migrate, statements
from projections.clickhouse_sink import IndicatorSink
from projections.domain.indicator_catalog import Level, Period, Units
from projections.domain.indicator_rows import Row, fold_all
from projections.domain.record import Record
from projections.indicator_units import load_units
from projections.indicators import indicator_values, population_pyramid
from schemas.admin_units import load

TABLES = ("vital_events", "population_deltas", "household_deltas", "rejections")
FILLED = "bench-filled"  # written into the chDB directory once the tables are filled


def rows(households: int) -> list[Row]:
    """The folded rows of a synthetic province, cached in /tmp."""
    cache = Path(tempfile.gettempdir()) / f"popreg-indicator-bench-{households}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            cached: list[Row] = pickle.load(f)
        return cached
    units = load()
    config = SynthConfig(
        "96", households, 2015, 2025, 7, datetime(2026, 1, 1, tzinfo=UTC), error_rate=0.005
    )
    records = (Record(0, n, e, None, None) for n, e in enumerate(Synth(config, units).events()))
    folded = list(fold_all(records, units, b"bench").all_rows())
    with cache.open("wb") as f:
        pickle.dump(folded, f, protocol=pickle.HIGHEST_PROTOCOL)
    return folded


def warehouse(directory: str, households: int, copies: int) -> Any:
    """The schema, the units and the rows (once per directory)."""
    client = clickhouse_connect.get_client(dsn=f"chdb://{directory}")
    migrate(client)
    load_units(client, load())
    if Path(directory, FILLED).exists():
        return client
    sink = IndicatorSink(client, "bench", "bench")
    sink.clear()
    sink.write(rows(households), {})
    if copies > 1:
        client.command(
            "INSERT INTO popreg.vital_events SELECT t.* REPLACE"
            " (cityHash64(t.subject_key, n.number) AS subject_key)"
            f" FROM popreg.vital_events AS t, numbers(1, {copies - 1}) AS n"
        )
        for table in TABLES[1:]:
            client.command(
                f"INSERT INTO popreg.{table} SELECT t.* FROM popreg.{table} AS t,"
                f" numbers({copies - 1}) AS n"
            )
    sink.merge()
    Path(directory, FILLED).touch()
    return client


def timed(run: Callable[[], object], times: int) -> tuple[float, float]:
    """p50 and p99 of `times` runs after a warm-up, in milliseconds."""
    run()
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        run()
        spent.append((time.perf_counter() - began) * 1000)
    spent.sort()
    return statistics.median(spent), spent[round(0.99 * (len(spent) - 1))]


def shapes(client: Any) -> list[tuple[str, Callable[[], object]]]:
    """The query shapes timed: levels x units x periods, and pyramids."""
    busiest = client.query(
        "SELECT commune_code FROM popreg.vital_events WHERE occurred_on >= '2025-07-01'"
        " GROUP BY commune_code ORDER BY count() DESC LIMIT 1"
    ).result_rows[0][0]
    places: list[tuple[Level, str]] = [("province", "96"), ("nation", ""), ("commune", busiest)]
    everything: list[Units] = ["as_was", "current"]
    found: list[tuple[str, Callable[[], object]]] = []
    for level, code in places:
        for units in everything:
            for text in ("2025", "2025-Q3", "2024-02"):
                period = Period.parse(text)
                name = f"indicator_values {level} {code} {units} {text}"
                found.append((name, partial(indicator_values, client, level, code, period, units)))
    for level, code in places[:2]:
        for units in everything:
            name = f"population_pyramid {level} {code} {units} 2025-07-01"
            day = date(2025, 7, 1)
            found.append((name, partial(population_pyramid, client, level, code, day, units)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data", help="the chDB directory (filled on first use)")
    parser.add_argument("--views-from", type=Path, help="an 003_indicator_views.sql to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="popreg-indicator-bench-") as scratch:
        bench(args, args.data or scratch)


def bench(args: argparse.Namespace, directory: str) -> None:
    client = warehouse(directory, args.households, args.copies)
    if args.views_from:
        for statement in statements(args.views_from.read_text("utf-8")):
            client.command(statement)
    for table in TABLES:
        (count,) = client.query(f"SELECT count() FROM popreg.{table}").result_rows[0]
        print(f"{table}: {count:,} rows")
    print(f"{'query':60} {'p50 ms':>8} {'p99 ms':>8}")
    for name, query in shapes(client):
        p50, p99 = timed(query, args.runs)
        print(f"{name:60} {p50:8.1f} {p99:8.1f}", flush=True)
    client.close()


if __name__ == "__main__":
    main()
