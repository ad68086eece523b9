"""The simulated population's own demographic rates, measured per year.

They count what happened (by occurred_on), whether or not it was recorded by `now`,
with the population alive and resident on 1 July as the denominator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from producers.synth import demography

FERTILE_GROUPS = len(demography.ASFR)


def _zeros() -> list[int]:
    return [0] * FERTILE_GROUPS


@dataclass
class YearStats:
    year: int
    days: int  # days simulated (fewer than a year when `now` cuts it short)
    population: int = 0  # on 1 July
    women: list[int] = field(default_factory=_zeros)  # by 5-year group 15-19 ... 45-49
    births: int = 0
    male_births: int = 0
    births_by_age: list[int] = field(default_factory=_zeros)
    deaths: int = 0
    infant_deaths: int = 0
    marriages: int = 0
    divorces: int = 0
    moved_out: int = 0  # persons
    moved_in: int = 0

    def rates(self) -> dict[str, float | int]:
        if self.population == 0:
            return {"population_1_july": 0}
        scale = 1000 * 365.25 / self.days / self.population

        def per_mille(count: int) -> float:
            return round(count * scale, 2)

        female_births = self.births - self.male_births
        tfr = (
            sum(b / w for b, w in zip(self.births_by_age, self.women, strict=True) if w)
            * 5
            * 365.25
            / self.days
        )
        return {
            "population_1_july": self.population,
            "births": self.births,
            "deaths": self.deaths,
            "cbr": per_mille(self.births),
            "cdr": per_mille(self.deaths),
            "srb": round(100 * self.male_births / female_births, 1) if female_births else 0.0,
            "tfr": round(tfr, 3),
            "imr": round(1000 * self.infant_deaths / self.births, 1) if self.births else 0.0,
            "cmr": per_mille(self.marriages),
            "divorce_rate": per_mille(self.divorces),
            "moved_out_per_1000": per_mille(self.moved_out),
            "moved_in_per_1000": per_mille(self.moved_in),
        }


def summary_rates(years: list[YearStats]) -> dict[str, Any]:
    return {str(stats.year): stats.rates() for stats in years}
