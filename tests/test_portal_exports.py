"""The portal's exports, pure: tables as CSV and XLSX read back to the same table, and
the annual report's PDF read back as text (`pdftotext`) with its Vietnamese intact."""

from __future__ import annotations

import csv
import io
import math
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from portal.data import Rejection
from portal.exports import Table, sheet_name, to_csv, to_xlsx
from portal.report import (
    AnnualReport,
    FontsMissing,
    PyramidGroup,
    axis_ticks,
    format_number,
    page_count,
    render,
)
from portal.report_data import LABELS, WHOLE, indicator_rows, trends, unit_of
from portal.tables import export_table
from projections.domain.indicator_catalog import INDICATORS, IndicatorValue

ARTIFACTS = Path(__file__).parent / "artifacts"

TABLE = Table(
    "Dân số: Cà Mau / Đồng Nai [2025]",
    ("Tỉnh", "Mã", "Dân số", "Tỷ suất sinh thô", "Ngày"),
    [
        ("Tỉnh Cà Mau", "96", 2_140_620, 13.57, date(2025, 12, 31)),
        ("Tỉnh Đồng Nai", "75", 4_491_408, 12.25, date(2025, 12, 31)),
        ("Thành phố Huế", "46", 1_432_986, None, None),
    ],
)


def test_csv_round_trips_with_a_bom_and_vietnamese_intact() -> None:
    data = to_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(TABLE.headers)
    expected = [["" if v is None else str(v) for v in row] for row in TABLE.rows]
    expected[0][4] = expected[1][4] = "2025-12-31"
    assert rows[1:] == expected
    assert "Đồng Nai" in data.decode("utf-8-sig")


def test_xlsx_round_trips_with_typed_cells_and_a_bold_header() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(TABLE)))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == sheet_name(TABLE.title) and len(sheet.title) <= 31
    assert not set("[]:*?/\\") & set(sheet.title)
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(TABLE.headers)
    assert all(cell.font.b for cell in sheet[1])
    read = [tuple(v.date() if isinstance(v, datetime) else v for v in row) for row in values[1:]]
    assert read == [tuple(row) for row in TABLE.rows]
    assert isinstance(sheet["C2"].value, int) and isinstance(sheet["D2"].value, float)
    assert sheet["E2"].is_date and sheet["B2"].data_type == "s"  # codes stay text: "04"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= len("Thành phố Huế")


def test_nan_is_an_empty_cell_and_a_ragged_row_is_refused() -> None:
    table = Table("t", ("a", "b"), [("x", math.nan)])
    assert to_csv(table).decode("utf-8-sig").splitlines()[1] == "x,"
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet is not None and sheet["B2"].value is None
    with pytest.raises(ValueError, match="row 1"):
        Table("t", ("a", "b"), [("x",)])


def test_numbers_print_the_vietnamese_way() -> None:
    assert format_number(2_140_620, whole=True) == "2.140.620"
    assert format_number(13.5678) == "13,57"
    assert format_number(-650, whole=True, signed=True) == "-650"
    assert format_number(1085, whole=True, signed=True) == "+1.085"
    assert format_number(None) == format_number(math.nan) == "—"


def test_axis_ticks_are_round_and_whole_for_counts() -> None:
    assert axis_ticks(0, 1, whole=True) == [0, 1, 2]
    flat = axis_ticks(1004, 1004, whole=True)
    assert flat[0] < 1004 < flat[-1] and all(t == int(t) for t in flat)
    assert axis_ticks(0, 203, whole=True) == [0, 100, 200, 300]
    assert axis_ticks(1_230_616, 1_287_901, whole=True)[0] == 1_220_000
    assert axis_ticks(-3, 2) == [-4, -2, 0, 2, 4]


def test_every_indicator_has_a_vietnamese_name_and_unit() -> None:
    assert list(LABELS) == [name for name, _ in INDICATORS]
    assert len({name for name, _ in LABELS.values()}) == len(LABELS)


