"""The web portal: maps and indicators of the registry for province and national staff.

Pages are static files (`portal/static/`, plain HTML and JS, ECharts vendored) that
read the JSON API below; every figure comes from `portal/data.py`, which asks the
analysts' read-only ClickHouse endpoint exactly as `popreg indicators` does, so the
portal can neither change the data nor see a row of it. Logins: `portal/auth.py`.

(No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
at runtime, and they name this function's locals.)
"""

import hashlib
import json
import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from infra.clickhouse import analyst_client
from portal import data, tables
from portal.auth import COOKIE, Sessions, Viewer, may_see, provinces_seen
from portal.definitions import DEFINITIONS, DEFINITIONS_VI, UNITS_VI
from portal.exports import to_csv, to_xlsx
from portal.report import FontsMissing, ReportLevel, render
from portal.report_data import gather
from projections.domain.indicator_catalog import INDICATORS, Level, Units
from schemas.settings import Settings
from schemas.version import VERSION

log = logging.getLogger("popreg.portal")
STATIC = Path(__file__).parent / "static"
PAGES = {"/": "map.html", "/unit": "unit.html"}
LevelQuery = Annotated[Level, Query(description="commune, province or nation")]
ReportLevelQuery = Annotated[ReportLevel, Query(description="province or commune")]
TableName = Literal["indicators", "pyramid", "monthly", "rejections"]
Format = Literal["csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UnitsQuery = Annotated[Units, Query(description="as_was or current")]
FIRST_YEAR = 2015


def create_app(settings: Settings, client: Any = None) -> FastAPI:
    """The portal; `client` is the analysts' ClickHouse client (made here if not given)."""
    sessions = Sessions(settings)
    figures = data.Figures(client if client is not None else analyst_client(settings))
    app = FastAPI(
        title="popreg portal", version=VERSION, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def viewer_of(request: Request) -> Viewer:
        viewer = sessions.viewer(request.cookies.get(COOKIE))
        if viewer is None:
            raise HTTPException(401, "log in first (/login)")
        return viewer

    ViewerDep = Annotated[Viewer, Depends(viewer_of)]

    def allowed(viewer: Viewer, level: Level, code: str) -> str:
        code = "" if level == "nation" else code
        if not may_see(viewer, level, code):
            raise HTTPException(403, f"{viewer.user} sees {viewer.scope} only")
        return code

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 422)

    @app.exception_handler(LookupError)
    async def not_found(request: Request, error: LookupError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 404)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """A real round trip: the portal asks ClickHouse as the analyst."""
        one = await run_in_threadpool(lambda: figures.client.query("SELECT 1").result_rows[0][0])
        if one != 1:
            raise HTTPException(503, "ClickHouse did not answer SELECT 1")
        return {"status": "ok", "clickhouse": "SELECT 1 ok as the analyst"}

    @app.get("/login", include_in_schema=False)
    async def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body())[:4096].decode(errors="replace"))
        user = (form.get("user") or [""])[0]
        viewer = sessions.login(user, (form.get("password") or [""])[0])
        if viewer is None:
            log.warning("failed login for %r", user[:32])
            return RedirectResponse("/login?failed=1", 303)
        answer = RedirectResponse("/", 303)
        answer.set_cookie(
            COOKIE,
            sessions.cookie(viewer),
            httponly=True,
            samesite="strict",
            max_age=int(sessions.lifetime_s),
        )
        return answer

    @app.post("/logout", include_in_schema=False)
    async def logout() -> Response:
        answer = RedirectResponse("/login", 303)
        answer.delete_cookie(COOKIE)
        return answer

    for path, page in PAGES.items():

        async def serve_page(request: Request, page: str = page) -> Response:
            if sessions.viewer(request.cookies.get(COOKIE)) is None:
                return RedirectResponse("/login", 303)
            return FileResponse(STATIC / page)

        app.get(path, include_in_schema=False)(serve_page)

    @app.get("/api/me")
    async def me(viewer: ViewerDep) -> dict[str, Any]:
        home = (
            {"level": "nation", "code": ""}
            if viewer.province is None
            else {"level": "province", "code": viewer.province}
        )
        seen = None if viewer.province is None else sorted(provinces_seen(viewer.province))
        return {"user": viewer.user, "province": viewer.province, "provinces": seen, "home": home}

    @app.get("/api/catalog")
    async def catalog(viewer: ViewerDep) -> list[dict[str, str]]:
        return [
            {
                "indicator": name,
                "unit": unit,
                "definition": DEFINITIONS.get(name, ""),
                "unit_vi": UNITS_VI.get(unit, unit),
                "definition_vi": DEFINITIONS_VI.get(name, ""),
            }
            for name, unit in INDICATORS
        ]

    @app.get("/api/unit")
    async def unit(viewer: ViewerDep, level: LevelQuery, code: str = "") -> data.UnitInfo:
        code = allowed(viewer, level, code)
        info = data.describe(level, code)
        children = [c for c in info.children if may_see(viewer, c.level, c.code)]
        parent = info.parent
        if parent is not None and not may_see(viewer, parent.level, parent.code):
            parent = None
        return data.UnitInfo(unit=info.unit, parent=parent, children=children)

    @app.get("/api/indicators")
    async def indicators(
        viewer: ViewerDep,
        level: LevelQuery,
        code: str = "",
        period: str = "2025",
        units: UnitsQuery = "current",
    ) -> list[data.Figure]:
        code = allowed(viewer, level, code)
        return await run_in_threadpool(figures.indicators, level, code, period, units)

    @app.get("/api/figures")
    async def unit_figures(
        viewer: ViewerDep,
        level: LevelQuery,
        code: str = "",
        period: str = "2025",
        first: int = FIRST_YEAR,
        last: int = 2025,
        year: int = 2025,
        units: UnitsQuery = "current",
    ) -> data.UnitFigures:
        """What a unit page shows of the indicators, in one answer: the period's figures,
        the years `first`…`last` of each (the sparklines) and the months of `year`."""
        code = allowed(viewer, level, code)
        years = checked_years(first, last)
        return await run_in_threadpool(figures.page, level, code, period, years, year, units)

    @app.get("/api/series")
    async def series(
        viewer: ViewerDep,
        level: LevelQuery,
        code: str = "",
        first: int = FIRST_YEAR,
        last: int = 2025,
        units: UnitsQuery = "current",
    ) -> dict[str, Any]:
        code = allowed(viewer, level, code)
        years = checked_years(first, last)
        values = await run_in_threadpool(figures.series, level, code, years, units)
        return {"years": list(years), "values": values}

    @app.get("/api/pyramid")
    async def pyramid(
        viewer: ViewerDep,
        level: LevelQuery,
        on: date,
        code: str = "",
        units: UnitsQuery = "current",
    ) -> list[data.PyramidGroup]:
        code = allowed(viewer, level, code)
        return await run_in_threadpool(figures.pyramid, level, code, on, units)

    @app.get("/api/forecast")
    async def forecast(
        viewer: ViewerDep, level: LevelQuery, code: str = ""
    ) -> data.Forecast | None:
        """The unit's newest stored forecast (`popreg forecast --store`), null if none."""
        code = allowed(viewer, level, code)
        return await run_in_threadpool(figures.forecast, level, code)

    @app.get("/api/map")
    async def map_values(
        viewer: ViewerDep,
        indicator: str,
        year: int,
        province: str | None = None,
        units: UnitsQuery = "current",
    ) -> list[data.MapValue]:
        if indicator not in dict(INDICATORS):
            raise LookupError(f"no indicator {indicator}")
        if province is not None:
            allowed(viewer, "province", province)
        found = await run_in_threadpool(figures.map_values, indicator, year, province, units)
        if province is None and viewer.province is not None:
            # another province's figure is not this viewer's: the map shows it blank
            seen = provinces_seen(viewer.province)
            found = [v if v.code in seen else v.model_copy(update={"value": None}) for v in found]
        return found

    @app.get("/api/monthly")
    async def monthly(
        viewer: ViewerDep,
        level: LevelQuery,
        year: int,
        code: str = "",
        units: UnitsQuery = "current",
    ) -> dict[str, list[float | None]]:
        code = allowed(viewer, level, code)
        return await run_in_threadpool(figures.monthly, level, code, year, units)

    @app.get("/api/rejections")
    async def rejections(
        viewer: ViewerDep,
        level: LevelQuery,
        code: str = "",
        period: str = "2025",
        units: UnitsQuery = "current",
    ) -> list[data.Rejection]:
        code = allowed(viewer, level, code)
        return await run_in_threadpool(figures.rejections, level, code, period, units)

    @app.get("/api/pulse")
    async def pulse(
        viewer: ViewerDep,
        level: LevelQuery,
        code: str = "",
        period: str = "2025",
        units: UnitsQuery = "current",
    ) -> dict[str, str]:
        """What an open page polls every second: a fingerprint of the unit's figures, which
        changes when any of them does; the page then fetches what it shows again."""
        code = allowed(viewer, level, code)
        found = await run_in_threadpool(figures.indicators, level, code, period, units)
        text = json.dumps([f.value for f in found])
        return {"stamp": hashlib.sha256(text.encode()).hexdigest()[:16]}

    @app.get("/api/export/{table}.{fmt}")
    async def export(
        viewer: ViewerDep,
        table: TableName,
        fmt: Format,
        level: LevelQuery,
        code: str = "",
        period: str = "2025",
        on: date | None = None,
        units: UnitsQuery = "current",
        lang: tables.Language = "vi",
    ) -> Response:
        """One of a unit's tables as the page shows it, as CSV (UTF-8 with BOM) or XLSX;
        units of measure in the page's language (`lang`)."""
        code = allowed(viewer, level, code)
        name = data.describe(level, code).unit.name
        found = await run_in_threadpool(
            tables.export_table, figures, table, level, code, period, on, units, name, lang
        )
        body = to_csv(found.table) if fmt == "csv" else to_xlsx(found.table)
        return download(body, MEDIA[fmt], f"{found.filename}.{fmt}")

    @app.get("/api/report.pdf")
    async def annual_report(
        viewer: ViewerDep,
        level: ReportLevelQuery,
        code: str,
        year: int,
        units: UnitsQuery = "as_was",
    ) -> Response:
        """The annual report of a province or commune, the PDF `popreg report` prints."""
        code = allowed(viewer, level, code)
        if not FIRST_YEAR <= year <= date.today().year:
            raise ValueError(f"year: {FIRST_YEAR} to {date.today().year}")

        def make() -> tuple[str, bytes]:
            found = gather(figures.client, level, code, year, units)
            return found.name, render(found)

        try:
            name, pdf = await run_in_threadpool(make)
        except FontsMissing as error:
            raise HTTPException(503, str(error)) from None
        filename = f"bao-cao-{tables.slug(name)}-{year}.pdf"
        return download(pdf, "application/pdf", filename)

    return app


def checked_years(first: int, last: int) -> range:
    if not 1900 < first <= last < first + 30:
        raise ValueError("years: first <= last, at most 30 of them")
    return range(first, last + 1)


def download(body: bytes, media: str, filename: str) -> Response:
    """An attachment with an ASCII file name (the slugs are ASCII already)."""
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def serve(settings: Settings) -> None:
    """Run the portal in the foreground, on loopback, until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.portal.host,
        port=settings.ports.portal,
        log_level="warning",
        server_header=False,
    )
