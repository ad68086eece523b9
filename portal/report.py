"""The printable annual report of a province or commune, as PDF bytes.

Pure given its input: an `AnnualReport` (gathered from ClickHouse by
`portal/report_data.py`, or built by hand in tests) in, PDF bytes out; the only thing
read is the DejaVu fonts, the one family installed by the project
(`infra/setup/system-packages.sh`) that covers every Vietnamese letter with its tone
marks, so that "Cà Mau" and "Đồng Nai" print as written and not as boxes.

The pages, in order: the title page (the unit, the year, its key figures); the
indicators of the year beside the previous year's; the population pyramid drawn as
bars (men left, women right); the trends as small line charts; the map with the unit's
province highlighted, when the provinces' GeoJSON is given. Everything is drawn with
fpdf2's own lines and polygons (no plotting library, no network), so the report
renders the same on the offline servers that produce it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"
FONT_PACKAGE = "fonts-dejavu-core"

ReportLevel = Literal["province", "commune"]
LEVEL_NAMES: dict[str, str] = {"province": "Tỉnh, thành phố", "commune": "Xã, phường, đặc khu"}

# Colours (RGB): men blue, women orange-red, the highlighted province red.
MEN = (52, 101, 164)
WOMEN = (214, 96, 77)
LINE = (40, 40, 40)
GRID = (200, 200, 200)
SHADE = (235, 240, 246)
LAND = (225, 225, 225)
HIGHLIGHT = (200, 40, 40)

# A4 portrait, millimetres
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 18.0
BODY_W = PAGE_W - 2 * MARGIN


@dataclass(frozen=True)
class IndicatorRow:
    """One line of the indicators table: a Vietnamese name, this year's value and the
    previous year's (None or NaN: no figure, e.g. a rate with no denominator)."""

    name: str
    value: float | None
    unit: str
    previous: float | None
    whole: bool = False  # a count of persons or events: printed without decimals


@dataclass(frozen=True)
class PyramidGroup:
    age_group: str  # '0-4' … '100+'
    male: int
    female: int


@dataclass(frozen=True)
class Trend:
    """A yearly series of one key indicator, oldest year first."""

    name: str
    unit: str
    points: Sequence[tuple[int, float | None]]
    whole: bool = False


@dataclass(frozen=True)
class AnnualReport:
    """Everything the annual report prints; nothing is looked up while drawing."""

    unit_code: str
    level: ReportLevel
    name: str  # Vietnamese, with its type: "Tỉnh Cà Mau", "Phường An Xuyên"
    year: int
    indicators: Sequence[IndicatorRow]
    pyramid: Sequence[PyramidGroup]
    trends: Sequence[Trend]
    generated_at: datetime
    province_code: str = ""  # the province to highlight on the map (a commune's own)
    province_name: str = ""  # a commune's province, printed under its name
    provinces: Mapping[str, Any] | None = None  # GeoJSON: features with properties code, name
    pyramid_date: str = ""  # the pyramid's date as printed, e.g. "31/12/2025"
    pyramid_unknown: int = 0  # residents of unknown sex, left out of the bars
    notes: Sequence[str] = field(default_factory=tuple)  # printed on the title page
    headline: Sequence[str] = field(default_factory=tuple)  # rows shown on the title page
    map_note: str = ""  # under the map: what it shows, its source and licence


class FontsMissing(RuntimeError):
    """The DejaVu fonts are not installed: the report cannot print Vietnamese."""


def format_number(value: float | None, whole: bool = False, signed: bool = False) -> str:
    """A figure the Vietnamese way: '.' between thousands, ',' before decimals, two
    decimals for rates; '—' when there is no figure."""
    if value is None or math.isnan(value):
        return "—"
    if signed and round(value, 0 if whole else 2) == 0:
        return "0" if whole else "0,00"
    if whole:
        text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    else:
        text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def change(row: IndicatorRow) -> float | None:
    if row.value is None or row.previous is None:
        return None
    if math.isnan(row.value) or math.isnan(row.previous):
        return None
    return row.value - row.previous


def page_count(report: AnnualReport) -> int:
    """How many pages `render` makes: the map page only with the provinces' GeoJSON."""
    return 4 + (report.provinces is not None)


class _Document(FPDF):
    def __init__(self, report: AnnualReport) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(110, 110, 110)
        title = f"{self.report.name} — Báo cáo dân số năm {self.report.year}"
        self.cell(BODY_W / 2, 5, title, align=Align.L)
        self.cell(BODY_W / 2, 5, f"Trang {self.page_no()}/{{nb}}", align=Align.R)
        self.set_text_color(0, 0, 0)