def sample_report(with_map: bool = True) -> AnnualReport:
    """A report of Cà Mau for 2025 with made-up figures (and a made-up two-province map)."""

    def values(year: int) -> list[IndicatorValue]:
        found = []
        for i, (name, unit) in enumerate(INDICATORS):
            if name in WHOLE:
                value = float(2_000_000 + 1000 * (year - 2020) + i) if i < 4 else 1000.0 + i
            else:
                value = math.nan if name == "smam_male" else 10 + i + (year - 2020) / 10
            found.append(IndicatorValue(name, value, unit))
        return found

    by_year = {year: values(year) for year in range(2021, 2026)}
    pyramid = [
        PyramidGroup(f"{a}-{a + 4}" if a < 100 else "100+", 40_000 - 380 * a, 41_000 - 370 * a)
        for a in range(0, 105, 5)
    ]
    provinces = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "91", "name": "Tỉnh An Giang"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[104.5, 10], [105.6, 10], [105.4, 10.9], [104.5, 10]]],
                },
            },
            {
                "type": "Feature",
                "properties": {"code": "96", "name": "Tỉnh Cà Mau"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [[[104.7, 8.6], [105.8, 9.0], [105.5, 9.9], [104.8, 9.7], [104.7, 8.6]]]
                    ],
                },
            },
        ],
    }
    unit = unit_of("province", "96", 2025)
    return AnnualReport(
        unit_code="96",
        level="province",
        name=unit.name,
        year=2025,
        indicators=indicator_rows(by_year[2025], by_year[2024]),
        pyramid=pyramid,
        trends=trends(by_year),
        generated_at=datetime(2025, 12, 1, 8, 0, tzinfo=UTC),
        province_code="96",
        provinces=provinces if with_map else None,
        pyramid_date="31/12/2025",
        headline=[LABELS[n][0] for n in ("population_end", "births", "deaths")],
    )


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    found = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return found.stdout


def test_the_report_prints_the_unit_its_figures_and_its_pages(tmp_path: Path) -> None:
    report = sample_report()
    pdf = render(report)
    text = pdf_text(pdf, tmp_path)
    assert "Tỉnh Cà Mau" in text
    assert "Báo cáo dân số năm 2025" in text
    for heading in ("Các chỉ tiêu dân số năm 2025", "Tháp dân số", "Xu hướng", "Bản đồ"):
        assert heading in text
    for row in report.indicators:
        assert format_number(row.value, row.whole) in text, row.name
        assert row.name in text
    assert "2.005.000" in text  # population_end of 2025, as the table prints it
    assert text.count("\f") == page_count(report) == 5  # pdftotext ends each page with \f
    without_map = render(sample_report(with_map=False))
    assert pdf_text(without_map, tmp_path).count("\f") == 4
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-sample.pdf").write_bytes(pdf)


def test_missing_fonts_name_the_package(tmp_path: Path) -> None:
    with pytest.raises(FontsMissing, match="fonts-dejavu-core"):
        render(sample_report(), font_dir=tmp_path)


def test_a_commune_report_names_its_province(tmp_path: Path) -> None:
    unit = unit_of("commune", "32014", 2024)
    assert (unit.name, unit.province_code) == ("Phường 8", "96")
    commune = replace(
        sample_report(),
        unit_code="32014",
        level="commune",
        name=unit.name,
        year=2024,
        province_name=unit.province_name,
    )
    text = pdf_text(render(commune), tmp_path)
    assert "Phường 8" in text and "Tỉnh Cà Mau" in text
    assert "XÃ, PHƯỜNG" in text


class RejectionFigures:
    """Stands for `Figures`: answers `rejections` with two rows and notes what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[object, ...]] = []

    def rejections(self, level: str, code: str, period: str, units: str) -> list[Rejection]:
        self.asked.append((level, code, period, units))
        return [
            Rejection(
                commune_code="32048",
                reason="not_in_household",
                rejected=2,
                submitted=7,
                rate=100 * 2 / 7,
            ),
            Rejection(
                commune_code="32116",
                reason="dead_person",
                rejected=1,
                submitted=3,
                rate=100 * 1 / 3,
            ),
        ]


def test_the_rejections_table_is_the_figures_rows() -> None:
    figures = RejectionFigures()
    found = export_table(
        figures, "rejections", "province", "96", "2023-Q1", None, "current", "Tỉnh Cà Mau"
    )
    assert figures.asked == [("province", "96", "2023-Q1", "current")]
    assert found.filename == "ca-mau-2023-q1-tu-choi"
    assert list(found.table.headers) == ["commune_code", "reason", "rejected", "submitted", "rate"]
    assert [list(r) for r in found.table.rows] == [
        ["32048", "not_in_household", 2, 7, 100 * 2 / 7],
        ["32116", "dead_person", 1, 3, 100 * 1 / 3],
    ]
