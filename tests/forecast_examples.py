"""Data for tests/test_forecast_method.py: two published worked examples, and a synthetic
province whose rates are known.

Published examples (numbers as printed in the book; transcriptions checked against
the book's own arithmetic by reproducing every printed figure):

- Preston, S. H., Heuveline, P. & Guillot, M. (2001), Demography: Measuring and Modeling
  Population Processes, Oxford: Blackwell. Box 3.1 (p. 49): the period life table of
  Austria, males, 1992 (data: United Nations 1994). Transcribed as in the R package
  demCore (IHME), data-raw, "Example life table from Preston book pg 49".
- The same book, Box 6.2 (ch. 6, "Projection of the female population of Sweden,
  1993-1998, with migration"): Sweden's women in 1993, the female 5Lx (l0 = 100,000),
  the ASFRs, the net female migrants of 1993-1998 by age, sex ratio at birth 1.05; printed
  results: births by mother's age and the women in 1998. Transcribed as in the UN
  Population Division's ccmppWPP (github.com/markalava/ccmppWPP, data-raw/sweden_1993.R),
  whose own test reproduces Box 6.2.
"""

from __future__ import annotations

import math

from projections.domain.forecast.inputs import BySex

# --- Preston et al. (2001), Box 3.1, Austria, males, 1992 -------------------------------
AUSTRIA_STARTS = (0, 1, *range(5, 86, 5))
AUSTRIA_POPULATION = (
    47925, 189127, 234793, 238790, 254996, 326831, 355086, 324222, 269963, 261971,
    238011, 261612, 181385, 187962, 153832, 105169, 73694, 57512, 32248,
)  # fmt: skip
AUSTRIA_DEATHS = (
    419, 70, 36, 46, 249, 420, 403, 441, 508, 769,
    1154, 1866, 2043, 3496, 4366, 4337, 5279, 6460, 6146,
)  # fmt: skip
AUSTRIA_AX = (
    0.068, 1.626, 2.5, 3.143, 2.724, 2.520, 2.481, 2.601, 2.701, 2.663,
    2.698, 2.676, 2.645, 2.624, 2.619, 2.593, 2.518, 2.423, 5.247,
)  # fmt: skip
AUSTRIA_LX = (
    100000, 99133, 98986, 98910, 98815, 98334, 97704, 97151, 96492, 95588,
    94195, 91937, 88711, 83845, 76377, 66225, 53803, 37441, 21134,
)  # fmt: skip
AUSTRIA_DX = (
    867, 147, 76, 95, 481, 630, 553, 659, 904, 1393,
    2258, 3225, 4867, 7467, 10152, 12422, 16362, 16307, 21134,
)  # fmt: skip
AUSTRIA_LLX = (
    99192, 396183, 494741, 494375, 492980, 490106, 487127, 484175, 480384, 474686,
    465777, 452188, 432096, 401480, 357713, 301224, 228404, 145182, 110889,
)  # fmt: skip

# --- Preston et al. (2001), Box 6.2, Sweden, females, 1993 -> 1998 ---------------------
SWEDEN_STARTS = tuple(range(0, 86, 5))  # 0-4 … 80-84, 85+
SWEDEN_WOMEN_1993 = (
    293395, 248369, 240012, 261346, 285209, 314388, 281290, 286923, 304108,
    324946, 247613, 211351, 215140, 221764, 223506, 183654, 141990, 112424,
)  # fmt: skip
SWEDEN_FEMALE_LX = (
    497487, 497138, 496901, 496531, 495902, 495168, 494213, 492760, 490447,
    486613, 480665, 471786, 457852, 436153, 402775, 350358, 271512, 291707,
)  # fmt: skip
SWEDEN_RADIX = 100_000
SWEDEN_ASFR = (
    0,
    0,
    0,
    0.0120,
    0.0908,
    0.1499,
    0.1125,
    0.0441,
    0.0074,
    0.0003,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
)
SWEDEN_NET_FEMALE_MIGRANTS = (
    6840, 4150, 3365, 5270, 9240, 8230, 5470, 3155, 1770,
    1115, 1075, 845, 645, 530, 465, 300, 250, 175,
)  # fmt: skip
SWEDEN_SRB = 1.05
SWEDEN_BIRTHS_BY_MOTHER_AGE = (15244, 126688, 229354, 170057, 63203, 10971, 472)  # 15-19 … 45-49
SWEDEN_WOMEN_1998 = (
    302392, 298682, 252007, 244150, 268267, 293515, 320624, 284767, 288031,
    303166, 322062, 243989, 205841, 205516, 205270, 194771, 142565, 131966,
)  # fmt: skip


# --- A synthetic province whose rates are known ----------------------------------------
def synthetic_mx(
    starts: tuple[int, ...], level: float = 1.0, male: bool = True
) -> tuple[float, ...]:
    """Death rates a year: an infant rate, a childhood trough and a Gompertz rise, close
    to a country with e0 in the low seventies; `level` scales them all."""
    out = []
    for x in starts:
        if x == 0:
            m = 0.018
        elif x == 1:
            m = 0.0012
        else:
            mid = x + 2.5
            m = 0.0004 + 0.00004 * math.exp(0.088 * mid)
        out.append(min(m * level * (1.25 if male else 1.0), 0.9))
    return tuple(out)


SYNTHETIC_ASFR = (0.030, 0.120, 0.110, 0.070, 0.030, 0.008, 0.001)  # TFR 1.845


def synthetic_population(scale: float = 1.0) -> BySex:
    """A young-adult-heavy pyramid on the five-year grid, 21 groups."""
    shape = [
        7.0, 7.2, 7.4, 7.6, 8.0, 8.4, 8.2, 7.8, 7.2, 6.6, 6.0,
        5.4, 4.6, 3.8, 2.9, 2.0, 1.3, 0.7, 0.3, 0.1, 0.02,
    ]  # fmt: skip
    male = tuple(1000 * scale * s for s in shape)
    female = tuple(
        1000 * scale * s * (0.97 if i < 10 else 1.0 + 0.04 * (i - 9)) for i, s in enumerate(shape)
    )
    return BySex(male, female)


def abridged_exposures(population: BySex, years: float) -> BySex:
    """Person-years on the abridged grid from a five-year population held constant:
    0-4 split one fifth to age 0, four fifths to 1-4."""

    def one(p: tuple[float, ...]) -> tuple[float, ...]:
        return (p[0] / 5 * years, p[0] * 4 / 5 * years, *(v * years for v in p[1:]))

    return BySex(one(population.male), one(population.female))
