"""Reading the indicators: the queries of the parameterized views in
`003_indicator_views.sql`.

popreg sends each view's SELECT itself rather than calling the view: ClickHouse
analyses a call of a parameterized view twice. It is sent without its comments, which
ClickHouse's parser pays for. Values travel as server-side parameters (`{name:Type}`),
never spliced into the SQL, so the same calls serve chDB in-process and a ClickHouse
server over HTTP. Analysts call the views; a test holds both to the same answers.

`indicator_values` is sent in two parts at once: the view's WITH list cut down to what
each part needs (the stocks and households; the flows and communes online), its formulas
computed in Python (`indicator_formulas`). Analysing that query is single-threaded and
costs about as much as reading a province's rows (~100 ms of ~160 in-process); in
parts, both spread over the cores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from typing import Any, Literal

from clickhouse_connect.driver.client import Client

from projections.clickhouse_schema import DATABASE, SQL_DIR, statements
from projections.domain import indicator_formulas
from projections.domain.indicator_catalog import (
    LEVELS,
    UNITS,
    IndicatorValue,
    Level,
    Period,
    PyramidRow,
    RejectionCount,
    Units,
)
from projections.domain.indicator_formulas import FLOW_PARTS
from projections.domain.stock_dates import stock_dates

VIEWS_SQL = SQL_DIR / "003_indicator_views.sql"
GRID_SQL = SQL_DIR / "004_indicator_grid.sql"
# the parts of `indicator_grid`, each a view of GRID_SQL, sent at once like PARTS below
GRID_PARTS = ("indicator_stock_grid", "indicator_flow_grid")
# Which of some events have reached the indicators: the freshness poll of the
# benchmark, sent through the analysts' endpoint like any analyst's query. `since`,
# the earliest recording time of the events asked for, narrows the scan of
# `vital_events`; `rejections` is small.
_IDS = "event_id IN {ids:Array(UUID)}"
ARRIVED = (
    f"SELECT toString(event_id) FROM {DATABASE}.vital_events"
    f" WHERE recorded_at >= {{since:DateTime64(3, 'UTC')}} AND {_IDS}"
    f" UNION ALL SELECT toString(event_id) FROM {DATABASE}.rejections WHERE {_IDS}"
)
# a quoted string or identifier (kept whole, with its escapes), or a comment to the end
# of its line
_STRING = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`"""
_STRING_OR_COMMENT = re.compile(rf"({_STRING})|--[^\n]*")
# what delimits the items of a WITH list: a string (skipped whole), a bracket, a comma, or
# the main SELECT
_WITH_TOKEN = re.compile(rf"{_STRING}|[()\[\],]|\bSELECT\b")
_CTE = re.compile(r"(\w+) AS \(")
_ALIAS = re.compile(r"\bAS (\w+)\s*$")  # a WITH item naming an expression
# the branches of a grid's rows (004_indicator_grid.sql), of which popreg sends one
_BRANCHES = re.compile(
    r"SELECT \* FROM (\w+)_by_commune(?:\s+UNION ALL SELECT \* FROM \1_by_commune_years)?"
    r"\s+UNION ALL SELECT \* FROM \1_by_province"
)
# The parts of indicator_values: the CTEs each needs and what it selects from them. Two,
# of about equal cost (the stocks read the most rows; the flows and communes online
# analyse the most), one a core on two cores: a third part would wait for a core and
# add its own analysis (~8 ms more a query).
PARTS: dict[str, tuple[frozenset[str], str]] = {
    "stocks": (
        frozenset({"checks", "residents", "people", "stocks", "households"}),
        "SELECT population_end, population_end_male, population_end_female, population_mid,"
        " women_15_49, women_by_group, aged_0_14, aged_15_64, aged_65_up, single_women,"
        " known_women, single_men, known_men, households_mid FROM checks, stocks, households",
    ),
    "flows": (
        frozenset({"flows", "communes_in_force", "online", "team"}),
        "SELECT births, births_male, births_female, births_by_group, deaths, infant_deaths,"
        " under5_deaths, marriages, divorces, in_migrants, out_migrants, recorded_vital,"
        " recorded_mobile, median_delay, within_30_days, communes, communes_online,"
        " collaborators, collaborators_mobile FROM flows, online, team",
    ),
}