def load_fonts(pdf: FPDF, font_dir: Path = FONT_DIR) -> None:
    """Register DejaVu Sans regular and bold, or say which package installs them."""
    for style, name in FONT_FILES.items():
        path = font_dir / name
        if not path.is_file():
            raise FontsMissing(
                f"font {path} is missing: the report needs the DejaVu fonts for Vietnamese"
                f" diacritics; install the Debian package {FONT_PACKAGE}"
                " (make install runs infra/setup/system-packages.sh, which does)"
            )
        pdf.add_font(FONT, style, str(path))


def render(report: AnnualReport, font_dir: Path = FONT_DIR) -> bytes:
    """The report as PDF bytes (A4 portrait); see the module's docstring for its pages."""
    pdf = _Document(report)
    load_fonts(pdf, font_dir)
    pdf.set_title(f"Báo cáo dân số năm {report.year} — {report.name}")
    pdf.set_author("popreg")
    pdf.set_creation_date(report.generated_at)
    _title_page(pdf, report)
    _indicators_page(pdf, report)
    _pyramid_page(pdf, report)
    _trends_page(pdf, report)
    if report.provinces is not None:
        _map_page(pdf, report, report.provinces)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str, size: float = 16) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.cell(BODY_W, 10, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*MEN)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y(), PAGE_W - MARGIN, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.set_draw_color(*LINE)
    pdf.ln(4)


