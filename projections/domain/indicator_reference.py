"""The indicators computed in plain Python over the indicator rows.

The reference the ClickHouse views (`003_indicator_views.sql`) are tested against:
written from the definitions, not from the SQL, sharing with it only `Period` and the
catalogue's constants. It reads every row for every figure, so it suits test-sized
data, not a province.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from projections.domain.indicator_catalog import (
    FERTILE_GROUPS,
    INDICATORS,
    ONLINE_CHANNELS,
    ONLINE_WINDOW_DAYS,
    PYRAMID_TOP,
    SMAM_GROUPS,
    TIMELY_DAYS,
    VITAL_TYPES,
    IndicatorValue,
    Level,
    Period,
    PyramidRow,
    RejectionCount,
    Units,
)
from projections.domain.indicator_rows import COLUMNS, Row
from projections.domain.recordings import Member, Recording
from schemas.admin_units import REFORM_DATE, AdminUnits, LinkKind
from schemas.models import VIETNAM, age_on

NAN = math.nan
Place = tuple[str, str]  # (commune code, province code)
Stock = Counter[tuple[str, int, str]]  # (sex, age, marital status) -> persons


@dataclass(frozen=True)
class _Fact:
    """A row of `vital_events` or `rejections` (`reason` is '' for an accepted event)."""

    event_type: str
    commune_code: str
    occurred_on: date
    recorded_on: date  # in Vietnam
    channel: str
    delay_days: int
    sex: str
    age: int | None
    mother_age: int | None
    persons: int
    other_commune: str
    reason: str
    sign: int


@dataclass(frozen=True)
class _Delta:
    commune_code: str
    on_date: date
    delta: int
    sex: str = ""
    birth_date: date | None = None  # None for a household
    marital_status: str = ""


class Reference:
    """Indicators, pyramids and rejection counts of the rows, placed in `units`' communes."""

    def __init__(
        self,
        rows: Iterable[Row],
        units: AdminUnits,
        recordings: Iterable[Recording] = (),
        roster: Iterable[Member] = (),
    ) -> None:
        self._units = units
        self.recordings = list(recordings)
        self.roster = list(roster)
        self.events: list[_Fact] = []
        self.rejections: list[_Fact] = []
        self.people: list[_Delta] = []
        self.households: list[_Delta] = []
        for table, values in rows:
            row = dict(zip(COLUMNS[table], values, strict=True))
            if table == "vital_events":
                self.events.append(_fact(row, ""))
            elif table == "rejections" and row["occurred_on"] and row["recorded_at"]:
                self.rejections.append(_fact(row, row["reason"]))
            elif table == "population_deltas":
                self.people.append(
                    _Delta(
                        row["commune_code"],
                        row["on_date"],
                        row["delta"],
                        row["sex"],
                        row["birth_date"],
                        row["marital_status"],
                    )
                )
            elif table == "household_deltas":
                self.households.append(_Delta(row["commune_code"], row["on_date"], row["delta"]))
        self._successors = {old: self._successor(old) for old in units.before}

    # --- where a row counts ---------------------------------------------------------

    def _successor(self, old_code: str) -> Place | None:
        """The new commune that takes all of an old commune's rows: the one given all its
        population, else the first by code given part of it, else the first by code."""
        if not self._units.successors(old_code):
            return None

        def rank(kind: LinkKind) -> int:
            if kind.carries_all_population:
                return 0
            return 1 if kind.carries_population else 2

        link = min(self._units.successors(old_code), key=lambda k: (rank(k.kind), k.new_code))
        return link.new_code, self._units.after[link.new_code].province_code

    def place(self, code: str, day: date, reference: date, units: Units) -> Place | None:
        """The commune (and province) a row dated `day` counts in, for a figure about
        `reference` (an event's own date, or a stock's date)."""
        if day >= REFORM_DATE:
            new = self._units.after.get(code)
            # Otherwise a household found before the reform, which keeps its old code.
            return (code, new.province_code) if new else self._successors.get(code)
        if units == "current" or reference >= REFORM_DATE:
            return self._successors.get(code)
        old = self._units.before.get(code)
        return (code, old.province_code) if old else None

    @staticmethod
    def inside(place: Place | None, level: Level, code: str) -> bool:
        if level == "nation":
            return True
        if place is None:
            return False
        return place[0] == code if level == "commune" else place[1] == code

    # --- stocks ---------------------------------------------------------------------

    def residents(self, level: Level, code: str, units: Units, on: date) -> Stock:
        found: Stock = Counter()
        for d in self.people:
            if d.on_date <= on and self.inside(
                self.place(d.commune_code, d.on_date, on, units), level, code
            ):
                assert d.birth_date is not None
                found[(d.sex, age_on(d.birth_date, on), d.marital_status)] += d.delta
        return found

    def households_on(self, level: Level, code: str, units: Units, on: date) -> int:
        return sum(
            d.delta
            for d in self.households
            if d.on_date <= on
            and self.inside(self.place(d.commune_code, d.on_date, on, units), level, code)
        )

    def population_pyramid(
        self, level: Level, code: str, on: date, units: Units = "as_was"
    ) -> list[PyramidRow]:
        by_group: dict[int, Counter[str]] = {g: Counter() for g in range(0, PYRAMID_TOP + 1, 5)}
        for (sex, age, _), persons in self.residents(level, code, units, on).items():
            group = min(age // 5 * 5, PYRAMID_TOP)
            by_group[group][sex if sex in ("MALE", "FEMALE") else "UNKNOWN"] += persons
        return [
            PyramidRow(
                f"{g}+" if g == PYRAMID_TOP else f"{g}-{g + 4}",
                g,
                counts["MALE"],
                counts["FEMALE"],
                counts["UNKNOWN"],
            )
            for g, counts in by_group.items()
        ]

    # --- indicators -----------------------------------------------------------------

    def indicator_values(
        self, level: Level, code: str, period: Period, units: Units = "as_was"
    ) -> list[IndicatorValue]:
        values = self._figures(level, code, period, units)
        return [IndicatorValue(name, float(values[name]), unit) for name, unit in INDICATORS]

    def _figures(self, level: Level, code: str, period: Period, units: Units) -> dict[str, float]:
        stocks = [self.residents(level, code, units, day) for day in period.mid_dates]

        def mid(wanted: Callable[[str, int, str], bool]) -> float:
            """The mid-period number of residents for whom `wanted(sex, age, marital)`."""
            total = sum(n for s in stocks for key, n in s.items() if wanted(*key))
            return total / len(stocks)

        end = self.residents(level, code, units, period.end)
        f: dict[str, float] = {
            "population_end": sum(end.values()),
            "population_end_male": sum(n for (sex, _, _), n in end.items() if sex == "MALE"),
            "population_end_female": sum(n for (sex, _, _), n in end.items() if sex == "FEMALE"),
            "population_mid": mid(lambda sex, age, ms: True),
        }
        p = f["population_mid"]
        year = period.annualisation

        events = [
            e
            for e in self.events
            if period.start <= e.occurred_on <= period.end
            and self.inside(
                self.place(e.commune_code, e.occurred_on, e.occurred_on, units), level, code
            )
        ]

        def of_kind(kind: str) -> list[_Fact]:
            return [e for e in events if e.event_type == kind]

        def count(kind: str) -> int:
            return sum(e.sign for e in of_kind(kind))

        def migrants(kind: str) -> int:
            return sum(
                e.sign * e.persons
                for e in events
                if e.event_type == kind and self._crosses(e, level, code, units)
            )

        births = count("BirthRegistered")
        f |= {
            "births": births,
            "deaths": count("DeathRegistered"),
            "marriages": count("MarriageRegistered"),
            "divorces": count("DivorceRegistered"),
            "in_migrants": migrants("MovedIn"),
            "out_migrants": migrants("MovedOut"),
        }
        for name, numerator in [
            ("crude_birth_rate", births),
            ("crude_death_rate", f["deaths"]),
            ("natural_increase_rate", births - f["deaths"]),
            ("crude_marriage_rate", f["marriages"]),
            ("crude_divorce_rate", f["divorces"]),
            ("in_migration_rate", f["in_migrants"]),
            ("out_migration_rate", f["out_migrants"]),
            ("net_migration_rate", f["in_migrants"] - f["out_migrants"]),
        ]:
            f[name] = _ratio(numerator * 1000 * year, p)

        women = mid(lambda sex, age, ms: sex == "FEMALE" and 15 <= age <= 49)
        f["general_fertility_rate"] = _ratio(births * 1000 * year, women)
        asfr = []
        for g in FERTILE_GROUPS:
            born = sum(e.sign for e in of_kind("BirthRegistered") if _within(e.mother_age, g))
            mothers = sum(
                n
                for s in stocks
                for (sex, age, _), n in s.items()
                if sex == "FEMALE" and _within(age, g)
            )
            asfr.append(_ratio(born * 1000 * year, mothers / len(stocks)))
            f[f"asfr_{g}_{g + 4}"] = asfr[-1]
        f["total_fertility_rate"] = 5 * sum(asfr) / 1000
        f["sex_ratio_at_birth"] = _ratio(
            100 * sum(e.sign for e in of_kind("BirthRegistered") if e.sex == "MALE"),
            sum(e.sign for e in of_kind("BirthRegistered") if e.sex == "FEMALE"),
        )
        for name, limit in (("infant_mortality_rate", 1), ("under5_mortality_rate", 5)):
            died = sum(
                e.sign for e in of_kind("DeathRegistered") if e.age is not None and e.age < limit
            )
            f[name] = _ratio(1000 * died, births)

        young = mid(lambda sex, age, ms: age <= 14)
        working = mid(lambda sex, age, ms: 15 <= age <= 64)
        old = mid(lambda sex, age, ms: age >= 65)
        f["dependency_ratio"] = _ratio(100 * (young + old), working)
        f["young_dependency_ratio"] = _ratio(100 * young, working)
        f["old_dependency_ratio"] = _ratio(100 * old, working)
        f["ageing_index"] = _ratio(100 * old, young)
        homes = [self.households_on(level, code, units, day) for day in period.mid_dates]
        f["average_household_size"] = _ratio(p, sum(homes) / len(homes))
        f["smam_female"] = _smam(stocks, "FEMALE")
        f["smam_male"] = _smam(stocks, "MALE")
        f["communes_online_share"] = self._online_share(level, code, period.end, units)
        f |= self._team(level, code, period.end, units)
        return f | self._registration(level, code, period, units)

    def _crosses(self, e: _Fact, level: Level, code: str, units: Units) -> bool:
        """Whether a move is migration for the unit: its other end is outside it."""
        if not e.other_commune:
            return True  # abroad, or unknown
        if level == "nation":
            return False
        return not self.inside(
            self.place(e.other_commune, e.occurred_on, e.occurred_on, units), level, code
        )

    def _online_share(self, level: Level, code: str, last: date, units: Units) -> float:
        regime = (
            self._units.after if units == "current" or last >= REFORM_DATE else self._units.before
        )
        in_force = {
            c.code
            for c in regime.values()
            if level == "nation" or (c.code if level == "commune" else c.province_code) == code
        }
        first = last - timedelta(days=ONLINE_WINDOW_DAYS - 1)
        net: Counter[str] = Counter()
        for e in self.events:
            if e.channel in ONLINE_CHANNELS and first <= e.recorded_on <= last:
                place = self.place(e.commune_code, e.occurred_on, last, units)
                if place is not None:
                    net[place[0]] += e.sign
        online = sum(1 for commune, n in net.items() if n > 0 and commune in in_force)
        return _ratio(100 * online, len(in_force))

    def _team(self, level: Level, code: str, last: date, units: Units) -> dict[str, float]:
        """The unit's collaborators on `last` (their communes are today's), and the share
        who recorded anything from a phone in the 30 days to it."""
        active = {
            m.collaborator_key
            for m in self.roster
            if m.active_on(last)
            and self.inside(self.place(m.commune_code, REFORM_DATE, last, units), level, code)
        }
        first = last - timedelta(days=ONLINE_WINDOW_DAYS - 1)
        mobile = {
            key
            for _, key, _, channel, at in self.recordings
            if channel == "MOBILE" and first <= at.astimezone(VIETNAM).date() <= last
        }
        return {
            "collaborators_active": len(active),
            "collaborators_mobile_share": _ratio(100 * len(active & mobile), len(active)),
        }

    def _registration(
        self, level: Level, code: str, period: Period, units: Units
    ) -> dict[str, float]:
        """Mobile share and timeliness of the vital events recorded in the period."""
        recorded = [
            e
            for e in self.events
            if e.event_type in VITAL_TYPES
            and period.start <= e.recorded_on <= period.end
            and self.inside(
                self.place(e.commune_code, e.occurred_on, e.occurred_on, units), level, code
            )
        ]
        delays: Counter[int] = Counter()
        for e in recorded:
            delays[e.delay_days] += e.sign
        ordered = sorted((d, n) for d, n in delays.items() if n > 0)
        total = sum(n for _, n in ordered)
        median, seen = NAN, 0
        for delay, n in ordered:
            seen += n
            if 2 * seen >= total:  # the lower median: half of the events or more by here
                median = delay
                break
        return {
            "mobile_share": _ratio(
                100 * sum(e.sign for e in recorded if e.channel == "MOBILE"),
                sum(e.sign for e in recorded),
            ),
            "median_registration_delay": median,
            "registered_within_30_days_share": _ratio(
                100 * sum(n for d, n in ordered if d <= TIMELY_DAYS), total
            ),
        }

    # --- rejections -----------------------------------------------------------------

    def rejections_by_reason(
        self, level: Level, code: str, period: Period, units: Units = "as_was"
    ) -> list[RejectionCount]:
        rejected: Counter[tuple[str, str]] = Counter()
        submitted: Counter[str] = Counter()
        for e in [*self.events, *self.rejections]:
            if not period.start <= e.recorded_on <= period.end:
                continue
            place = self.place(e.commune_code, e.occurred_on, e.occurred_on, units)
            if not self.inside(place, level, code):
                continue
            commune = place[0] if place else e.commune_code
            submitted[commune] += e.sign
            if e.reason:
                rejected[(commune, e.reason)] += e.sign
        return [
            RejectionCount(
                commune, reason, n, submitted[commune], _ratio(100 * n, submitted[commune])
            )
            for (commune, reason), n in sorted(rejected.items())
            if n
        ]


def _fact(row: dict[str, Any], reason: str) -> _Fact:
    recorded: datetime = row["recorded_at"]
    return _Fact(
        event_type=row["event_type"],
        commune_code=row["commune_code"],
        occurred_on=row["occurred_on"],
        recorded_on=recorded.astimezone(VIETNAM).date(),
        channel=row["channel"],
        delay_days=row.get("delay_days", 0),
        sex=row.get("sex", ""),
        age=row.get("age"),
        mother_age=row.get("mother_age"),
        persons=row.get("persons", 0),
        other_commune=row.get("other_commune", ""),
        reason=reason,
        sign=row["sign"],
    )


def _within(age: int | None, group: int) -> bool:
    """Whether an age falls in the five-year group starting at `group`."""
    return age is not None and group <= age < group + 5


def _ratio(numerator: float, denominator: float) -> float:
    return NAN if denominator == 0 else numerator / denominator


def _smam(stocks: list[Stock], sex: str) -> float:
    """Hajnal's singulate mean age at marriage from the never-married share by group."""
    shares = []
    for g in SMAM_GROUPS:
        single = known = 0
        for s in stocks:
            for (who, age, marital), n in s.items():
                if who == sex and g <= age < g + 5 and marital != "UNKNOWN":
                    known += n
                    single += n if marital == "NEVER_MARRIED" else 0
        if known == 0:
            return NAN
        shares.append(single / known)
    at_50 = (shares[-2] + shares[-1]) / 2
    if at_50 == 1:
        return NAN
    return (15 + 5 * sum(shares[:-1]) - 50 * at_50) / (1 - at_50)