@cache
def view_query(name: str) -> str:
    """The SELECT behind the parameterized view `popreg.<name>`, parameters and all."""
    head = f"CREATE OR REPLACE VIEW {DATABASE}.{name} AS"
    for path in sorted(SQL_DIR.glob("*.sql")):
        for statement in statements(path.read_text("utf-8")):
            _, found, query = statement.partition(head)
            if found:
                return without_comments(query)
    raise LookupError(f"no view {DATABASE}.{name} in {SQL_DIR}")


def without_comments(sql: str) -> str:
    """`sql` with its `--` comments and blank lines removed, its strings untouched."""
    bare = _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", sql)
    return "\n".join(line.rstrip() for line in bare.splitlines() if line.strip())


RowsBy = Literal["commune", "commune_years", "province"]
ROWS_BY: dict[str, tuple[RowsBy, ...]] = {  # the branches each grid part has
    GRID_PARTS[0]: ("commune", "commune_years", "province"),
    GRID_PARTS[1]: ("commune", "province"),
}


@cache
def sent_query(name: str, rows_by: RowsBy = "commune", parts: tuple[str, ...] = ()) -> str:
    """What popreg sends for the view `name`: its SELECT with the stock grid's derived
    stock dates (`projections.domain.stock_dates`) as parameters instead of expressions,
    and of each union of branches (`x_by_commune UNION ALL [x_by_commune_years UNION ALL]
    x_by_province`: the rows by commune, the communes' year sums, the province sums) only
    the one that reads, `rows_by`, without what only the others used: ClickHouse
    analyses a branch that reads nothing as long as one that does, and a grid's analysis
    costs more than its reading. For the flow grid, `parts` (of
    `indicator_formulas.FLOW_PARTS`; none: all) keeps only those parts' columns."""
    items, select = with_list(view_query(name))
    if parts:
        select = _only_parts(select, parts)
    if name == GRID_PARTS[0]:
        derived = stock_dates("province", [Period.parse("2025")]).parameters()
        for i, item in enumerate(items):
            named = _ALIAS.search(item)
            if named is not None and named.group(1) in derived:
                kind, _ = derived[named.group(1)]
                items[i] = f"{{d_{named.group(1)}:{kind}}} AS {named.group(1)}"
    if rows_by not in ROWS_BY[name]:
        raise ValueError(f"{name} has no rows by {rows_by}")
    others = [o for o in ROWS_BY[name] if o != rows_by]
    items = [_BRANCHES.sub(rf"SELECT * FROM \1_by_{rows_by}", item) for item in items]
    items = [i for i in items if not any(_item_name(i).endswith(f"_by_{o}") for o in others)]
    while True:  # leave out what nothing left uses
        used = [
            i
            for n, i in enumerate(items)
            if any(
                re.search(rf"(?<![\w.]){_item_name(i)}(?!\w)", text)
                for text in [*items[:n], *items[n + 1 :], select]
            )
        ]
        if len(used) == len(items):
            return "WITH\n" + ",\n".join(items) + "\n" + select
        items = used


def _only_parts(select: str, parts: tuple[str, ...]) -> str:
    """The flow grid's main SELECT with only the columns of `parts` and their joins."""
    unknown = set(parts) - set(FLOW_PARTS)
    if unknown:
        raise ValueError(f"the flow grid has no parts {sorted(unknown)}")
    head, tail = select.split("\nFROM grid\n", 1)
    kept = {"unit", "period", *(c for p in parts for c in FLOW_PARTS[p])}
    columns = [c for c in select_list(head) if _column_name(c) in kept]
    joins = [
        line
        for line in tail.splitlines()
        if not any(line.strip() == f"LEFT JOIN {p} USING (unit, period)" for p in FLOW_PARTS)
        or any(line.strip() == f"LEFT JOIN {p} USING (unit, period)" for p in parts)
    ]
    return "SELECT\n    " + ",\n    ".join(columns) + "\nFROM grid\n" + "\n".join(joins)


def select_list(head: str) -> list[str]:
    """The expressions of `SELECT a, f(b, c) AS d, …` (the text before FROM)."""
    body = head.strip().removeprefix("SELECT")
    depth, start, found = 0, 0, []
    for token in _WITH_TOKEN.finditer(body):
        text = token.group()
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        elif depth == 0 and text == ",":
            found.append(body[start : token.start()].strip())
            start = token.end()
    found.append(body[start:].strip())
    return found