def _title_page(pdf: FPDF, report: AnnualReport) -> None:
    pdf.add_page()
    pdf.set_fill_color(*MEN)
    pdf.rect(0, 0, PAGE_W, 12, style="F")
    pdf.set_y(60)
    pdf.set_font(FONT, "", 13)
    pdf.cell(BODY_W, 8, LEVEL_NAMES[report.level].upper(), align=Align.C)
    pdf.ln(14)
    pdf.set_font(FONT, "B", 26)
    pdf.multi_cell(BODY_W, 12, report.name, align=Align.C)
    if report.province_name:
        pdf.set_font(FONT, "", 14)
        pdf.cell(BODY_W, 8, report.province_name, align=Align.C)
        pdf.ln(8)
    pdf.set_font(FONT, "", 11)
    pdf.cell(BODY_W, 7, f"Mã đơn vị hành chính: {report.unit_code}", align=Align.C)
    pdf.ln(22)
    pdf.set_font(FONT, "B", 22)
    pdf.set_text_color(*MEN)
    pdf.cell(BODY_W, 12, f"Báo cáo dân số năm {report.year}", align=Align.C)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(24)
    chosen = set(report.headline)
    figures = [r for r in report.indicators if r.name in chosen] or [
        r for r in report.indicators if r.whole
    ][:3]
    if figures:
        box_w = BODY_W / len(figures)
        top = pdf.get_y()
        pdf.set_fill_color(*SHADE)
        pdf.rect(MARGIN, top, BODY_W, 26, style="F")
        for i, row in enumerate(figures):
            pdf.set_xy(MARGIN + i * box_w, top + 3)
            pdf.set_font(FONT, "", 9)
            pdf.cell(box_w, 6, row.name, align=Align.C)
            pdf.set_xy(MARGIN + i * box_w, top + 10)
            pdf.set_font(FONT, "B", 16)
            pdf.cell(box_w, 10, format_number(row.value, row.whole), align=Align.C)
        pdf.set_y(top + 32)
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(80, 80, 80)
    for note in report.notes:
        pdf.multi_cell(BODY_W, 5, note, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(PAGE_H - 40)
    generated = report.generated_at.strftime("%d/%m/%Y %H:%M")
    pdf.cell(BODY_W, 5, f"Lập ngày {generated} (UTC)", align=Align.C)
    pdf.ln(5)
    pdf.cell(
        BODY_W,
        5,
        "Nguồn: Cơ sở dữ liệu đăng ký dân cư — số liệu tổng hợp, không định danh cá nhân",
        align=Align.C,
    )
    pdf.set_text_color(0, 0, 0)


def _indicators_page(pdf: FPDF, report: AnnualReport) -> None:
    pdf.add_page()
    _heading(pdf, f"Các chỉ tiêu dân số năm {report.year}")
    widths = (70.0, 21.0, 21.0, 19.0, BODY_W - 131.0)
    headers = ("Chỉ tiêu", str(report.year), str(report.year - 1), "Thay đổi", "Đơn vị")
    row_h = 5.2
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(*MEN)
    pdf.set_text_color(255, 255, 255)
    for width, header in zip(widths, headers, strict=True):
        align = Align.L if header in ("Chỉ tiêu", "Đơn vị") else Align.R
        pdf.cell(width, row_h + 1, header, fill=True, align=align)
    pdf.ln(row_h + 1)
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(*SHADE)
    for number, row in enumerate(report.indicators):
        pdf.set_font(FONT, "B" if number < 3 else "", 8)
        cells = (
            row.name,
            format_number(row.value, row.whole),
            format_number(row.previous, row.whole),
            format_number(change(row), row.whole, signed=True),
            row.unit,
        )
        aligns = (Align.L, Align.R, Align.R, Align.R, Align.L)
        for column, (width, text, align) in enumerate(zip(widths, cells, aligns, strict=True)):
            if column == len(widths) - 1:
                pdf.set_font(FONT, "", 7.5)
                text = " " + text  # apart from the change's digits
            pdf.cell(width, row_h, _fit(pdf, text, width - 1), fill=number % 2 == 1, align=align)
        pdf.ln(row_h)
    pdf.ln(3)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        BODY_W,
        4,
        "Dân số cuối kỳ tính đến ngày 31/12; dân số trung bình là dân số ngày 1/7. "
        "‰: phần nghìn. —: không có số liệu (mẫu số bằng 0).",
    )
    pdf.set_text_color(0, 0, 0)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _pyramid_page(pdf: FPDF, report: AnnualReport) -> None:
    pdf.add_page()
    on = f" ngày {report.pyramid_date}" if report.pyramid_date else ""
    _heading(pdf, f"Tháp dân số{on}")
    groups = list(report.pyramid)
    men, women = sum(g.male for g in groups), sum(g.female for g in groups)
    pdf.set_font(FONT, "", 9)
    legend_y = pdf.get_y()
    pdf.set_fill_color(*MEN)
    pdf.rect(MARGIN, legend_y + 1.2, 4, 3, style="F")
    pdf.set_x(MARGIN + 5)
    pdf.cell(80, 5, f"Nam: {format_number(men, True)} người")
    pdf.set_fill_color(*WOMEN)
    pdf.rect(PAGE_W - MARGIN - 60, legend_y + 1.2, 4, 3, style="F")
    pdf.set_x(PAGE_W - MARGIN - 55)
    pdf.cell(55, 5, f"Nữ: {format_number(women, True)} người")
    pdf.ln(10)
    if not groups:
        pdf.cell(BODY_W, 8, "Không có số liệu.")
        return
    label_w, value_w = 16.0, 14.0
    half = (BODY_W - label_w) / 2 - value_w
    centre = MARGIN + BODY_W / 2
    top = pdf.get_y()
    bottom = PAGE_H - MARGIN - 30
    bar_h = min(8.5, (bottom - top) / len(groups))
    widest = max([g.male for g in groups] + [g.female for g in groups] + [1])
    pdf.set_font(FONT, "", 7)
    for i, group in enumerate(reversed(groups)):  # the oldest at the top
        y = top + i * bar_h
        male_w = half * group.male / widest
        female_w = half * group.female / widest
        left_edge = centre - label_w / 2
        right_edge = centre + label_w / 2
        pdf.set_fill_color(*MEN)
        if male_w > 0:
            pdf.rect(left_edge - male_w, y + 0.6, male_w, bar_h - 1.2, style="F")
        pdf.set_fill_color(*WOMEN)
        if female_w > 0:
            pdf.rect(right_edge, y + 0.6, female_w, bar_h - 1.2, style="F")
        pdf.set_xy(left_edge, y)
        pdf.cell(label_w, bar_h, group.age_group, align=Align.C)
        pdf.set_xy(left_edge - male_w - value_w - 1, y)
        pdf.cell(value_w, bar_h, format_number(group.male, True), align=Align.R)
        pdf.set_xy(right_edge + female_w + 1, y)
        pdf.cell(value_w, bar_h, format_number(group.female, True), align=Align.L)
    base = top + len(groups) * bar_h + 2
    pdf.set_draw_color(*LINE)
    pdf.line(MARGIN + value_w, base, centre - label_w / 2, base)
    pdf.line(centre + label_w / 2, base, PAGE_W - MARGIN - value_w, base)
    pdf.set_xy(MARGIN, base + 2)
    pdf.set_font(FONT, "", 8)
    pdf.cell(BODY_W / 2, 5, "◀ Nam", align=Align.L)
    pdf.cell(BODY_W / 2, 5, "Nữ ▶", align=Align.R)
    pdf.ln(6)
    pdf.set_text_color(90, 90, 90)
    note = "Nhóm tuổi 5 năm, tuổi tròn tại ngày của tháp."
    if report.pyramid_unknown:
        unknown = format_number(report.pyramid_unknown, True)
        note += f" {unknown} người chưa rõ giới tính không được vẽ."
    pdf.multi_cell(BODY_W, 4, note)
    pdf.set_text_color(0, 0, 0)


