"""Vietnam's demographic rates and tables that drive the simulation, with their sources.

Figures are rounded approximations of published GSO figures: realistic enough for
synthetic data, not a substitute for official statistics. Rates per 1,000 unless said.
"""

from __future__ import annotations

import math

# Population by 5-year age group (thousands; 0-4, 5-9, ..., 80-84, 85+), approximating
# GSO, "Completed results of the 2019 Viet Nam Population and Housing Census" (2020),
# population by age group and sex.
PYRAMID_2019 = (
    7863, 8045, 6918, 6405, 6888, 7963, 7765, 7551, 6946,
    6261, 5677, 5151, 4059, 2854, 1738, 1133, 854, 1046,
)  # fmt: skip
# Share of men in each of those groups (same census: about 110 boys per 100 girls at
# the youngest ages, women outnumber men from the fifties on).
MALE_SHARE = (
    0.527, 0.524, 0.520, 0.515, 0.510, 0.505, 0.500, 0.500, 0.500,
    0.495, 0.480, 0.470, 0.465, 0.450, 0.430, 0.400, 0.360, 0.300,
)  # fmt: skip
MAX_START_AGE = 100  # oldest age drawn at the baseline


def age_weights() -> list[float]:
    """Weight of each single year of age 0..MAX_START_AGE: 5-year groups split evenly,
    85+ spread with a geometric decline."""
    weights = [PYRAMID_2019[a // 5] / 5 for a in range(85)]
    ratio, span = 0.8, MAX_START_AGE - 84
    top = PYRAMID_2019[-1] * (1 - ratio) / (1 - ratio**span)
    weights += [top * ratio**k for k in range(span)]
    return weights


# Annual probability of dying (per 1,000) by age band: 0, 1-4, 5-9, ..., 95-99, 100+.
# Shaped on GSO's 2019 census life table (life expectancy 71.0 men, 76.3 women; infant
# mortality 14 per 1,000, higher for boys).
_Q_MALE = (
    14.5, 0.9, 0.4, 0.4, 0.9, 1.4, 1.6, 2.0, 2.6, 3.6, 5.2,
    7.8, 11.5, 17.0, 26.0, 40.0, 63.0, 98.0, 155.0, 230.0, 320.0, 450.0,
)  # fmt: skip
_Q_FEMALE = (
    11.5, 0.7, 0.3, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.4, 2.1,
    3.2, 5.0, 8.5, 14.5, 25.0, 43.0, 75.0, 125.0, 200.0, 290.0, 430.0,
)  # fmt: skip
# With the census pyramid the table gives a crude death rate near 7, above the
# registered 6.3-6.5 (GSO 2019-2023): deaths after the first year are scaled down to it.
MORTALITY_SCALE = 0.91
MAX_AGE_SIMULATED = 110  # everyone still alive dies in the year they reach it
# When infant deaths happen (share, first and last day of age): the first week, the
# rest of the first 28 days, the rest of the year (neonatal deaths are about 60% of
# infant deaths in Viet Nam, UN IGME).
INFANT_DEATH_TIMING = ((0.40, 0, 6), (0.20, 7, 27), (0.40, 28, 364))


def _band(age: int) -> int:
    if age == 0:
        return 0
    if age < 5:
        return 1
    return min(2 + (age - 5) // 5, len(_Q_MALE) - 1)


def death_table(female: bool) -> list[float]:
    """Probability of dying within a year, by completed age 0..MAX_AGE_SIMULATED."""
    source = _Q_FEMALE if female else _Q_MALE
    table = [source[0] / 1000]
    table += [MORTALITY_SCALE * source[_band(age)] / 1000 for age in range(1, MAX_AGE_SIMULATED)]
    return [*table, 1.0]


# Age-specific fertility (births per 1,000 women, 15-19 ... 45-49): the 2019 census
# schedule (TFR 2.09) scaled to the recent total fertility rate of about 1.9
# (GSO Population Change and Family Planning Surveys 2021-2023: 1.91-1.96).
ASFR = (32, 113, 116, 76, 34, 8, 1)
FERTILE_AGES = (15, 49)
# Sex ratio at birth, boys per 100 girls (GSO, about 111-112 in 2015-2023).
SRB = 111.0
MALE_BIRTH_SHARE = SRB / (100 + SRB)
# Relative chance of a birth: by the mother's marital state (births outside marriage
# are rare in Viet Nam) and parity (the two-child norm; first births soon after marriage).
UNMARRIED_FERTILITY = 0.04
PARITY_FERTILITY = (1.6, 1.0, 0.3, 0.15)  # parity 0, 1, 2, 3+
MIN_BIRTH_INTERVAL_DAYS = 300
# Some women drawn to give birth leave the province (or die) before the day: drawing
# this many more births keeps the measured rates on the schedule.
BIRTHS_LOST = 1.02


def newborn_id_share(year: int) -> float:
    """Share of newborns given a citizen ID number at birth registration: none before
    2016, most once civil status and the population database were linked (2021-)."""
    return min(0.9, max(0.0, 0.15 * (year - 2016)))


# Crude marriage rate about 7 per 1,000 (~0.6-0.7 M marriages a year for ~100 M people).
CRUDE_MARRIAGE_RATE = 7.0
# Legal minimum ages (Law on Marriage and Family 2014, art. 8): women 18, men 20.
MIN_MARRIAGE_AGE = {"F": 18, "M": 20}
# Relative chance of marrying by age band (women marry at about 23, men at about 27,
# GSO mean age at first marriage), and for those married before.
_MARRIAGE_BANDS = (18, 20, 25, 30, 35, 40, 50, 60)
_MARRIAGE_FEMALE = (0.5, 1.0, 0.75, 0.3, 0.12, 0.05, 0.02, 0.005)
_MARRIAGE_MALE = (0.0, 0.55, 1.0, 0.55, 0.2, 0.08, 0.03, 0.01)
REMARRIAGE_FACTOR = 0.3
# Share of couples who live in the husband's household after marrying (patrilocality).
PATRILOCAL = 0.75


def marriage_weight(female: bool, age: int) -> float:
    if age < MIN_MARRIAGE_AGE["F" if female else "M"]:
        return 0.0
    band = sum(1 for start in _MARRIAGE_BANDS if age >= start) - 1
    return (_MARRIAGE_FEMALE if female else _MARRIAGE_MALE)[band]


# Crude divorce rate about 0.6 per 1,000 (tens of thousands a year, Supreme People's
# Court reports), most often within the first ten years of marriage.
CRUDE_DIVORCE_RATE = 0.6
_DIVORCE_BY_DURATION = ((1, 0.3), (5, 1.5), (10, 1.2), (20, 0.8), (1000, 0.3))
DIVORCE_MOVES_OUT = 0.5  # share of divorces after which one spouse leaves the household


def divorce_weight(years_married: float) -> float:
    return next(weight for limit, weight in _DIVORCE_BY_DURATION if years_married < limit)


# Migration (registered moves of residence: "a few million" a year nationally). Whole
# households move; otherwise a person (with spouse and young children when married),
# mostly young adults leaving for work (2019 census migration by age).
HOUSEHOLD_MOVE_RATE = 0.008
# Yearly chance that an unmarried person moves, from each age on.
_INDIVIDUAL_MOVE = ((15, 0.01), (18, 0.05), (25, 0.04), (30, 0.02), (40, 0.006), (60, 0.003))
MARRIED_MOVE_RATE = 0.012  # per married woman 20-49, moving with her family
# Where movers go: another commune of the province, another province, abroad.
MOVE_DESTINATIONS = (0.40, 0.54, 0.06)
JOIN_EXISTING = 0.4  # single movers who join an existing household rather than found one
IN_MIGRATION_RATE = 0.010  # persons moving in from elsewhere, per person and year
IN_FROM_ABROAD = 0.07
IN_UNIT_TYPES = ((0.65, "single"), (0.15, "couple"), (0.20, "family"))
TO_METROPOLIS = 0.35  # share of moves to another province that go to the big city


def individual_move_rate(age: int) -> float:
    rate = 0.0
    for start, value in _INDIVIDUAL_MOVE:
        if age >= start:
            rate = value
    return rate


# Households: size distribution (2019 census: 1 person 12%, 2: 20%, 3: 21%, 4: 26%,
# 5: 12%, 6+: 9%), tilted to each province's mean size. National mean about 3.6;
# Ca Mau 4.5 (the province popreg is sized for: 287,574 households, 1.296 M people, 2020).
_SIZE_SHARES = (0.12, 0.20, 0.21, 0.26, 0.12, 0.05, 0.025, 0.01, 0.005, 0.003)
MEAN_HOUSEHOLD_SIZE = {"96": 4.5}
DEFAULT_HOUSEHOLD_SIZE = 3.6


def household_size_weights(mean: float) -> list[float]:
    """Size shares (sizes 1..10) exponentially tilted so that their mean is `mean`."""

    def tilted(theta: float) -> list[float]:
        raw = [share * math.exp(theta * size) for size, share in enumerate(_SIZE_SHARES, 1)]
        total = sum(raw)
        return [value / total for value in raw]

    low, high = -5.0, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        if sum(size * share for size, share in enumerate(tilted(mid), 1)) < mean:
            low = mid
        else:
            high = mid
    return tilted((low + high) / 2)


# Ethnic groups by GSO code (Decision 121-TCTK/PPCD, 1979: 01 Kinh, 02 Tay, 03 Thai,
# 04 Hoa, 05 Khmer, 06 Muong, 07 Nung, 08 Hmong, 09 Dao, 10 Gia-rai), shares from the
# 2019 census (smaller groups left out): the nation as the default, and a few
# provinces where it differs most. Weights, normalised when drawn.
_NATIONAL_ETHNICITY = {
    "01": 0.853, "02": 0.019, "03": 0.019, "04": 0.008, "05": 0.014,
    "06": 0.015, "07": 0.011, "08": 0.015, "09": 0.009, "10": 0.005,
}  # fmt: skip
ETHNICITY = {
    "01": {"01": 0.987, "06": 0.006, "02": 0.004, "04": 0.003},
    "79": {"01": 0.935, "04": 0.046, "05": 0.005, "02": 0.014},
    "84": {"01": 0.68, "05": 0.31, "04": 0.01},
    "94": {"01": 0.65, "05": 0.30, "04": 0.05},
    "95": {"01": 0.90, "05": 0.075, "04": 0.025},
    "96": {"01": 0.971, "05": 0.024, "04": 0.005},
}


def ethnicity_shares(province: str) -> dict[str, float]:
    return ETHNICITY.get(province, _NATIONAL_ETHNICITY)


def mean_household_size(province: str) -> float:
    return MEAN_HOUSEHOLD_SIZE.get(province, DEFAULT_HOUSEHOLD_SIZE)
