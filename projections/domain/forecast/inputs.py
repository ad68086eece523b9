"""What the forecast needs from the registry, as plain values.

The wiring (the registry queries, the command) fills these; the engine never reads a
store. Counts are floats because exposures are person-years and a projection's cells are
fractional until they are published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from projections.domain.forecast.ages import (
    ABRIDGED_STARTS,
    FERTILE_STARTS,
    FIVE_YEAR_STARTS,
    check_five_year,
)


@dataclass(frozen=True)
class BySex:
    """One value per age group for each sex, on one grid (the caller knows which)."""

    male: tuple[float, ...]
    female: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.male) != len(self.female):
            raise ValueError("male and female have different numbers of age groups")

    @classmethod
    def of(cls, male: Sequence[float], female: Sequence[float]) -> BySex:
        return cls(tuple(float(v) for v in male), tuple(float(v) for v in female))

    @classmethod
    def zeros(cls, groups: int) -> BySex:
        return cls((0.0,) * groups, (0.0,) * groups)

    def __len__(self) -> int:
        return len(self.male)

    def sex(self, sex: str) -> tuple[float, ...]:
        """The values of 'male' or 'female'."""
        if sex not in ("male", "female"):
            raise ValueError(f"unknown sex {sex!r}")
        return self.male if sex == "male" else self.female

    def total(self) -> float:
        return sum(self.male) + sum(self.female)

    def map(self, f: Callable[[float], float]) -> BySex:
        return BySex(tuple(f(v) for v in self.male), tuple(f(v) for v in self.female))


@dataclass(frozen=True)
class BasePopulation:
    """Residents on the base date by five-year age group (0-4 … 100+) and sex."""

    on: date
    population: BySex
    starts: tuple[int, ...] = FIVE_YEAR_STARTS

    def __post_init__(self) -> None:
        check_five_year(self.starts)
        if len(self.population) != len(self.starts):
            raise ValueError("the population does not match its age grid")
        if min(*self.population.male, *self.population.female) < 0:
            raise ValueError("a negative population")


@dataclass(frozen=True)
class BaseWindow:
    """The registry's events and exposures over the base window (usually the five years
    ending on the base date), from which the rates are measured.

    - births_by_mother_age: by the mother's group 15-19 … 45-49 (births to mothers outside
      15-49 are few; the wiring adds them to the nearest group so the TFR keeps them);
    - births_male, births_female: by sex of the child, for the sex ratio at birth;
    - deaths, exposures: on the abridged grid (0, 1-4, 5-9 … 100+), exposures in
      person-years lived in the window;
    - in_migrants, out_migrants: persons crossing the unit's border, on the five-year grid,
      by their age at the move.
    """

    years: float
    births_by_mother_age: tuple[float, ...]
    births_male: float
    births_female: float
    deaths: BySex
    exposures: BySex
    in_migrants: BySex
    out_migrants: BySex

    def __post_init__(self) -> None:
        if self.years <= 0:
            raise ValueError("the window has no length")
        if len(self.births_by_mother_age) != len(FERTILE_STARTS):
            raise ValueError("births by mother's age are the groups 15-19 … 45-49")
        if len(self.deaths) != len(ABRIDGED_STARTS) or len(self.exposures) != len(ABRIDGED_STARTS):
            raise ValueError("deaths and exposures are on the abridged grid 0, 1-4 … 100+")
        if len(self.in_migrants) != len(FIVE_YEAR_STARTS) or len(self.out_migrants) != len(
            FIVE_YEAR_STARTS
        ):
            raise ValueError("migrants are on the five-year grid 0-4 … 100+")
