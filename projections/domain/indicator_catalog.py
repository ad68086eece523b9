"""What the indicator views answer: the periods, the indicators in their fixed order and
their units, and the shapes of the answers.

Shared by the query side (`projections/indicators.py`, over the ClickHouse views of
`projections/sql/clickhouse/003_indicator_views.sql`) and the pure-Python reference
(`projections/domain/indicator_reference.py`). The formulas are written in the view (for
analysts), in `projections/domain/indicator_formulas.py` (for popreg, which sends the view's
parts at once) and in the reference, which checks the other two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Level = Literal["commune", "province", "nation"]
Units = Literal["as_was", "current"]  # units in force on the figure's date, or today's
LEVELS: tuple[Level, ...] = ("commune", "province", "nation")
UNITS: tuple[Units, ...] = ("as_was", "current")

# The six event types the programme tracks (sinh, chết, kết hôn, ly hôn, chuyển đến, chuyển đi).
VITAL_TYPES = (
    "BirthRegistered",
    "DeathRegistered",
    "MarriageRegistered",
    "DivorceRegistered",
    "MovedIn",
    "MovedOut",
)
ONLINE_CHANNELS = ("MOBILE", "WEB")
ONLINE_WINDOW_DAYS = 30  # "updated online in the last 30 days": the period's last day and 29 before
TIMELY_DAYS = 30  # registered within 30 days of occurring
FERTILE_GROUPS = (15, 20, 25, 30, 35, 40, 45)  # first ages of the ASFR groups 15-19 … 45-49
SMAM_GROUPS = (*FERTILE_GROUPS, 50)  # Hajnal's SMAM uses 15-19 … 50-54
PYRAMID_TOP = 100  # the pyramid's last group is 100+

INDICATORS: tuple[tuple[str, str], ...] = (
    ("population_end", "persons"),
    ("population_end_male", "persons"),
    ("population_end_female", "persons"),
    ("population_mid", "persons"),
    ("births", "events"),
    ("deaths", "events"),
    ("marriages", "events"),
    ("divorces", "events"),
    ("in_migrants", "persons"),
    ("out_migrants", "persons"),
    ("crude_birth_rate", "per 1000 population a year"),
    ("crude_death_rate", "per 1000 population a year"),
    ("natural_increase_rate", "per 1000 population a year"),
    ("general_fertility_rate", "per 1000 women 15-49 a year"),
    *((f"asfr_{g}_{g + 4}", f"per 1000 women {g}-{g + 4} a year") for g in FERTILE_GROUPS),
    ("total_fertility_rate", "children per woman"),
    ("sex_ratio_at_birth", "male per 100 female births"),
    ("infant_mortality_rate", "per 1000 live births"),
    ("under5_mortality_rate", "per 1000 live births"),
    ("crude_marriage_rate", "per 1000 population a year"),
    ("crude_divorce_rate", "per 1000 population a year"),
    ("in_migration_rate", "per 1000 population a year"),
    ("out_migration_rate", "per 1000 population a year"),
    ("net_migration_rate", "per 1000 population a year"),
    ("dependency_ratio", "per 100 aged 15-64"),
    ("young_dependency_ratio", "per 100 aged 15-64"),
    ("old_dependency_ratio", "per 100 aged 15-64"),
    ("ageing_index", "aged 65+ per 100 aged 0-14"),
    ("average_household_size", "persons per household"),
    ("smam_female", "years"),
    ("smam_male", "years"),
    ("communes_online_share", "percent"),
    ("mobile_share", "percent"),
    ("median_registration_delay", "days"),
    ("registered_within_30_days_share", "percent"),
    ("collaborators_active", "persons"),
    ("collaborators_mobile_share", "percent"),
)
# Whole numbers of persons or events (compared exactly); the rest are ratios.
COUNTS = frozenset(
    {
        "population_end",
        "population_end_male",
        "population_end_female",
        "births",
        "deaths",
        "marriages",
        "divorces",
        "in_migrants",
        "out_migrants",
        "median_registration_delay",
        "collaborators_active",
    }
)

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True)
class Period:
    """A calendar year, quarter or month: `2025`, `2025-Q3`, `2025-07`."""

    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        found = _PERIOD.match(text.strip())
        if found is None:
            raise ValueError(f"a period is YYYY, YYYY-Qn or YYYY-MM, got {text!r}")
        year = int(found["year"])
        if found["quarter"]:
            first, months = 3 * int(found["quarter"]) - 2, 3
        elif found["month"]:
            first, months = int(found["month"]), 1
        else:
            first, months = 1, 12
        following = year * 12 + first - 1 + months  # months since year 0 of the next period
        next_start = date(following // 12, following % 12 + 1, 1)
        return cls(date(year, first, 1), next_start - timedelta(days=1))

    @property
    def months(self) -> int:
        after = self.end + timedelta(days=1)
        return (after.year * 12 + after.month) - (self.start.year * 12 + self.start.month)

    @property
    def annualisation(self) -> float:
        """What a count over the period is multiplied by to be a count a year: 12 / months."""
        return 12 / self.months

    @property
    def calendar_year(self) -> bool:
        return self.months == 12 and (self.start.month, self.start.day) == (1, 1)

    @property
    def mid_dates(self) -> tuple[date, ...]:
        """The stock dates whose mean is the mid-period stock (P and the like): 1 July of
        a calendar year; otherwise the day before the period starts and its last day."""
        if self.calendar_year:
            return (date(self.start.year, 7, 1),)
        return (self.start - timedelta(days=1), self.end)


@dataclass(frozen=True)
class IndicatorValue:
    indicator: str
    value: float  # NaN when a denominator is zero
    unit: str


@dataclass(frozen=True)
class PyramidRow:
    age_group: str  # '0-4' … '95-99', '100+'
    age_from: int
    male: int
    female: int
    unknown: int  # sex UNKNOWN


@dataclass(frozen=True)
class RejectionCount:
    commune_code: str  # the commune it is placed in, or the code as reported if none
    reason: str
    rejected: int
    submitted: int  # events accepted and rejected there in the period
    rate: float  # rejected / submitted, percent
