"""Do ClickHouse's indicator tables agree with the registry in PostgreSQL?

Each store is read on its own terms (`projections/agreement_queries.py`) into the same
figures, and this module compares them. It imports no client library, so the
comparison can be tested with figures written by hand. The figures, and why these
(`docs/decisions/0008-audit-compares-the-stores.md`):

- population: persons living in a household, by commune, sex and age in completed
  years, on 31 December of every year that holds events and today;
- households in being, by commune, now;
- events applied, by type, and events or messages refused, by type and reason.

A figure absent from a store counts zero there, so a cell only one store has is a
difference, and zero-sum cells (what negative correction rows cancel) are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

PopulationCell = tuple[date, str, str, int]  # on date, commune, sex, age on that date
RejectionKey = tuple[str, str]  # event type ("" for bytes that are no event), reason

# What each part of a figure's key is, to name a difference in words.
KEYS: dict[str, tuple[str, ...]] = {
    "population": ("on", "commune", "sex", "age"),
    "households": ("commune",),
    "applied": ("event type",),
    "rejected": ("event type", "reason"),
}
NO_EVENT = ""  # the event type of a message rejected without an event (undecodable, store_refused)


@dataclass(frozen=True)
class Figures:
    """One store's figures; a missing key counts zero."""

    population: dict[PopulationCell, int] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    rejected: dict[RejectionKey, int] = field(default_factory=dict)

    def tables(self) -> dict[str, Mapping[Any, int]]:
        return {
            "population": self.population,
            "households": self.households,
            "applied": self.applied,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class Mismatch:
    """One figure whose two stores disagree."""

    figure: str  # a key of KEYS
    key: tuple[Any, ...]
    registry: int
    indicators: int

    def __str__(self) -> str:
        named = " ".join(
            f"{name} {_shown(name, value)}"
            for name, value in zip(KEYS[self.figure], self.key, strict=True)
        )
        change = self.indicators - self.registry
        return (
            f"{self.figure} {named}: registry {self.registry:,},"
            f" indicators {self.indicators:,} ({change:+,})"
        )


def _shown(name: str, value: Any) -> str:
    if name == "event type" and value == NO_EVENT:
        return "(none: a message kept without its event)"
    return str(value)


@dataclass(frozen=True)
class Agreement:
    """The comparison's outcome: every mismatch, and the size of what was compared."""

    mismatches: list[Mismatch]
    cells: int  # commune-sex-age cells on all dates, in either store
    dates: int
    households: int  # in the registry
    events: int  # applied or refused, in the registry
    counts: int  # event counts compared: by type applied, by type and reason refused

    def summary(self) -> str:
        return (
            f"{self.cells:,} commune-sex-age cells on {self.dates:,} dates,"
            f" {self.households:,} households, {self.events:,} events applied or refused"
            f" in {self.counts:,} counts by type and reason"
        )


def compare(registry: Figures, indicators: Figures, dates: Iterable[date]) -> Agreement:
    """Every figure the two stores give differently, in the order of KEYS and then by key
    (population by date, commune, sex and age)."""
    found: list[Mismatch] = []
    ours, theirs = registry.tables(), indicators.tables()
    for figure in KEYS:
        left, right = ours[figure], theirs[figure]
        for key in sorted(_keys(left) | _keys(right)):
            a, b = _at(left, key), _at(right, key)
            if a != b:
                found.append(Mismatch(figure, _as_tuple(key), a, b))
    return Agreement(
        found,
        cells=len(_keys(registry.population) | _keys(indicators.population)),
        dates=len(set(dates)),
        households=sum(registry.households.values()),
        events=sum(registry.applied.values()) + sum(registry.rejected.values()),
        counts=sum(len(_keys(ours[f]) | _keys(theirs[f])) for f in ("applied", "rejected")),
    )


def _keys(counts: Mapping[Any, int]) -> set[Any]:
    """Keys that count something: a zero is the same as no row."""
    return {key for key, n in counts.items() if n}


def _at(counts: Mapping[Any, int], key: Any) -> int:
    return counts.get(key, 0)


def _as_tuple(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def stock_dates(years: Iterable[int], today: date) -> list[date]:
    """31 December of each year up to today's, and today: the dates stocks are taken on
    (a 31 December still to come would only repeat today)."""
    return sorted({date(y, 12, 31) for y in years if date(y, 12, 31) < today} | {today})


def counted(rows: Iterable[tuple[Any, ...]]) -> dict[Any, int]:
    """(key..., count) rows summed by key: a one-part key stands alone, not in a tuple."""
    found: dict[Any, int] = {}
    for *key, n in rows:
        k = key[0] if len(key) == 1 else tuple(key)
        found[k] = found.get(k, 0) + int(n)
    return found
