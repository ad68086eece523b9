"""The indicator views (`projections/sql/clickhouse/00[1-4]_*.sql`) on real ClickHouse.

chDB runs the ClickHouse engine in this process (one data directory per process, so
one module-scoped warehouse whose tables each test refills). A small hand-built
registry pins the formulas to values worked out by hand; a generated province checks
every indicator, pyramid and rejection count of the views against the pure-Python
reference (`projections/domain/indicator_reference.py`) for communes, the province and the
nation, years, quarters and months, as the units were and mapped onto today's.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from producers.synth import Synth, SynthConfig
from producers.synth.config import (
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from projections.clickhouse_schema import SQL_DIR, migrate, statements
from projections.clickhouse_sink import DERIVED, IndicatorSink
from projections.collaborator_roster import load_roster
from projections.domain.indicator_catalog import (
    COUNTS,
    INDICATORS,
    IndicatorValue,
    Level,
    Period,
    Units,
)
from projections.domain.indicator_formulas import FLOW_PARTS, flow_parts_of, value_of
from projections.domain.indicator_reference import Reference
from projections.domain.indicator_rows import COLUMNS, IndicatorState, Row, fold_all
from projections.domain.record import Record
from projections.domain.recordings import COLUMNS as RECORDING_COLUMNS
from projections.domain.recordings import Member, Recording, recordings
from projections.domain.recordings import member as roster_member
from projections.forecast_backtest import errors, foresee
from projections.indicator_units import commune_rows, load_units, successor, successor_rows
from projections.indicators import (
    GRID_PARTS,
    PARTS,
    flow_grid,
    indicator_grid,
    indicator_values,
    part_queries,
    population_pyramid,
    rejections_by_reason,
    rows_by,
    sent_parameters,
    sent_query,
    stock_grid,
    view_query,
    with_list,
    without_comments,
)
from schemas.admin_units import load
from schemas.models import VIETNAM, Event
from schemas.validation import parse_event
from tests.samples import envelope, person

UNITS = load()
TEAM = ("collaborators_active", "collaborators_mobile_share")
SECRET = b"test-indicators"
COMMUNE, OCCURRED = (COLUMNS["vital_events"].index(c) for c in ("commune_code", "occurred_on"))

# --- the warehouse ---------------------------------------------------------------------


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, date | UUID):
        return str(value)
    return value


class Warehouse:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._held: list[Row] | None = None  # what the tables hold, if a list given to hold()

    def hold(self, rows: list[Row]) -> None:
        """Make the indicator tables hold exactly `rows`."""
        if rows is self._held:
            return
        IndicatorSink(self.client, "tests", "tests").clear()
        self.add(rows)
        self._held = rows

    def changed(self) -> None:
        """The tables were changed behind `hold`'s back."""
        self._held = None

    def hold_team(self, recorded: list[Recording], roster: list[Member]) -> None:
        """Make the recordings and the roster hold exactly these."""
        IndicatorSink(self.client, "tests", "tests").clear_recordings()
        if recorded:
            self.client.insert("popreg.recordings", recorded, list(RECORDING_COLUMNS))
        load_roster(self.client, roster)

    def add(self, rows: Iterable[Row]) -> None:
        self._held = None
        by_table: dict[str, list[str]] = {}
        for table, values in rows:
            line = dict(zip(COLUMNS[table], map(json_value, values), strict=True))
            by_table.setdefault(table, []).append(json.dumps(line))
        for table, lines in by_table.items():
            columns = ", ".join(COLUMNS[table])
            self.client.command(
                f"INSERT INTO popreg.{table} ({columns}) FORMAT JSONEachRow\n" + "\n".join(lines)
            )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    try:
        assert {"002_units", "003_indicator_views"} <= set(migrate(client))
        load_units(client, UNITS)
        yield Warehouse(client)
    finally:
        client.close()


def folded(events: list[Event]) -> IndicatorState:
    return fold_all([Record(0, i, e, None, None) for i, e in enumerate(events)], UNITS, SECRET)


def values(found: list[IndicatorValue]) -> dict[str, float]:
    assert [v.indicator for v in found] == [name for name, _ in INDICATORS]
    return {v.indicator: v.value for v in found}


# --- a registry small enough to work out by hand ---------------------------------------

A = "32014"  # two Cà Mau communes before the reform
B = "32002"
ELSEWHERE = "00004"  # a Hà Nội commune
BASELINE = "2024-01-01"
_numbers = itertools.count(50_000)


def event(
    kind: str,
    household: str,
    day: str,
    *,
    commune: str = A,
    recorded: str | None = None,
    channel: str = "MOBILE",
    **fields: Any,
) -> Event:
    """An event on `day`, recorded at 10:00 in Vietnam on `recorded` (default: that day)."""
    env = envelope(next(_numbers), day, household_id=household, commune_code=commune)
    env["channel"] = channel
    if recorded is not None:
        env["recorded_at"] = f"{recorded}T03:00:00.000Z"
    return parse_event({"type": kind, "envelope": env, **fields})


def household(hid: str, head: str, commune: str = A) -> Event:
    return event(
        "HouseholdEnumerated",
        hid,
        BASELINE,
        commune=commune,
        address="Ấp 1",
        head_person_id=head,
        member_count=1,
    )


def member(
    pid: str,
    hid: str,
    sex: str,
    born: str,
    marital: str,
    *,
    relation: str = "OTHER_RELATIVE",
    spouse: str | None = None,
    commune: str = A,
) -> Event:
    return event(
        "PersonEnumerated",
        hid,
        BASELINE,
        commune=commune,
        person=person(pid, sex=sex, birth_date=born, marital_status=marital, national_id=None),
        relation_to_head=relation,
        spouse_id=spouse,
    )


def birth(child: str, sex: str, mother: str, hid: str, day: str, **how: Any) -> Event:
    newborn = person(
        child, sex=sex, birth_date=day, marital_status="NEVER_MARRIED", national_id=None
    )
    return event("BirthRegistered", hid, day, child=newborn, mother_id=mother, birth_order=1, **how)


def death(pid: str, hid: str, day: str, age: int, **how: Any) -> Event:
    return event(
        "DeathRegistered",
        hid,
        day,
        person_id=pid,
        date_of_death=day,
        age_at_death=age,
        place="HOME",
        **how,
    )


