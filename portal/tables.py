"""The tables a unit page shows, as downloads: each built from the same `Figures` calls
as the page, so a CSV or XLSX holds exactly the page's numbers; and the ASCII file
names they are saved under.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from portal.data import MONTHLY, Figures
from portal.exports import Cell, Table
from projections.domain.indicator_catalog import Level, Units


def slug(name: str) -> str:
    """An ASCII file-name part: "Tỉnh Cà Mau" → "ca-mau", "Thành phố Hà Nội" → "ha-noi",
    "Phường Sài Gòn" → "phuong-sai-gon" (a province's kind is dropped, a commune's kept)."""
    for kind in PROVINCE_KINDS:
        name = name.removeprefix(kind)
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_only = plain.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-") or "don-vi"


@dataclass(frozen=True)
class Export:
    table: Table
    filename: str  # without the extension


PROVINCE_KINDS = ("Tỉnh ", "Thành phố ")
Language = Literal["vi", "en"]
TABLE_SLUGS = {
    "indicators": "chi-tieu",
    "pyramid": "thap-dan-so",
    "monthly": "theo-thang",
    "rejections": "tu-choi",
}
REJECTION_COLUMNS = ["commune_code", "reason", "rejected", "submitted", "rate"]


def export_table(
    figures: Figures,
    table: str,
    level: Level,
    code: str,
    period: str,
    on: date | None,
    units_of: Units,
    name: str,
    language: Language = "vi",
) -> Export:
    """One of a unit page's tables, with the figures the page shows (and its units in
    the page's language), as a `Table`."""
    title = f"{name} {period}"
    rows: list[list[Cell]]
    if table == "indicators":
        found = figures.indicators(level, code, period, units_of)
        rows = [[f.indicator, f.value, f.unit_vi if language == "vi" else f.unit] for f in found]
        made = Table(f"Chỉ tiêu {title}", ["indicator", "value", "unit"], rows)
        return Export(made, f"{slug(name)}-{slug(period)}-{TABLE_SLUGS[table]}")
    if table == "pyramid":
        day = on or date(int(period[:4]), 12, 31)
        groups = figures.pyramid(level, code, day, units_of)
        rows = [[g.age_group, g.male, g.female, g.unknown] for g in groups]
        made = Table(
            f"Tháp dân số {name} {day.isoformat()}",
            ["age_group", "male", "female", "unknown"],
            rows,
        )
        return Export(made, f"{slug(name)}-{day.isoformat()}-{TABLE_SLUGS[table]}")
    if table == "monthly":
        year = int(period[:4])
        by_name = figures.monthly(level, code, year, units_of)
        rows = [[f"{year}-{m + 1:02d}", *(by_name[n][m] for n in MONTHLY)] for m in range(12)]
        made = Table(f"Theo tháng {name} {year}", ["month", *MONTHLY], rows)
        return Export(made, f"{slug(name)}-{year}-{TABLE_SLUGS[table]}")
    if table == "rejections":
        refused = figures.rejections(level, code, period, units_of)
        rows = [[r.commune_code, r.reason, r.rejected, r.submitted, r.rate] for r in refused]
        made = Table(f"Sự kiện bị từ chối {title}", REJECTION_COLUMNS, rows)
        return Export(made, f"{slug(name)}-{slug(period)}-{TABLE_SLUGS[table]}")
    raise LookupError(f"no table {table}")