def _trends_page(pdf: FPDF, report: AnnualReport) -> None:
    pdf.add_page()
    years = [y for t in report.trends for y, _ in t.points]
    span = f" {min(years)}-{max(years)}" if years else ""
    _heading(pdf, f"Xu hướng{span}")
    columns, gap = 2, 10.0
    chart_w = (BODY_W - gap) / columns
    chart_h = 62.0
    top = pdf.get_y()
    for i, trend in enumerate(report.trends):
        x = MARGIN + (i % columns) * (chart_w + gap)
        y = top + (i // columns) * (chart_h + 12)
        _line_chart(pdf, trend, x, y, chart_w, chart_h)


def _line_chart(pdf: FPDF, trend: Trend, x: float, y: float, w: float, h: float) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(w, 5, _fit(pdf, trend.name, w))
    pdf.set_xy(x, y + 5)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(w, 4, _fit(pdf, trend.unit, w))
    pdf.set_text_color(0, 0, 0)
    known = [(year, v) for year, v in trend.points if v is not None and not math.isnan(v)]
    left, right = x + 16, x + w - 4
    top, bottom = y + 13, y + h - 8
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.15)
    pdf.rect(left, top, right - left, bottom - top)
    if not trend.points:
        return
    first, last = trend.points[0][0], trend.points[-1][0]
    ticks = axis_ticks(
        min((v for _, v in known), default=0.0),
        max((v for _, v in known), default=1.0),
        trend.whole,
    )
    low, high = ticks[0], ticks[-1]

    def at(year: int, value: float) -> tuple[float, float]:
        share = 0.5 if last == first else (year - first) / (last - first)
        px = left + 6 + share * (right - left - 12)
        return px, bottom - (value - low) / (high - low) * (bottom - top)

    pdf.set_font(FONT, "", 6.5)
    decimals_needed = not trend.whole or any(t != int(t) for t in ticks)
    for tick in ticks:
        _, ty = at(first, tick)
        pdf.line(left, ty, right, ty)
        pdf.set_xy(x, ty - 2)
        pdf.cell(15, 4, format_number(tick, not decimals_needed), align=Align.R)
    for year, _ in trend.points:
        px, _ = at(year, low)
        pdf.set_xy(px - 6, bottom + 1)
        pdf.cell(12, 4, str(year), align=Align.C)
    pdf.set_draw_color(*MEN)
    pdf.set_line_width(0.6)
    for segment in _runs(trend.points):
        if len(segment) > 1:
            pdf.polyline([at(year, v) for year, v in segment])
    pdf.set_fill_color(*MEN)
    for year, v in known:
        px, py = at(year, v)
        pdf.ellipse(px - 0.9, py - 0.9, 1.8, 1.8, style="F")
    if known:
        year, v = known[-1]
        px, py = at(year, v)
        pdf.set_font(FONT, "B", 7)
        label = format_number(v, trend.whole)
        width = pdf.get_string_width(label) + 1.5
        pdf.set_fill_color(255, 255, 255)
        pdf.set_xy(px - width - 1.5, py - 5.5 if py - 5.5 >= top else py + 1.5)
        pdf.cell(width, 4, label, align=Align.R, fill=True)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(*LINE)