def hand_events() -> list[Event]:
    """14 people on 2024-01-01 (A: households H1, H2; B: H3), then a year of events.

    Residents on 2024-07-01 (P = 17) and their ages then:
      H1  A1 M 34 married, A2 F 27 married, A3 F 17 single, A4 M 74 widowed, A5 F 4,
          K3 M 0 (born 2024-05-01; K1, born 2024-03-01, died 2024-06-01)
      H2  B1 F 22 single, B2 F 32, B3 F 36, B4 F 42, B5 F 47 divorced, B6 F 52 (married),
          D1 M 44, D2 F 43 (moved in from Hà Nội on 2024-04-01)
      H3  C1 M 64, C2 F 62 (married), C3 M 25 single
    After it: A1/A2 divorce, B1 marries C3 (who moves to H2), K2 is born to B2 (33),
    A4 dies, C1 moves to commune A, A3 and K3 move abroad; an unknown person's death
    is rejected.
    """
    return [
        household("H1", "A1"),
        member("A1", "H1", "MALE", "1990-03-01", "MARRIED", relation="HEAD", spouse="A2"),
        member("A2", "H1", "FEMALE", "1996-08-10", "MARRIED", relation="SPOUSE", spouse="A1"),
        member("A3", "H1", "FEMALE", "2007-01-15", "NEVER_MARRIED", relation="CHILD"),
        member("A4", "H1", "MALE", "1950-02-01", "WIDOWED", relation="PARENT"),
        member("A5", "H1", "FEMALE", "2020-05-05", "NEVER_MARRIED", relation="CHILD"),
        household("H2", "B1"),
        member("B1", "H2", "FEMALE", "2002-03-03", "NEVER_MARRIED", relation="HEAD"),
        member("B2", "H2", "FEMALE", "1991-07-02", "MARRIED"),
        member("B3", "H2", "FEMALE", "1988-01-01", "MARRIED"),
        member("B4", "H2", "FEMALE", "1982-01-01", "MARRIED"),
        member("B5", "H2", "FEMALE", "1977-01-01", "DIVORCED"),
        member("B6", "H2", "FEMALE", "1972-01-01", "MARRIED"),
        household("H3", "C1", commune=B),
        member(
            "C1", "H3", "MALE", "1960-01-01", "MARRIED", relation="HEAD", spouse="C2", commune=B
        ),
        member(
            "C2", "H3", "FEMALE", "1962-01-01", "MARRIED", relation="SPOUSE", spouse="C1", commune=B
        ),
        member("C3", "H3", "MALE", "1999-01-01", "NEVER_MARRIED", relation="CHILD", commune=B),
        birth("K1", "MALE", "A2", "H1", "2024-03-01", recorded="2024-03-05"),
        event(
            "MovedIn",
            "H2",
            "2024-04-01",
            recorded="2024-04-10",
            person_ids=["D1", "D2"],
            persons=[
                person("D1", sex="MALE", birth_date="1980-01-01", national_id=None),
                person("D2", sex="FEMALE", birth_date="1981-01-01", national_id=None),
            ],
            origin="ANOTHER_COMMUNE",
            origin_commune_code=ELSEWHERE,
        ),
        birth("K3", "MALE", "A3", "H1", "2024-05-01", recorded="2024-05-02"),
        death("K1", "H1", "2024-06-01", 0, recorded="2024-06-20"),
        death("NOBODY", "H1", "2024-05-10", 40, recorded="2024-05-11"),
        event(
            "DivorceRegistered",
            "H1",
            "2024-07-15",
            recorded="2024-07-20",
            spouse_a_id="A1",
            spouse_b_id="A2",
            divorce_date="2024-07-15",
        ),
        event(
            "MarriageRegistered",
            "H2",
            "2024-08-01",
            recorded="2024-08-03",
            channel="WEB",
            spouse_a_id="B1",
            spouse_b_id="C3",
            marriage_date="2024-08-01",
            household_after="H2",
        ),
        birth("K2", "FEMALE", "B2", "H2", "2024-09-01", recorded="2025-01-10", channel="WEB"),
        death("A4", "H1", "2024-10-01", 74, recorded="2024-11-15", channel="BATCH_IMPORT"),
        event(
            "MovedOut",
            "H3",
            "2024-11-01",
            commune=B,
            recorded="2024-11-05",
            person_ids=["C1"],
            destination="ANOTHER_COMMUNE",
            destination_commune_code=A,
        ),
        event(
            "MovedOut",
            "H1",
            "2024-12-01",
            recorded="2024-12-20",
            person_ids=["A3", "K3"],
            destination="ABROAD",
        ),
    ]


@pytest.fixture(scope="module")
def hand_rows() -> list[Row]:
    return list(folded(hand_events()).all_rows())


@pytest.fixture
def hand(warehouse: Warehouse, hand_rows: list[Row]) -> Client:
    warehouse.hold(hand_rows)
    return warehouse.client


def test_province_year_by_hand(hand: Client) -> None:
    v = values(indicator_values(hand, "province", "96", Period.parse("2024")))
    assert v["population_end"] == 14
    assert (v["population_end_male"], v["population_end_female"]) == (3, 11)
    assert v["population_mid"] == 17  # on 1 July
    assert (v["births"], v["deaths"], v["marriages"], v["divorces"]) == (3, 2, 1, 1)
    assert v["crude_birth_rate"] == pytest.approx(3 / 17 * 1000)
    assert v["crude_death_rate"] == pytest.approx(2 / 17 * 1000)
    assert v["natural_increase_rate"] == pytest.approx(1 / 17 * 1000)
    assert v["crude_marriage_rate"] == pytest.approx(1000 / 17)
    assert v["crude_divorce_rate"] == pytest.approx(1000 / 17)
    # women 15-49 on 1 July: A3 17, B1 22, A2 27, B2 32, B3 36, B4 42, D2 43, B5 47
    assert v["general_fertility_rate"] == pytest.approx(3 / 8 * 1000)
    # mothers: A3 17 (15-19, 1 woman), A2 27 (25-29, 1), B2 33 (30-34, 1)
    assert v["asfr_15_19"] == pytest.approx(1000)
    assert v["asfr_20_24"] == 0
    assert v["asfr_25_29"] == pytest.approx(1000)
    assert v["asfr_30_34"] == pytest.approx(1000)
    assert v["asfr_40_44"] == 0  # B4 and D2
    assert v["total_fertility_rate"] == pytest.approx(5 * 3000 / 1000)
    assert v["sex_ratio_at_birth"] == pytest.approx(200)  # K1, K3 boys; K2 a girl
    assert v["infant_mortality_rate"] == pytest.approx(1 / 3 * 1000)  # K1
    assert v["under5_mortality_rate"] == pytest.approx(1 / 3 * 1000)
    # in: D1, D2 from Hà Nội; out: A3, K3 abroad (C1 moved within the province)
    assert (v["in_migrants"], v["out_migrants"]) == (2, 2)
    assert v["in_migration_rate"] == pytest.approx(2 / 17 * 1000)
    assert v["net_migration_rate"] == 0
    # 0-14: A5, K3; 65+: A4; 15-64: the other 14
    assert v["dependency_ratio"] == pytest.approx(3 / 14 * 100)
    assert v["young_dependency_ratio"] == pytest.approx(2 / 14 * 100)
    assert v["old_dependency_ratio"] == pytest.approx(1 / 14 * 100)
    assert v["ageing_index"] == pytest.approx(50)
    assert v["average_household_size"] == pytest.approx(17 / 3)
    # never married on 1 July: A3 (15-19) and B1 (20-24) of one woman each; every woman
    # of 25-29 … 50-54 has married: SMAM = 15 + 5 x (1 + 1) - 50 x 0 = 25
    assert v["smam_female"] == pytest.approx(25)
    assert math.isnan(v["smam_male"])  # no man aged 15-24: no share for those groups
    # recorded in 2024 (K2's birth was recorded in 2025): delays 1 2 4 4 5 9 19 19 45
    assert v["median_registration_delay"] == 5
    assert v["registered_within_30_days_share"] == pytest.approx(8 / 9 * 100)
    assert v["mobile_share"] == pytest.approx(7 / 9 * 100)  # not the marriage, A4's death
    communes = len(UNITS.communes_of_province("96", date(2024, 12, 31)))
    assert v["communes_online_share"] == pytest.approx(100 / communes)  # A, on 20 December


