"""`popreg report`: the printable annual report of a province or commune, as a PDF.

Reads through the analysts' read-only endpoint, as `popreg indicators` and `popreg
pyramid` do (`portal/report_data.py` makes the same calls), so its figures are theirs
and it may run while the processors write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from popreg.commands.indicators import analyst
from popreg.output import DataDir, errors, fail
from portal.report import FontsMissing, ReportLevel, page_count, render
from portal.report_data import TREND_YEARS, gather
from projections.domain.indicator_catalog import Units


def report(
    year: Annotated[int, typer.Option("--year", help="năm báo cáo / the year, e.g. 2025")],
    out: Annotated[Path, typer.Option("--out", help="tệp PDF sẽ ghi / the PDF file to write")],
    province: Annotated[
        str | None,
        typer.Option("--province", help="mã tỉnh, thành phố, ví dụ 96 / a province's code"),
    ] = None,
    commune: Annotated[
        str | None,
        typer.Option("--commune", help="mã xã, phường, ví dụ 32014 / a commune's code"),
    ] = None,
    units: Annotated[
        str,
        typer.Option(
            "--units",
            help="as_was: đơn vị hành chính của từng năm; current: quy về đơn vị hiện hành"
            " / units in force each year, or today's",
        ),
    ] = "as_was",
    data_dir: DataDir = None,
) -> None:
    """Báo cáo dân số năm của một tỉnh hoặc xã, dạng PDF để in.

    The annual population report of a province or commune, as a PDF to print: the
    year's indicators beside the previous year's, the population pyramid on 31
    December, the trends of the last five years and the map."""
    if (province is None) == (commune is None):
        raise fail("give exactly one of --province or --commune (cho --province hoặc --commune)")
    if units not in ("as_was", "current"):
        raise fail(f"--units is as_was or current, got {units!r}")
    level: ReportLevel = "province" if province is not None else "commune"
    code = (province or commune or "").strip()
    chosen: Units = "current" if units == "current" else "as_was"
    with analyst(data_dir) as client, errors.status("đang đọc…") as status:
        done = 0

        def step(what: str) -> None:
            nonlocal done
            done += 1
            status.update(f"đang đọc {what} ({done}/{TREND_YEARS + 1})")

        try:
            found = gather(client, level, code, year, chosen, step=step)
        except ValueError as error:
            raise fail(str(error)) from None
    try:
        pdf = render(found)
    except FontsMissing as error:
        raise fail(str(error)) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
    except OSError as error:
        raise fail(f"cannot write {out}: {error}") from None
    map_note = (
        "" if found.provinces is not None else " (no map: portal/static/geo/provinces.json absent)"
    )
    errors.print(
        f"{found.name}, {year}: {page_count(found)} pages, {len(pdf):,} bytes → {out}{map_note}",
        highlight=False,
    )
