"""Which of popreg's ClickHouse tables the analyst may name (the chDB host's analyst user).

Decision record: docs/decisions/0004-disclosure-control.md. The row tables hold a row
per event or per change of a resident: commune, exact dates, sex, age, the mother's age,
places moved from and to, and a pseudonymous key that links one person's events. Read
row by row (or grouped as finely), they single persons out, and popreg's own figures
need them exact, so they are not coarsened: the analyst is refused any statement that
names one. The analyst reads them through the aggregate views of
`003_indicator_views.sql` and `004_indicator_grid.sql` (which name no row table in the
statement), and popreg's own reads through the analysts' endpoint (`popreg indicators`,
`pyramid`, the portal, the bench's queries and freshness polls) are let through as
exactly the statements popreg sends, whatever their parameters: each is an aggregate per
unit (and period), or a lookup of given ids.

This is a check on ClickHouse's normalised statement text, like `infra.readonly_sql`
(whose checks run first): it refuses a little more than it must (a column alias or a
string literal spelled like a row table), which is the safe direction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from infra.readonly_sql import ReadOnlyViolation

# Tables (and plain views) with a row per event, per resident change or near it.
ROW_LEVEL_TABLES = frozenset(
    {
        "vital_events",
        "population_deltas",
        "household_deltas",
        "population_stock_deltas",  # birth dates to ~a month, summed by day of change
        "population_stock_filler",  # the materialized view writing it
        "population_stock_missing",  # a view over both
        # the vital events by commune and month (or day) with what the figures count by:
        # a small commune's cells are single events
        "vital_event_months",
        "vital_event_months_of",
        "vital_event_months_filler",
        "vital_event_months_missing",
        "vital_recorded_months",
        "vital_recorded_months_of",
        "vital_recorded_months_filler",
        "vital_recorded_months_missing",
        "submitted_months",
        "submitted_months_of",
        "submitted_months_filler",
        "submitted_months_missing",
        *(
            f"{t}{suffix}"
            for t in ("online_windows", "mobile_windows")
            for suffix in ("", "_of", "_filler", "_missing")
        ),
        # the same by province, and the year series by commune (a province's cells are
        # still small: one village's births)
        *(
            f"{table}{suffix}"
            for table in (
                "population_year_sums",
                "household_year_sums",
                "population_commune_year_sums",
                "household_commune_year_sums",
                "vital_event_province_months",
                "vital_recorded_province_months",
            )
            for suffix in ("", "_filler", "_of", "_missing")
        ),
        "rejections",  # one row per refused event, with its dates and commune
        "recordings",  # one row per event: who recorded it, where, when, how
        "collaborators",  # one row per collaborator's account
    }
)
_NAMED = re.compile(
    rf"(?<![\w$])({'|'.join(sorted(ROW_LEVEL_TABLES, key=len, reverse=True))})(?![\w$])",
    re.IGNORECASE,
)
_IDENTIFIER_BIND = re.compile(r"\{\s*(\w+)\s*:\s*Identifier\s*\}", re.IGNORECASE)
_FORMAT = re.compile(r" FORMAT \w+$")  # how the client asks for the answer, not what


def popreg_queries() -> list[str]:
    """The statements popreg itself sends through the analysts' endpoint that name row
    tables: the views' SELECTs, `indicator_values`' parts, the freshness poll."""
    from projections.domain.indicator_catalog import INDICATORS
    from projections.domain.indicator_formulas import flow_parts_of
    from projections.indicators import (
        ARRIVED,
        GRID_PARTS,
        ROWS_BY,
        part_queries,
        sent_query,
        view_query,
    )

    views = (
        "indicator_values",
        *GRID_PARTS,
        "population_pyramid",
        "rejections_by_reason",
        "forecast_window",
    )
    return [
        *(view_query(v) for v in views),
        *(sent_query(v, by) for v in GRID_PARTS for by in ROWS_BY[v]),
        *(  # the flows of one indicator (a map's)
            sent_query(GRID_PARTS[1], by, parts)
            for by in ROWS_BY[GRID_PARTS[1]]
            for parts in {flow_parts_of(name) for name, _ in INDICATORS} - {()}
        ),
        *part_queries().values(),
        ARRIVED,
    ]


def published(normalise: Callable[[str], str]) -> frozenset[str]:
    """popreg's own statements as the host normalises what a client sends."""
    return frozenset(normalise(query) for query in popreg_queries())


def check(statement: str, binds: Mapping[str, str], allowed: frozenset[str]) -> None:
    """Raise ReadOnlyViolation if `statement` (normalised) names a row table, unless it is
    one of `allowed` (`published`) asking for any output format."""
    tables = [binds.get(name, "") for name in _IDENTIFIER_BIND.findall(statement)]
    named = _NAMED.search(statement) or next(
        (m for value in tables if (m := _NAMED.search(value))), None
    )
    if named is None or _FORMAT.sub("", statement) in allowed:
        return
    raise ReadOnlyViolation(
        f"Not enough privileges: the analyst reads {named.group(1)} only through the"
        " aggregate views (popreg.indicator_values, indicator_stock_grid,"
        " indicator_flow_grid, population_pyramid, rejections_by_reason): row-level data"
        " is not released"
        " (docs/decisions/0004-disclosure-control.md)",
        code=497,
        name="ACCESS_DENIED",
    )