def test_communes_and_nation_by_hand(hand: Client) -> None:
    a = values(indicator_values(hand, "commune", A, Period.parse("2024")))
    assert (a["population_mid"], a["births"]) == (14, 3)
    assert a["crude_birth_rate"] == pytest.approx(3 / 14 * 1000)
    assert (a["in_migrants"], a["out_migrants"]) == (2, 2)
    assert a["average_household_size"] == pytest.approx(14 / 2)
    # 8 events recorded in 2024: delays 1 2 4 5 9 19 19 45: the lower median is the 4th
    assert a["median_registration_delay"] == 5
    assert a["registered_within_30_days_share"] == pytest.approx(7 / 8 * 100)
    assert a["communes_online_share"] == 100

    b = values(indicator_values(hand, "commune", B, Period.parse("2024")))
    assert (b["population_mid"], b["population_end"], b["births"]) == (3, 1, 0)
    assert (b["in_migrants"], b["out_migrants"]) == (0, 1)  # C1, to commune A
    assert math.isnan(b["sex_ratio_at_birth"]) and math.isnan(b["infant_mortality_rate"])
    assert b["communes_online_share"] == 0

    nation = values(indicator_values(hand, "nation", "", Period.parse("2024")))
    assert (nation["in_migrants"], nation["out_migrants"]) == (0, 2)  # only abroad counts


def test_quarters_and_months_are_annualised_around_a_mean_population(hand: Client) -> None:
    q2 = values(indicator_values(hand, "province", "96", Period.parse("2024-Q2")))
    # 15 on 31 March (K1 born), 17 on 30 June (+D1 +D2 +K3 -K1)
    assert q2["population_mid"] == 16
    assert q2["births"] == 1
    assert q2["crude_birth_rate"] == pytest.approx(1 / 16 * 1000 * 4)
    june = values(indicator_values(hand, "province", "96", Period.parse("2024-06")))
    assert june["population_mid"] == (18 + 17) / 2
    assert june["crude_death_rate"] == pytest.approx(1 / 17.5 * 1000 * 12)


def test_pyramid_by_hand(hand: Client) -> None:
    rows = population_pyramid(hand, "province", "96", date(2024, 7, 1))
    assert [r.age_group for r in rows][:3] == ["0-4", "5-9", "10-14"]
    assert rows[-1].age_group == "100+"
    found = {r.age_group: (r.male, r.female, r.unknown) for r in rows if r.male or r.female}
    assert found == {
        "0-4": (1, 1, 0),  # K3, A5
        "15-19": (0, 1, 0),
        "20-24": (0, 1, 0),
        "25-29": (1, 1, 0),  # C3, A2
        "30-34": (1, 1, 0),  # A1, B2 (32: her birthday is on 2 July)
        "35-39": (0, 1, 0),
        "40-44": (1, 2, 0),  # D1; B4, D2
        "45-49": (0, 1, 0),
        "50-54": (0, 1, 0),
        "60-64": (1, 1, 0),
        "70-74": (1, 0, 0),
    }


@pytest.mark.parametrize(
    ("view", "level", "code", "arguments", "values"),
    [
        (
            "indicator_values",
            "province",
            "96",
            "start = {start:Date32}, end = {end:Date32}",
            {"start": date(2024, 1, 1), "end": date(2024, 12, 31)},
        ),
        (
            "population_pyramid",
            "province",
            "96",
            "on_date = {on_date:Date32}",
            {"on_date": date(2024, 7, 1)},
        ),
        (
            "rejections_by_reason",
            "commune",
            A,
            "start = {start:Date32}, end = {end:Date32}",
            {"start": date(2024, 1, 1), "end": date(2024, 12, 31)},
        ),
    ],
)
def test_the_views_answer_as_the_queries_popreg_sends(
    hand: Client, view: str, level: str, code: str, arguments: str, values: dict[str, Any]
) -> None:
    """Analysts call the views; popreg sends their SELECTs (projections/indicators.py)."""
    parameters = {"level": level, "code": code, "units": "as_was"} | values
    called = hand.query(
        f"SELECT * FROM popreg.{view}(level = {{level:String}}, code = {{code:String}},"
        f" units = {{units:String}}, {arguments})",
        parameters=parameters,
    ).result_rows
    sent = hand.query(view_query(view), parameters=parameters).result_rows
    assert called, view
    assert repr(called) == repr(sent)  # repr: NaN (no denominator) equals itself


@pytest.mark.parametrize(
    ("level", "code", "period", "units"),
    [
        ("province", "96", "2024", "as_was"),
        ("commune", A, "2024-Q2", "current"),
        ("commune", B, "2024-06", "as_was"),
        ("nation", "", "2024", "current"),
    ],
)
def test_indicator_values_in_parts_answer_as_the_view(
    hand: Client, level: Level, code: str, period: str, units: Units
) -> None:
    """popreg sends indicator_values in parts and computes the formulas in Python
    (projections/domain/indicator_formulas.py): the same figures as the analysts' view."""
    p = Period.parse(period)
    called = hand.query(
        "SELECT indicator, value, unit FROM popreg.indicator_values(level = {level:String},"
        " code = {code:String}, units = {units:String}, start = {start:Date32},"
        " end = {end:Date32})",
        parameters={"level": level, "code": code, "units": units, "start": p.start, "end": p.end},
    ).result_rows
    sent = indicator_values(hand, level, code, p, units)
    assert [(v.indicator, v.unit) for v in sent] == [(name, unit) for name, _, unit in called]
    assert sum(not math.isnan(v.value) for v in sent) > 20
    for v, (_, value, _) in zip(sent, called, strict=True):
        assert v.value == pytest.approx(value, rel=1e-12, nan_ok=True), v.indicator