def _column_name(expression: str) -> str:
    """What a SELECT expression is called: its alias, or the column it names."""
    named = _ALIAS.search(expression)
    return named.group(1) if named is not None else expression.rsplit(".", 1)[-1]


def _item_name(item: str) -> str:
    """The name a WITH item gives: a CTE's or an expression's."""
    named = _CTE.match(item.strip()) or _ALIAS.search(item)
    return named.group(1) if named is not None else ""


def rows_by(name: str, level: Level, periods: Sequence[Period]) -> RowsBy:
    """Which rows the view `name` reads for `level` and `periods`: the province sums for a
    province's or the nation's flows, and their stocks in calendar years; the communes'
    year sums for communes' stocks in calendar years."""
    if name == GRID_PARTS[0]:
        dates = stock_dates(level, periods)
        if dates.by_commune_year_sums:
            return "commune_years"
        return "province" if dates.by_province_sums else "commune"
    return "commune" if level == "commune" else "province"


def sent_parameters(name: str, level: Level, periods: Sequence[Period]) -> dict[str, Any]:
    """The parameters `sent_query(name)` takes beside the view's own."""
    if name != GRID_PARTS[0]:
        return {}
    return {f"d_{k}": v for k, (_, v) in stock_dates(level, periods).parameters().items()}


@cache
def part_queries() -> dict[str, str]:
    """indicator_values' parts: its WITH list without the CTEs a part does not need."""
    items, _ = with_list(view_query("indicator_values"))
    found = {}
    for part, (ctes, select) in PARTS.items():
        kept = [i for i in items if (cte := _CTE.match(i)) is None or cte.group(1) in ctes]
        found[part] = "WITH\n" + ",\n".join(kept) + "\n" + select
    return found


def with_list(query: str) -> tuple[list[str], str]:
    """The items of a query's WITH list (each CTE or aliased expression), and the main
    SELECT after it."""
    body = query.strip()
    if not body.startswith("WITH"):
        raise ValueError("the query does not begin with WITH")
    depth, start, items = 0, len("WITH"), []
    for token in _WITH_TOKEN.finditer(body, start):
        text = token.group()
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        elif depth == 0 and text in (",", "SELECT"):
            items.append(body[start : token.start()].strip())
            if text == "SELECT":
                return items, body[token.start() :]
            start = token.end()
    raise ValueError("no SELECT follows the WITH list")


def indicator_values(
    client: Client, level: Level, code: str, period: Period, units: Units = "as_was"
) -> list[IndicatorValue]:
    """Every indicator of one unit and period, in the catalogue's order (NaN: no denominator)."""
    parameters = _unit(level, code, units) | _period(period)

    def run(query: str) -> dict[str, Any]:
        result = client.query(query, parameters=parameters)
        return dict(zip(result.column_names, result.result_rows[0], strict=True))

    with ThreadPoolExecutor(len(PARTS)) as pool:
        answers = list(pool.map(run, part_queries().values()))
    return indicator_formulas.indicator_values(
        {name: value for answer in answers for name, value in answer.items()}, period
    )


def indicator_grid(
    client: Client,
    level: Level,
    codes: Sequence[str],
    periods: Sequence[Period],
    units: Units = "as_was",
) -> dict[tuple[str, Period], list[IndicatorValue]]:
    """Every indicator of each of `codes` (units of one level) in each of `periods`, as
    `indicator_values` gives it for one, keyed by (code, period): two queries in all."""
    grid, _ = grid_and_flows(client, level, codes, periods, (), units)
    return grid


def flow_grid(
    client: Client,
    level: Level,
    codes: Sequence[str],
    periods: Sequence[Period],
    units: Units = "as_was",
    parts: tuple[str, ...] = (),
) -> dict[tuple[str, Period], dict[str, Any]]:
    """The flow part of `indicator_grid` alone (births, deaths, moves, ... as counted in
    each period), keyed like it: what a monthly chart needs, without the stocks, whose
    cost grows with the number of stock dates; only the columns of `parts` if given
    (`indicator_formulas.FLOW_PARTS`)."""
    return _grid_part(client, GRID_PARTS[1], level, codes, periods, units, parts)


