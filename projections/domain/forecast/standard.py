"""A parametric standard life table, for a unit at the top of the chain (the nation, or
the only unit a registry holds) whose own deaths are too few for a table of their own.

The registry's small units borrow their tables from a larger unit's (Brass relational
logit, `brass.py`); the top unit has none above it. With thousands of deaths a year (a
real nation) its raw table is used. Below MIN_DEATHS_FOR_RAW (a test's or a pilot's
registry) it is fitted to this standard instead: a Gompertz-Makeham force of mortality,
mu(x) = A + B exp(C x), above age 5, and fixed rates at 0 and 1-4, with parameters of
the order of a middle-income country's (e0 about 72 for men and 79 for women). The fit's
two parameters move its level and slope to the unit's deaths, so the standard gives the
shape, not the level; it is a stand-in for a published model table, not data."""

from __future__ import annotations

import math

from projections.domain.forecast.ages import ABRIDGED_STARTS
from projections.domain.forecast.life_table import LifeTable, Sex, life_table

MIN_DEATHS_FOR_RAW = 2000  # deaths of one sex over the window
# (m0, m1-4, A, B, C) by sex
_PARAMETERS: dict[str, tuple[float, float, float, float, float]] = {
    "male": (0.016, 0.0008, 0.0006, 0.000045, 0.093),
    "female": (0.013, 0.0007, 0.0003, 0.000018, 0.098),
}


def standard_table(sex: Sex) -> LifeTable:
    m0, m1, a, b, c = _PARAMETERS[sex]
    mx = [m0, m1]
    for start in ABRIDGED_STARTS[2:]:
        middle = start + 2.5 if start < ABRIDGED_STARTS[-1] else start + 5
        mx.append(a + b * math.exp(c * middle))
    return life_table(ABRIDGED_STARTS, mx, sex)