def test_the_parts_cover_the_view() -> None:
    """Every CTE of indicator_values but its formulas is in a part; the parts keep the
    view's other WITH items whole (strings, lambdas, arrays with commas)."""
    items, select = with_list(view_query("indicator_values"))
    assert select.startswith("SELECT entry.1 AS indicator")
    ctes = {i.split(" AS (")[0] for i in items if " AS (" in i.split("\n")[0]}
    in_parts = set().union(*(needed for needed, _ in PARTS.values()))
    assert ctes - in_parts == {"figures"}
    assert "[15, 20, 25, 30, 35, 40, 45] AS fertile_groups" in items
    assert with_list("WITH 'a, (b' AS s, f(x, [1, 2]) AS t, c AS (SELECT 1) SELECT s") == (
        ["'a, (b' AS s", "f(x, [1, 2]) AS t", "c AS (SELECT 1)"],
        "SELECT s",
    )
    for query in part_queries().values():
        assert "figures AS (" not in query


def test_rejections_by_hand(hand: Client) -> None:
    (found,) = rejections_by_reason(hand, "commune", A, Period.parse("2024"))
    # accepted in A and recorded in 2024: 13 enumerations and 8 vital events
    assert (found.commune_code, found.reason, found.rejected, found.submitted) == (
        A,
        "unknown_person",
        1,
        22,
    )
    assert found.rate == pytest.approx(100 / 22)
    assert rejections_by_reason(hand, "commune", B, Period.parse("2024")) == []


# --- units across the 2025-07-01 reform ------------------------------------------------

SPLIT = "00688"  # Hà Giang's Phường Quang Trung, split between two new Tuyên Quang communes
CHOSEN, OTHER = "00691", "00694"  # the first by code takes all of its rows