def axis_ticks(low: float, high: float, whole: bool = False) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high,
    from 0 when the series is all positive and zero is not far below it, a little
    beyond the extremes; whole steps
    for counts, so that an axis of 0..1 deaths does not read 0, 0,5, 1 or 0, 1, 1."""
    if high <= low:  # a flat series: in the middle of the chart, not on its edge
        low, high = (low - 1 if low >= 1 or low < 0 else low), high + 1
    if low >= 0 and low < 0.6 * high:
        low = 0.0
    pad = (high - low) * 0.06  # the highest and lowest points clear of the frame
    high += pad
    low = low - pad if low != 0 else low
    raw = (high - low) / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1.0, round(step))
    first = math.floor(low / step) * step
    count = math.ceil((high - first) / step - 1e-9)
    return [first + i * step for i in range(max(count, 1) + 1)]


def _runs(points: Sequence[tuple[int, float | None]]) -> Iterator[list[tuple[int, float]]]:
    """The series cut where a year has no figure, so no line bridges a gap."""
    run: list[tuple[int, float]] = []
    for year, value in points:
        if value is None or math.isnan(value):
            if run:
                yield run
            run = []
        else:
            run.append((year, value))
    if run:
        yield run


def _rings(geometry: Mapping[str, Any]) -> Iterator[list[tuple[float, float]]]:
    """The outer rings of a Polygon or MultiPolygon (holes are not drawn: provinces
    have none worth showing at this scale)."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    for polygon in polygons:
        if polygon:
            yield [(float(p[0]), float(p[1])) for p in polygon[0]]


def _map_page(pdf: FPDF, report: AnnualReport, provinces: Mapping[str, Any]) -> None:
    pdf.add_page()
    _heading(pdf, "Bản đồ hành chính")
    features = [f for f in provinces.get("features", []) if f.get("geometry")]
    shapes = [
        (str(f.get("properties", {}).get("code", "")), f.get("properties", {}).get("name", ""), r)
        for f in features
        for r in _rings(f["geometry"])
    ]
    if not shapes:
        pdf.cell(BODY_W, 8, "Không có dữ liệu bản đồ.")
        return
    lons = [p[0] for _, _, ring in shapes for p in ring]
    lats = [p[1] for _, _, ring in shapes for p in ring]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))  # equirectangular
    top = pdf.get_y()
    box_w, box_h = BODY_W, PAGE_H - MARGIN - 20 - top
    span_x = (max(lons) - min(lons)) * squeeze or 1.0
    span_y = (max(lats) - min(lats)) or 1.0
    scale = min(box_w / span_x, box_h / span_y)
    offset_x = MARGIN + (box_w - span_x * scale) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return offset_x + (lon - min(lons)) * squeeze * scale, top + (max(lats) - lat) * scale

    pdf.set_line_width(0.1)
    highlighted: list[list[tuple[float, float]]] = []
    name = ""
    for code, province, ring in shapes:
        points = _thinned([at(lon, lat) for lon, lat in ring])
        if len(points) < 3:
            continue
        if code == report.province_code:
            highlighted.append(points)
            name = province
            continue
        pdf.set_fill_color(*LAND)
        pdf.set_draw_color(255, 255, 255)
        pdf.polygon(points, style="DF")
    pdf.set_fill_color(*HIGHLIGHT)
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.3)
    for points in highlighted:
        pdf.polygon(points, style="DF")
    if highlighted:
        xs = [p[0] for ring in highlighted for p in ring]
        ys = [p[1] for ring in highlighted for p in ring]
        label_x, label_y = max(xs) + 3, (min(ys) + max(ys)) / 2
        pdf.set_font(FONT, "B", 9)
        text = name or report.province_name or report.name
        width = pdf.get_string_width(text) + 2
        if label_x + width > PAGE_W - MARGIN:
            label_x = min(xs) - 3 - width
        pdf.line(
            label_x - 2.5 if label_x > max(xs) else label_x + width + 0.5,
            label_y,
            max(xs) if label_x > max(xs) else min(xs),
            label_y,
        )
        pdf.set_xy(label_x, label_y - 2.5)
        pdf.cell(width, 5, text)
    pdf.set_line_width(0.2)
    pdf.set_xy(MARGIN, PAGE_H - MARGIN - 16)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(90, 90, 90)
    where = name or report.province_name or report.name
    pdf.multi_cell(
        BODY_W,
        4,
        f"Tô đỏ: {where}. {report.map_note}".strip() + " Bản đồ minh họa,"
        " không dùng để xác định ranh giới.",
    )
    pdf.set_text_color(0, 0, 0)


def _thinned(points: list[tuple[float, float]], step: float = 0.35) -> list[tuple[float, float]]:
    """The ring without points closer than `step` mm to the last kept: the same drawing
    at this scale, a much smaller PDF for a detailed coastline."""
    kept = points[:1]
    for point in points[1:]:
        last = kept[-1]
        if abs(point[0] - last[0]) + abs(point[1] - last[1]) >= step:
            kept.append(point)
    return kept
