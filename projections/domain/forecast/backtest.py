"""Back-testing: how far a projection made from an earlier base lands from what the
registry later holds for the same dates.

Three errors per horizon (years after the base), the measures of the forecasting
literature for population totals and structures (Smith, Tayman & Swanson 2013, ch. 13):

- the absolute percentage error of the province's total, |P - A| / A x 100;
- the mean absolute percentage error of the communes' totals (MAPE), each commune's
  APE weighted alike, so small communes count as much as large ones;
- the index of dissimilarity of the province's age-sex structure, half the sum over the
  five-year groups of both sexes of |share projected - share registered|, in percentage
  points: the share of the population that would have to change group for the two
  structures to agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from projections.domain.forecast.inputs import BySex


@dataclass(frozen=True)
class HorizonError:
    years: int
    province_ape: float
    communes_mape: float
    age_dissimilarity: float
    communes: int  # how many communes the MAPE is over (those with residents registered)


def ape(projected: float, registered: float) -> float:
    """Absolute percentage error; NaN where nobody is registered."""
    return abs(projected - registered) / registered * 100 if registered else math.nan


def dissimilarity(projected: BySex, registered: BySex) -> float:
    """Half the sum of the absolute differences of the age-sex groups' shares, in %."""
    total_p, total_r = projected.total(), registered.total()
    if not total_p or not total_r:
        return math.nan
    cells_p = (*projected.male, *projected.female)
    cells_r = (*registered.male, *registered.female)
    return 50 * sum(abs(p / total_p - r / total_r) for p, r in zip(cells_p, cells_r, strict=True))


def horizon_error(
    years: int,
    province: tuple[BySex, BySex],
    communes: Mapping[str, tuple[float, float]],
) -> HorizonError:
    """The errors `years` after the base: `province` is (projected, registered), each
    commune's entry (projected total, registered total)."""
    apes = [ape(p, r) for p, r in communes.values() if r > 0]
    projected, registered = province
    return HorizonError(
        years=years,
        province_ape=ape(projected.total(), registered.total()),
        communes_mape=sum(apes) / len(apes) if apes else math.nan,
        age_dissimilarity=dissimilarity(projected, registered),
        communes=len(apes),
    )