def completed_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_ages_are_completed_years_on_and_around_birthdays(warehouse: Warehouse) -> None:
    """The views' YYYYMMDD arithmetic against the calendar, at the edges of age groups."""
    born = [date(y, m, d) for y in (2010, 2020, 1960, 1925) for m, d in ((7, 1), (7, 2))]
    born += [date(2020, 2, 29), date(2020, 3, 1), date(2020, 2, 28), date(1924, 2, 29)]
    rows = [
        ("population_deltas", (UUID(int=n), A, "MALE", b, "MARRIED", date(2009, 1, 1), 1))
        for n, b in enumerate(born)
    ]
    warehouse.hold(rows)
    client = warehouse.client
    for on in (date(2025, 2, 28), date(2025, 3, 1), date(2024, 2, 29), date(2025, 7, 1)):
        expected = Counter(min(completed_years(b, on) // 5 * 5, 100) for b in born if b <= on)
        pyramid = population_pyramid(client, "nation", "", on)
        assert {r.age_from: r.male for r in pyramid if r.male} == expected, on
    # 2025 is a calendar year: its stocks are those of 1 July, when the first of each pair
    # turns 15, 5, 65 or 100 and the second is a day younger
    found = values(indicator_values(client, "nation", "", Period.parse("2025")))
    ages = [completed_years(b, date(2025, 7, 1)) for b in born]
    young, working, old = (
        sum(lo <= a <= hi for a in ages) for lo, hi in ((0, 14), (15, 64), (65, 200))
    )
    assert (young, working, old) == (6, 2, 4)
    assert found["young_dependency_ratio"] == pytest.approx(young / working * 100, abs=1e-9)
    assert found["old_dependency_ratio"] == pytest.approx(old / working * 100, abs=1e-9)


def test_an_event_recorded_online_at_a_months_end_counts_in_the_next_months_window(
    warehouse: Warehouse,
) -> None:
    """The 30 days to 28 February begin on 30 January: a commune that recorded online
    on 31 January is online for February asked alone, in the grid as in the view."""
    at = datetime(2025, 1, 31, 3, tzinfo=UTC)  # 10:00 in Vietnam
    event = (UUID(int=1), "BirthRegistered", A, date(2025, 1, 20), at, "WEB", 11, 7)
    warehouse.hold([("vital_events", (*event, "MALE", 0, 30, 1, "", "", 1))])
    for month in ("2025-02", "2025-03"):
        period = Period.parse(month)
        grid = indicator_grid(warehouse.client, "nation", [""], [period], "as_was")
        one = indicator_values(warehouse.client, "nation", "", period, "as_was")
        assert repr(grid[("", period)]) == repr(one)
        online = values(one)["communes_online_share"]
        assert (online > 0) == (month == "2025-02"), (month, online)


def edge_days(rng: random.Random, years: range) -> date:
    """A date on a day where popregStockDay coarsens or keeps it: 1, 2, 28, 29-31."""
    while True:
        year, month, day = rng.choice(years), rng.randint(1, 12), rng.choice((1, 2, 28, 29, 30, 31))
        try:
            return date(year, month, day)
        except ValueError:
            continue


# stock dates on the 1st (1 July) and on month ends of 28, 29, 30 and 31 days
EDGE_PERIODS = ("2025", "2024", "2025-02", "2024-02", "2025-03", "2024-Q2", "2025-05", "2025-Q4")


def test_stocks_read_from_coarsened_dates_count_by_the_day(warehouse: Warehouse) -> None:
    """Stocks come from population_stock_deltas, whose dates keep only days 1, 2 and 29
    of the month: against the reference on deltas and birthdays at those edges."""
    rng = random.Random(5)
    born = [edge_days(rng, range(1920, 2025)) for _ in range(3000)]
    born += [date(2020, 2, 29), date(1960, 2, 29), date(1976, 2, 29), date(2010, 3, 1)]
    rows: list[Row] = [
        (
            "population_deltas",
            (
                UUID(int=n),
                A,
                rng.choice(("MALE", "FEMALE")),
                b,
                rng.choice(("NEVER_MARRIED", "MARRIED", "UNKNOWN")),
                max(b, edge_days(rng, range(2023, 2026))),
                rng.choice((1, 1, 1, -1)),
            ),
        )
        for n, b in enumerate(born)
    ]
    rows += [("household_deltas", (UUID(int=n), A, date(2023, 1, 1), 1)) for n in range(900)]
    warehouse.hold(rows)
    reference = Reference(rows, UNITS)
    wrong = {}
    for text in EDGE_PERIODS:
        period = Period.parse(text)
        found = indicator_values(warehouse.client, "commune", A, period)
        if problems := differences(found, reference.indicator_values("commune", A, period)):
            wrong[text] = problems
    # a province's calendar years come from the province sums, birthdays by 1 July
    years = [Period.parse(text) for text in ("2023", "2024", "2025")]
    for units in ("as_was", "current"):
        grid = indicator_grid(warehouse.client, "province", ["96"], years, units)
        for period in years:
            expected = reference.indicator_values("province", "96", period, units)
            if problems := differences(grid[("96", period)], expected):
                wrong[f"province {period} {units}"] = problems
        for on in (date(2024, 7, 1), date(2024, 12, 31), date(2025, 7, 1), date(2025, 12, 31)):
            found = population_pyramid(warehouse.client, "province", "96", on, units)
            if found != reference.population_pyramid("province", "96", on, units):
                wrong[f"pyramid {on} {units}"] = found
    assert not wrong


def test_settle_adds_what_the_derived_tables_lack(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    province_team: tuple[list[Recording], list[Member]],
) -> None:
    """A crash between an insert and its views' leaves a derived table (the deltas or
    events summed) short, or, the insert retried, long: settle makes each its row table
    summed again, and the figures come out as before."""
    rows, reference = province
    warehouse.hold(rows)
    warehouse.hold_team(*province_team)
    warehouse.changed()
    client, sink = warehouse.client, IndicatorSink(warehouse.client, "tests", "tests")
    assert sink.settle() == 0
    held = {}
    for table, missing in DERIVED.items():
        assert client.command(f"SELECT count() FROM popreg.{missing}") == 0, table
        client.command(f"TRUNCATE TABLE popreg.{table}")
        held[table] = client.command(f"SELECT count() FROM popreg.{missing}")
        assert held[table] > 0, table
    # one table long as well as short: a row no delta makes
    client.command(
        "INSERT INTO popreg.population_stock_deltas (commune_code, sex, marital_status,"
        f" birth_key, on_key, delta) VALUES ('{A}', 'MALE', 'MARRIED', '1990-01-02',"
        " '2024-01-01', 7)"
    )
    lacking = {t: client.command(f"SELECT count() FROM popreg.{m}") for t, m in DERIVED.items()}
    assert lacking == {t: n + (t == "population_stock_deltas") for t, n in held.items()}
    assert sink.settle() == sum(lacking.values())
    for table, missing in DERIVED.items():
        assert client.command(f"SELECT count() FROM popreg.{missing}") == 0, table
    for text in ("2025", "2024-Q3"):
        period = Period.parse(text)
        found = indicator_values(client, "province", "96", period)
        assert not differences(found, reference.indicator_values("province", "96", period))
        grid = indicator_grid(client, "province", ["96"], [period], "as_was")[("96", period)]
        assert not differences(grid, reference.indicator_values("province", "96", period))


def test_split_commune_maps_onto_one_successor(warehouse: Warehouse) -> None:
    link = successor(UNITS, SPLIT)
    assert link is not None and link.new_code == CHOSEN
    assert {s.new_code for s in UNITS.successors(SPLIT)} == {CHOSEN, OTHER}
    events = [
        household("M1", "Ma", commune=SPLIT),
        member("Ma", "M1", "FEMALE", "1980-01-01", "MARRIED", relation="HEAD", commune=SPLIT),
        member("Mb", "M1", "MALE", "1978-01-01", "MARRIED", relation="SPOUSE", commune=SPLIT),
        # reported in the other successor; the household keeps its old code in the stock
        death("Mb", "M1", "2025-09-01", 47, commune=OTHER),
    ]
    warehouse.hold(list(folded(events).all_rows()))
    client = warehouse.client

    def population(level: Level, code: str, on: str, units: Units) -> int:
        rows = population_pyramid(client, level, code, date.fromisoformat(on), units)
        return sum(r.male + r.female + r.unknown for r in rows)

    assert population("commune", SPLIT, "2024-12-31", "as_was") == 2
    assert population("province", "02", "2024-12-31", "as_was") == 2
    assert population("commune", CHOSEN, "2024-12-31", "as_was") == 0  # old 00691: nobody
    assert population("commune", CHOSEN, "2024-12-31", "current") == 2
    assert population("province", "08", "2024-12-31", "current") == 2
    assert population("commune", CHOSEN, "2025-12-31", "as_was") == 1
    assert population("commune", OTHER, "2025-12-31", "as_was") == 0
    assert population("province", "08", "2025-12-31", "as_was") == 1
    assert population("nation", "", "2025-12-31", "as_was") == 1
    deaths = {
        code: values(indicator_values(client, "commune", code, Period.parse("2025")))["deaths"]
        for code in (CHOSEN, OTHER)
    }
    assert deaths == {CHOSEN: 0, OTHER: 1}  # an event counts where it was reported


def test_units_load_idempotently(warehouse: Warehouse) -> None:
    load_units(warehouse.client, UNITS)
    counts = dict(
        warehouse.client.query(
            "SELECT regime, count() FROM popreg.communes GROUP BY regime"
        ).result_rows
    )
    assert counts == {"before": len(UNITS.before), "after": len(UNITS.after)}
    assert len(commune_rows(UNITS)) == len(UNITS.before) + len(UNITS.after)
    (successors,) = warehouse.client.query(
        "SELECT count() FROM popreg.commune_successor"
    ).result_rows[0]
    without = [code for code in UNITS.before if not UNITS.successors(code)]
    assert successors == len(successor_rows(UNITS)) == len(UNITS.before) - len(without)


# --- a generated province against the reference -----------------------------------------

SYNTH = SynthConfig(
    "96",
    600,
    2016,
    2025,
    7,
    datetime(2026, 3, 1, tzinfo=UTC),
    error_rate=0.02,
    void_rate=REALISTIC_VOID_RATE,
    amend_rate=REALISTIC_AMEND_RATE,
    crossing_rate=REALISTIC_CROSSING_RATE,
)
PERIODS = ("2016", "2020", "2020-Q1", "2024-02", "2024-Q3", "2025", "2025-Q2", "2025-Q3", "2025-08")


@pytest.fixture(scope="module")
def synthetic_events() -> list[Event]:
    return list(Synth(SYNTH, UNITS).events())


@pytest.fixture(scope="module")
def province(synthetic_events: list[Event]) -> tuple[list[Row], Reference]:
    rows = list(folded(synthetic_events).all_rows())
    return rows, Reference(rows, UNITS, *team(synthetic_events))


@pytest.fixture(scope="module")
def province_team(synthetic_events: list[Event]) -> tuple[list[Recording], list[Member]]:
    return team(synthetic_events)


def team(events: list[Event]) -> tuple[list[Recording], list[Member]]:
    """Who recorded the events, and a roster of the collaborators who recorded from the
    reform on (their commune, today's): enrolled on 2025-07-01, every third revoked on
    2025-11-20, and two who never recorded anything."""
    reporters = sorted(
        {  # one account each, under the commune of its first such event
            e.envelope.reporter_id: e.envelope.commune_code
            for e in reversed(events)
            if e.envelope.occurred_on >= date(2025, 7, 1)
        }.items()
    )
    enrolled = datetime(2025, 7, 1, 1, tzinfo=UTC)
    revoked = datetime(2025, 11, 20, 3, tzinfo=UTC)
    idle = [("ctv-idle-1", reporters[0][1]), ("ctv-idle-2", reporters[-1][1])]
    roster = [
        roster_member(SECRET, reporter, commune, enrolled, revoked if n % 3 == 0 else None)
        for n, (reporter, commune) in enumerate([*reporters, *idle])
    ]
    return recordings(list(events), SECRET), roster


def busiest_communes(rows: list[Row]) -> dict[str, str]:
    """Communes with the most events: an old one, its successor, and a split one's."""
    old = Counter(
        fields[COMMUNE]
        for table, fields in rows
        if table == "vital_events" and fields[OCCURRED] < date(2025, 7, 1)
    )
    busiest = old.most_common(1)[0][0]
    split = next(c for c, _ in old.most_common() if len(UNITS.successors(c)) > 1)
    chosen = {code: successor(UNITS, code) for code in (busiest, split)}
    assert all(link is not None for link in chosen.values())
    return {
        "old": busiest,
        "new": chosen[busiest].new_code,
        "split_successor": chosen[split].new_code,
    }


def differences(sql: list[IndicatorValue], ref: list[IndicatorValue]) -> list[str]:
    """Indicators whose values differ: counts exactly, ratios beyond 1e-9."""
    assert [(v.indicator, v.unit) for v in sql] == list(INDICATORS)
    assert [(v.indicator, v.unit) for v in ref] == list(INDICATORS)
    found = []
    for s, r in zip(sql, ref, strict=True):
        if math.isnan(s.value) and math.isnan(r.value):
            continue
        exact = s.indicator in COUNTS
        if (s.value != r.value) if exact else not math.isclose(s.value, r.value, rel_tol=1e-9):
            found.append(f"{s.indicator}: sql {s.value!r}, reference {r.value!r}")
    return found


@pytest.mark.parametrize("units", ["as_was", "current"])
@pytest.mark.parametrize("which", ["province", "nation", "old", "new", "split_successor"])
def test_generated_province_equals_reference(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    province_team: tuple[list[Recording], list[Member]],
    which: str,
    units: Units,
) -> None:
    rows, reference = province
    warehouse.hold(rows)
    warehouse.hold_team(*province_team)
    level: Level = "commune"
    code = busiest_communes(rows).get(which, "")
    if which == "province":
        level, code = "province", "96"
    elif which == "nation":
        level = "nation"
    wrong = {}
    for text in PERIODS:
        period = Period.parse(text)
        found = indicator_values(warehouse.client, level, code, period, units)
        expected = reference.indicator_values(level, code, period, units)
        if problems := differences(found, expected):
            wrong[text] = problems
    assert not wrong, f"{level} {code} {units}: {wrong}"


def grid_cases(rows: list[Row]) -> list[tuple[Level, list[str], list[str]]]:
    """(level, the units asked for together, those among them checked one by one): the
    province's communes before and after the reform (the busiest, a split one's
    successor, one without events), the provinces of both times, the nation."""
    busiest = busiest_communes(rows)
    old = [c.code for c in UNITS.communes_of_province("96", date(2025, 6, 30))]
    new = sorted({c.code for c in UNITS.communes_of_province("96", date(2025, 7, 1))})
    touched = {fields[COMMUNE] for table, fields in rows if table == "vital_events"}
    quiet = next(c for c in old if c not in touched)
    provinces = sorted({c.province_code for c in [*UNITS.before.values(), *UNITS.after.values()]})
    return [
        ("commune", old, [busiest["old"], quiet]),
        ("commune", new, [busiest["new"], busiest["split_successor"]]),
        ("province", provinces, ["96", "01"]),
        ("nation", [""], [""]),
    ]


# calendar years alone: a province's and the nation's stocks come from the province sums
YEARS = ("2015", "2016", "2020", "2024", "2025")


@pytest.mark.parametrize("units", ["as_was", "current"])
@pytest.mark.parametrize("chosen", [PERIODS, YEARS], ids=["periods", "years"])
def test_the_grid_answers_each_cell_as_indicator_values(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    province_team: tuple[list[Recording], list[Member]],
    units: Units,
    chosen: tuple[str, ...],
) -> None:
    """A map's units or a unit's years in one `indicator_grid` (004_indicator_grid.sql):
    each cell the figures `indicator_values` gives for that unit and period, to the bit,
    on a generated province with corrections and late registrations."""
    rows, _ = province
    warehouse.hold(rows)
    warehouse.hold_team(*province_team)
    periods = [Period.parse(text) for text in chosen]
    wrong, compared = {}, 0
    for level, codes, checked in grid_cases(rows):
        grid = indicator_grid(warehouse.client, level, codes, periods, units)
        assert set(grid) == {(c, p) for c in codes for p in periods}, level
        for code, period in itertools.product(checked, periods):
            one = indicator_values(warehouse.client, level, code, period, units)
            cell = grid[(code, period)]
            compared += sum(not math.isnan(v.value) for v in one)
            if repr(cell) != repr(one):  # repr: NaN (no denominator) equals itself
                wrong[(level, code, str(period.start), str(period.end))] = [
                    f"{a.indicator}: grid {a.value!r}, one {b.value!r}"
                    for a, b in zip(cell, one, strict=True)
                    if repr(a) != repr(b)
                ]
    assert not wrong, wrong
    assert compared > 150 * len(periods)  # real figures, not NaN against NaN


def test_the_flows_alone_answer_as_the_grid(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    province_team: tuple[list[Recording], list[Member]],
) -> None:
    """A monthly chart's flows without the stocks: the same counts as the whole grid."""
    rows, _ = province
    warehouse.hold(rows)
    warehouse.hold_team(*province_team)
    months = [Period.parse(f"2024-{m:02d}") for m in range(1, 13)]
    new = sorted({c.code for c in UNITS.communes_of_province("96", date(2025, 7, 1))})
    whole = indicator_grid(warehouse.client, "commune", new, months, "current")
    flows = flow_grid(warehouse.client, "commune", new, months, "current")
    assert set(flows) == set(whole)
    compared = 0
    for cell, figures in whole.items():
        by_name = values(figures)
        for name in ("births", "deaths", "in_migrants", "out_migrants"):
            assert flows[cell][name] == by_name[name], (cell, name)
            compared += flows[cell][name]
    assert compared > 0


@pytest.mark.parametrize("units", ["as_was", "current"])
def test_one_indicator_from_the_parts_it_reads_is_the_grids(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    province_team: tuple[list[Recording], list[Member]],
    units: Units,
) -> None:
    """A map asks for one indicator: the stocks, and only the flow parts it reads
    (`flow_parts_of`, sent without the others): each unit's value as in the whole grid."""
    rows, _ = province
    warehouse.hold(rows)
    warehouse.hold_team(*province_team)
    compared = 0
    for level, codes, _ in grid_cases(rows):
        for period in (Period.parse("2024"), Period.parse("2025-11")):
            whole = indicator_grid(warehouse.client, level, codes, [period], units)
            stocks = stock_grid(warehouse.client, level, codes, [period], units)
            by_parts = {
                parts: flow_grid(warehouse.client, level, codes, [period], units, parts)
                for parts in {flow_parts_of(name) for name, _ in INDICATORS} - {()}
            }
            for name, _ in INDICATORS:
                parts = flow_parts_of(name)
                for code in codes:
                    cell = (code, period)
                    flows = by_parts[parts][cell] if parts else {}
                    if parts:  # nothing of the parts not read
                        assert set(flows) == {"unit", "period"} | {
                            c for p in parts for c in FLOW_PARTS[p]
                        }
                    one = value_of(name, stocks[cell] | flows, period)
                    expected = values(whole[cell])[name]
                    assert repr(one) == repr(expected), (level, code, str(period.start), name)
                    compared += not math.isnan(one) and one != 0
    assert compared > 1000


@pytest.mark.parametrize("level", ["province", "commune"])
@pytest.mark.parametrize("chosen", [("2024", "2025-Q3"), ("2024", "2025")])
def test_the_grid_views_answer_as_the_queries_popreg_sends(
    warehouse: Warehouse,
    province: tuple[list[Row], Reference],
    chosen: tuple[str, str],
    level: Level,
) -> None:
    """Analysts call the views, which derive the stock dates themselves; popreg sends
    them computed (`sent_query`): the same rows, whichever rows answer (the province
    sums or the communes' year sums for calendar years, else the rows by commune)."""
    warehouse.hold(province[0])
    periods = [Period.parse(text) for text in chosen]
    busiest = busiest_communes(province[0])
    codes = ["96", "01"] if level == "province" else [busiest["split_successor"], busiest["new"]]
    parameters = {
        "level": level,
        "codes": codes,
        "units": "current",
        "starts": [p.start for p in periods],
        "ends": [p.end for p in periods],
    }
    for view in GRID_PARTS:
        called = warehouse.client.query(
            f"SELECT * FROM popreg.{view}(level = {{level:String}},"
            " codes = {codes:Array(String)}, units = {units:String},"
            " starts = {starts:Array(Date32)}, ends = {ends:Array(Date32)})",
            parameters=parameters,
        ).result_rows
        sent = warehouse.client.query(
            sent_query(view, rows_by(view, level, periods)),
            parameters=parameters | sent_parameters(view, level, periods),
        ).result_rows
        first, second = sorted(codes)
        assert [row[:2] for row in called] == [(first, 1), (first, 2), (second, 1), (second, 2)]
        assert repr(called) == repr(sent)
        assert any(v for row in called for v in row[2:] if isinstance(v, int)), view  # not zeros
    with pytest.raises(ValueError, match="no rows by"):
        sent_query(GRID_PARTS[1], "commune_years")  # the flows have no year sums


def test_the_grid_refuses_bad_arguments(warehouse: Warehouse) -> None:
    year = [Period.parse("2024")]
    with pytest.raises(ValueError, match="at least one unit"):
        indicator_grid(warehouse.client, "province", [], year)
    with pytest.raises(ValueError, match="level is one of"):
        indicator_grid(warehouse.client, "district", ["964"], year)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="a period runs from the first day"):
        indicator_grid(
            warehouse.client, "nation", [""], [Period(date(2024, 1, 2), date(2024, 1, 31))]
        )


def test_queries_by_recording_time_consult_the_recording_time_index(
    warehouse: Warehouse, province: tuple[list[Row], Reference]
) -> None:
    rows, _ = province
    warehouse.hold(rows)
    plan = warehouse.client.command(
        "EXPLAIN indexes = 1 SELECT count() FROM popreg.vital_events"
        " WHERE recorded_at >= toDateTime64('2025-12-01', 3, 'UTC')"
    )
    text = plan if isinstance(plan, str) else "\n".join(map(str, plan))
    assert "Skip" in text and "recorded_at_minmax" in text, text


def test_generated_province_is_not_trivial(province: tuple[list[Row], Reference]) -> None:
    """The comparisons above see real figures, and the two readings of units differ."""
    rows, reference = province
    year = values(reference.indicator_values("province", "96", Period.parse("2024")))
    for name in ("births", "deaths", "marriages", "in_migrants", "out_migrants"):
        assert year[name] > 0, name
    for name, _ in INDICATORS:
        if name not in TEAM:  # the collaborators' accounts begin with the reform
            assert not math.isnan(year[name]), name
    after_reform = values(reference.indicator_values("province", "96", Period.parse("2025")))
    assert after_reform["collaborators_active"] > 2
    assert 0 < after_reform["collaborators_mobile_share"] < 100
    new = busiest_communes(rows)["new"]
    as_was, current = (
        values(reference.indicator_values("commune", new, Period.parse("2024"), units))
        for units in ("as_was", "current")
    )
    assert as_was["population_mid"] != current["population_mid"]
    after = values(reference.indicator_values("province", "96", Period.parse("2025-Q4")))
    assert after["population_end"] > 0 and after["births"] > 0


@pytest.mark.parametrize("units", ["as_was", "current"])
def test_generated_pyramids_equal_reference(
    warehouse: Warehouse, province: tuple[list[Row], Reference], units: Units
) -> None:
    rows, reference = province
    warehouse.hold(rows)
    communes = busiest_communes(rows)
    places: list[tuple[Level, str]] = [
        ("province", "96"),
        ("nation", ""),
        ("commune", communes["old"]),
        ("commune", communes["new"]),
    ]
    for level, code in places:
        for on in (date(2016, 1, 1), date(2021, 7, 1), date(2025, 6, 30), date(2025, 12, 31)):
            found = population_pyramid(warehouse.client, level, code, on, units)
            assert found == reference.population_pyramid(level, code, on, units), (level, code, on)
            assert len(found) == 21
            if level == "province":
                assert sum(r.male + r.female for r in found) > 0


@pytest.mark.parametrize("units", ["as_was", "current"])
def test_generated_rejections_equal_reference(
    warehouse: Warehouse, province: tuple[list[Row], Reference], units: Units
) -> None:
    rows, reference = province
    warehouse.hold(rows)
    old = busiest_communes(rows)["old"]
    for level, code in (("nation", ""), ("province", "96"), ("commune", old)):
        for text in ("2016", "2020", "2025", "2025-Q3"):
            period = Period.parse(text)
            found = rejections_by_reason(warehouse.client, level, code, period, units)
            expected = reference.rejections_by_reason(level, code, period, units)
            assert [(r.commune_code, r.reason, r.rejected, r.submitted) for r in found] == [
                (r.commune_code, r.reason, r.rejected, r.submitted) for r in expected
            ], (level, code, text)
            for f, e in zip(found, expected, strict=True):
                assert math.isclose(f.rate, e.rate, rel_tol=1e-9), (level, code, text, f, e)
    everything = Period(date(2016, 1, 1), date(2025, 12, 31))
    assert rejections_by_reason(warehouse.client, "nation", "", everything, units)


def test_a_voided_birth_leaves_its_month(
    warehouse: Warehouse, synthetic_events: list[Event]
) -> None:
    state = folded(synthetic_events)
    warehouse.hold(list(state.all_rows()))
    birth_id = next(
        fields[0]
        for table, fields in state.all_rows()
        if table == "vital_events"
        and fields[1] == "BirthRegistered"
        and fields[OCCURRED].year == 2023
    )
    target = next(e for e in synthetic_events if e.envelope.event_id == birth_id)
    month = Period.parse(f"{target.envelope.occurred_on:%Y-%m}")

    def births() -> float:
        return values(indicator_values(warehouse.client, "province", "96", month))["births"]

    before = births()
    void = parse_event(
        {
            "type": "EventVoided",
            "envelope": envelope(
                next(_numbers),
                "2024-01-15",
                household_id=target.envelope.household_id,
                commune_code=target.envelope.commune_code,
            ),
            "target_event_id": str(target.envelope.event_id),
            "reason": "registered twice",
        }
    )
    taken = state.take([Record(0, len(synthetic_events), void, None, None)])
    assert any(fields[-1] < 0 for _, fields in taken.rows)
    warehouse.add(taken.rows)
    assert births() == before - 1
    reference = Reference(list(state.all_rows()), UNITS)
    found = indicator_values(warehouse.client, "province", "96", month)
    assert not differences(found, reference.indicator_values("province", "96", month))


# --- the pieces --------------------------------------------------------------------------


def test_periods() -> None:
    year, quarter, month = (Period.parse(t) for t in ("2025", "2025-Q3", "2024-02"))
    assert (year.start, year.end, year.annualisation, year.mid_dates) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
        1,
        (date(2025, 7, 1),),
    )
    assert (quarter.start, quarter.end, quarter.annualisation) == (
        date(2025, 7, 1),
        date(2025, 9, 30),
        4,
    )
    assert quarter.mid_dates == (date(2025, 6, 30), date(2025, 9, 30))
    assert (month.end, month.annualisation) == (date(2024, 2, 29), 12)
    assert Period.parse("2025-Q4").end == date(2025, 12, 31)
    for bad in ("2025-13", "2025-Q5", "25", "2025-7"):
        with pytest.raises(ValueError):
            Period.parse(bad)