def stock_grid(
    client: Client,
    level: Level,
    codes: Sequence[str],
    periods: Sequence[Period],
    units: Units = "as_was",
) -> dict[tuple[str, Period], dict[str, Any]]:
    """The stock part of `indicator_grid` alone: residents, households and the stocks the
    rates divide by, keyed like it."""
    return _grid_part(client, GRID_PARTS[0], level, codes, periods, units)


def _grid_part(
    client: Client,
    view: str,
    level: Level,
    codes: Sequence[str],
    periods: Sequence[Period],
    units: Units,
    parts: tuple[str, ...] = (),
) -> dict[tuple[str, Period], dict[str, Any]]:
    """One grid part's sums for each unit and period: (code, period) → column → sum."""
    if not codes or not periods:
        raise ValueError("at least one unit and one period")
    chosen = list(periods)
    asked = _unit(level, "", units) | {"codes": [""] if level == "nation" else list(codes)}
    del asked["code"]
    parameters = asked | {"starts": [p.start for p in chosen], "ends": [p.end for p in chosen]}
    parameters |= sent_parameters(view, level, chosen)
    result = client.query(
        sent_query(view, rows_by(view, level, chosen), parts), parameters=parameters
    )
    found = {}
    for row in result.result_rows:
        cells = dict(zip(result.column_names, row, strict=True))
        code = codes[0] if level == "nation" else cells["unit"]
        found[(code, chosen[cells["period"] - 1])] = cells
    return found


def grid_and_flows(
    client: Client,
    level: Level,
    codes: Sequence[str],
    periods: Sequence[Period],
    flow_periods: Sequence[Period],
    units: Units = "as_was",
) -> tuple[
    dict[tuple[str, Period], list[IndicatorValue]], dict[tuple[str, Period], dict[str, Any]]
]:
    """`indicator_grid` for `periods` and `flow_grid` for `flow_periods` at once: the
    flows of both in one query (a unit page's years and months), the stocks of `periods`
    beside it. Each query's analysis costs about as much as its reading, so a page asks
    for two, not three."""
    if not codes or not (periods or flow_periods):
        raise ValueError("at least one unit and one period")
    flowing = list(dict.fromkeys([*periods, *flow_periods]))
    with ThreadPoolExecutor(len(GRID_PARTS)) as pool:
        stocking = (
            pool.submit(stock_grid, client, level, codes, periods, units) if periods else None
        )
        flows = flow_grid(client, level, codes, flowing, units)
        stocks = stocking.result() if stocking is not None else {}
    grid = {
        cell: indicator_formulas.indicator_values(stock | flows[cell], cell[1])
        for cell, stock in stocks.items()
    }
    return grid, {cell: flows[cell] for cell in flows if cell[1] in flow_periods}


def population_pyramid(
    client: Client, level: Level, code: str, on_date: date, units: Units = "as_was"
) -> list[PyramidRow]:
    """Residents on `on_date` by five-year age group and sex, youngest first."""
    result = client.query(
        view_query("population_pyramid"),
        parameters=_unit(level, code, units) | {"on_date": on_date},
    )
    return [
        PyramidRow(group, int(start), int(male), int(female), int(unknown))
        for group, start, male, female, unknown in result.result_rows
    ]


def rejections_by_reason(
    client: Client, level: Level, code: str, period: Period, units: Units = "as_was"
) -> list[RejectionCount]:
    """Events rejected in the period by commune and reason, with the commune's rate."""
    result = client.query(
        view_query("rejections_by_reason"), parameters=_unit(level, code, units) | _period(period)
    )
    return [
        RejectionCount(commune, reason, int(rejected), int(submitted), float(rate))
        for commune, reason, rejected, submitted, rate in result.result_rows
    ]


def _unit(level: Level, code: str, units: Units) -> dict[str, Any]:
    if level not in LEVELS:
        raise ValueError(f"level is one of {', '.join(LEVELS)}, got {level!r}")
    if units not in UNITS:
        raise ValueError(f"units is one of {', '.join(UNITS)}, got {units!r}")
    return {"level": level, "code": "" if level == "nation" else code, "units": units}


def _period(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}
