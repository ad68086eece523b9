"""Fertility: age-specific rates from the window's births, the TFR, the variants, the sex
ratio at birth.

ASFR(a) = births to mothers of group a / women's person-years in group a: births per
woman per year. TFR = 5 x Σ ASFR: children per woman at these rates. The variants move the
TFR by a whole number of half children and keep the age pattern, as the UN's low and high
variants do ("total fertility 0.5 births below / above the medium variant"; UN Population
Division, World Population Prospects, Definition of projection variants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from projections.domain.forecast.ages import FERTILE_STARTS

Variant = Literal["low", "medium", "high"]
VARIANT_SHIFT: dict[Variant, float] = {"low": -0.5, "medium": 0.0, "high": 0.5}
# The sex ratio at birth when a unit has too few births to measure one: the biological
# norm of about 105 boys per 100 girls. Vietnam's registered ratio is higher (about 112):
# the wiring passes the province's or the nation's measured ratio to small units instead.
DEFAULT_SRB = 1.05
MIN_BIRTHS_FOR_SRB = 1000


@dataclass(frozen=True)
class Fertility:
    """Age-specific fertility rates (births per woman per year) on the fertile groups and
    the sex ratio at birth (male births per female birth)."""

    asfr: tuple[float, ...]
    srb: float
    starts: tuple[int, ...] = FERTILE_STARTS

    def __post_init__(self) -> None:
        if len(self.asfr) != len(self.starts):
            raise ValueError("one rate per fertile group")
        if min(self.asfr) < 0 or self.srb <= 0:
            raise ValueError("negative fertility or a non-positive sex ratio")

    @property
    def tfr(self) -> float:
        """Total fertility rate: children per woman."""
        return 5 * sum(self.asfr)

    def with_tfr(self, tfr: float) -> Fertility:
        """The same age pattern scaled to another TFR (at least 0)."""
        if self.tfr == 0:
            raise ValueError("no fertility to scale")
        factor = max(tfr, 0.0) / self.tfr
        return replace(self, asfr=tuple(f * factor for f in self.asfr))

    def variant(self, name: Variant) -> Fertility:
        return self.with_tfr(self.tfr + VARIANT_SHIFT[name])

    def on_grid(self, starts: Sequence[int]) -> tuple[float, ...]:
        """The rates on a population grid: zero outside the fertile groups."""
        by_start = dict(zip(self.starts, self.asfr, strict=True))
        if not set(by_start) <= set(starts):
            raise ValueError("the fertile groups are not groups of the grid")
        return tuple(by_start.get(a, 0.0) for a in starts)

    @property
    def female_share(self) -> float:
        """The share of births that are girls: 1 / (1 + SRB)."""
        return 1 / (1 + self.srb)


def fertility_from_window(
    births_by_mother_age: Sequence[float],
    women_exposures: Sequence[float],
    births_male: float,
    births_female: float,
    *,
    srb_fallback: float = DEFAULT_SRB,
    min_births_for_srb: float = MIN_BIRTHS_FOR_SRB,
) -> Fertility:
    """Rates from the window's births and women's person-years by group 15-19 … 45-49.

    The sex ratio is measured from the births when there are at least
    `min_births_for_srb` of them (below that its sampling error is several points:
    the standard error of a ratio near 1.1 from n births is about 2.1/√n), else
    `srb_fallback`."""
    if len(births_by_mother_age) != len(women_exposures):
        raise ValueError("births and exposures on different groups")
    asfr = tuple(
        b / w if w > 0 else 0.0 for b, w in zip(births_by_mother_age, women_exposures, strict=True)
    )
    measured = births_male + births_female >= min_births_for_srb and births_female > 0
    return Fertility(asfr, births_male / births_female if measured else srb_fallback)
