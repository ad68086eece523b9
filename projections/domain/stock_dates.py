"""The stock dates of a grid's periods, as `indicator_stock_grid` (004_indicator_grid.sql)
derives them from its `starts` and `ends`: popreg computes them here and sends them as
parameters, because ClickHouse analyses a named expression of the WITH list again
wherever the query uses it, and for these array expressions that analysis cost more
than reading a province's rows. A test holds the view (deriving them itself) and the
query popreg sends to the same answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from projections.domain.indicator_catalog import Level, Period


@dataclass(frozen=True)
class StockDates:
    months: list[int]  # each period's length in months
    calendar_years: list[int]  # 1 where a period is a calendar year
    first_days: list[date]  # 1 July of a calendar year, else the day before the period
    mids: list[int]  # how many stock dates a period's mid-period stock is the mean of
    days: list[date]  # every stock date, in order
    last_day: date
    month_days: list[int]  # the stock dates' month * 100 + day, distinct, in order
    by_province_sums: int  # 1 where the province sums answer (a province's or the
    # nation's calendar years)
    by_commune_year_sums: int  # 1 where the communes' year sums answer (communes'
    # calendar years)

    def parameters(self) -> dict[str, tuple[str, object]]:
        """Each as a query parameter: its name in the WITH list, its ClickHouse type and
        value."""
        return {
            "months": ("Array(UInt32)", self.months),
            "calendar_years": ("Array(UInt8)", self.calendar_years),
            "first_days": ("Array(Date32)", self.first_days),
            "mids": ("Array(UInt8)", self.mids),
            "days": ("Array(Date32)", self.days),
            "last_day": ("Date32", self.last_day),
            "month_days": ("Array(UInt16)", self.month_days),
            "by_province_sums": ("UInt8", self.by_province_sums),
            "by_commune_year_sums": ("UInt8", self.by_commune_year_sums),
        }


def stock_dates(level: Level, periods: Sequence[Period]) -> StockDates:
    starts = [p.start for p in periods]
    ends = [p.end for p in periods]
    months = [
        (e.year - s.year) * 12 + e.month - s.month + 1 for s, e in zip(starts, ends, strict=True)
    ]
    calendar = [int(m == 12 and s.month == 1) for s, m in zip(starts, months, strict=True)]
    first_days = [
        date(s.year, 7, 1) if c else s - timedelta(days=1)
        for s, c in zip(starts, calendar, strict=True)
    ]
    days = sorted({*first_days, *ends})
    return StockDates(
        months=months,
        calendar_years=calendar,
        first_days=first_days,
        mids=[2 - c for c in calendar],
        days=days,
        last_day=max(ends),
        month_days=sorted({d.month * 100 + d.day for d in days}),
        by_province_sums=int(level != "commune" and all(calendar)),
        by_commune_year_sums=int(level == "commune" and all(calendar)),
    )