def test_views_refuse_bad_arguments(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError):
        indicator_values(warehouse.client, "district", "964", Period.parse("2024"))
    with pytest.raises(Exception, match="a period runs from the first day"):
        indicator_values(
            warehouse.client, "nation", "", Period(date(2024, 1, 2), date(2024, 1, 31))
        )


def test_migration_files_split_into_statements() -> None:
    for path in sorted(SQL_DIR.glob("*.sql")):
        for statement in statements(path.read_text(encoding="utf-8")):
            code = "\n".join(
                line for line in statement.splitlines() if not line.lstrip().startswith("--")
            )
            assert code.strip().startswith(("CREATE", "ALTER", "DROP")), (
                path.name,
                statement[:200],
            )


def test_queries_are_sent_without_their_comments() -> None:
    sql = "SELECT '--kept', \"a--b\" -- gone\n\n  -- gone too\n  , 'it\\'s -- kept' -- gone"
    assert without_comments(sql) == "SELECT '--kept', \"a--b\"\n  , 'it\\'s -- kept'"
    for view in ("indicator_values", *GRID_PARTS, "population_pyramid", "rejections_by_reason"):
        assert "--" not in view_query(view), view


# --- forecasts back-tested ----------------------------------------------------------------

BACKTEST = SynthConfig(
    "96",
    500,
    2011,
    2025,
    17,
    datetime(2026, 3, 1, tzinfo=UTC),
    error_rate=0.02,
    void_rate=REALISTIC_VOID_RATE,
    amend_rate=REALISTIC_AMEND_RATE,
    crossing_rate=REALISTIC_CROSSING_RATE,
)
BACKTEST_BASE = date(2020, 12, 31)


def test_a_forecast_from_2020_as_known_then_against_the_registry_now(
    warehouse: Warehouse,
) -> None:
    """Issue 33's back-test on a generated province (fifteen years, 500 households at the
    start): projected from 31 December 2020 with what had been recorded by then, then
    compared with what the registry holds for 2021-2025 once every event is in."""
    events = list(Synth(BACKTEST, UNITS).events())
    cutoff = datetime(2021, 1, 1, tzinfo=VIETNAM)
    then = [e for e in events if e.envelope.recorded_at < cutoff]
    assert 0 < len(then) < len(events)
    assert any(e.envelope.occurred_on <= BACKTEST_BASE for e in events if e not in then)  # late
    warehouse.hold(list(folded(then).all_rows()))
    foreseen = foresee(warehouse.client, "96", BACKTEST_BASE)
    projected_2025 = foreseen.years[-1]
    assert projected_2025.on == date(2025, 12, 31)
    # the communes, raked, add up to the province at the step
    assert sum(s for _, s in foreseen.communes.values()) == pytest.approx(
        projected_2025.population, abs=1e-6
    )

    warehouse.hold(list(folded(events).all_rows()))
    found = errors(warehouse.client, foreseen)
    assert [e.years for e in found] == [1, 2, 3, 4, 5]
    for e in found:
        assert e.communes >= 30, e
        assert 0 <= e.province_ape < 10, e  # the province's total within 10 %
        assert 0 <= e.age_dissimilarity < 10, e  # under a tenth of people in another group
        assert 0 <= e.communes_mape < 60, e  # small communes: tens of people each
    # the communes' ratios carry their base period's changes: their error grows with time
    assert found[-1].communes_mape > found[0].communes_mape
    for e in found:
        print(f"back-test {e}")  # shown with -s; docs/forecasts.md quotes a run
