"""The portal's routes without a stack (no ClickHouse, no browser): every data route
refuses an anonymous client, a province's viewer is refused every other unit's data,
downloads and report before any query, bad arguments are answered 404 or 422; the
file names' slugs; `data.describe`. What tests/test_portal_auth.py already covers (the
logins, /api/me, a few 403s) is not repeated here."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from portal import data
from portal.tables import slug
from schemas.settings import Settings
from tests.portal_logins import logged_in, portal_without_data

# Every data route, with arguments it would accept from a viewer allowed to see them.
API = {
    "/api/me": "/api/me",
    "/api/catalog": "/api/catalog",
    "/api/unit": "/api/unit?level=nation",
    "/api/indicators": "/api/indicators?level=nation&period=2024",
    "/api/figures": "/api/figures?level=nation&period=2024&first=2020&last=2024&year=2024",
    "/api/series": "/api/series?level=nation&first=2020&last=2024",
    "/api/pyramid": "/api/pyramid?level=nation&on=2024-12-31",
    "/api/map": "/api/map?indicator=births&year=2024",
    "/api/monthly": "/api/monthly?level=nation&year=2024",
    "/api/rejections": "/api/rejections?level=nation&period=2024",
    "/api/forecast": "/api/forecast?level=nation",
    "/api/pulse": "/api/pulse?level=nation&period=2024",
    "/api/export/{table}.{fmt}": "/api/export/indicators.csv?level=nation&period=2024",
    "/api/report.pdf": "/api/report.pdf?level=province&code=96&year=2024",
}

# What the Cà Mau viewer (province 96) asks of other units: Hà Nội (01), its commune
# Phúc Xá (00004 today), Sóc Trăng (94, a province until 2025-06-30, now in Cần Thơ)
# and the nation. (Bạc Liêu, 95, merged into Cà Mau, is the viewer's: see below.)
REFUSED_TO_CA_MAU = [
    "/api/unit?level=commune&code=00004",
    "/api/unit?level=nation",
    "/api/indicators?level=province&code=01&period=2024",
    "/api/indicators?level=commune&code=00004&period=2024-Q3",
    "/api/series?level=province&code=01&first=2020&last=2024",
    "/api/figures?level=province&code=01&period=2024&first=2020&last=2024&year=2024",
    "/api/monthly?level=province&code=01&year=2024",
    "/api/rejections?level=province&code=01&period=2024",
    "/api/forecast?level=province&code=01",
    "/api/forecast?level=commune&code=00004",
    "/api/pulse?level=nation&period=2024",
    "/api/map?indicator=births&year=2024&province=79",
    "/api/map?indicator=births&year=2024&province=94&units=as_was",
    "/api/export/rejections.csv?level=province&code=01&period=2024",
    "/api/export/pyramid.xlsx?level=nation&period=2024&on=2024-12-31",
    "/api/export/monthly.xlsx?level=commune&code=00004&period=2024",
    "/api/report.pdf?level=province&code=01&year=2024",
    "/api/report.pdf?level=commune&code=00004&year=2024",
]


@pytest.fixture
def portal(tmp_path: Path) -> tuple[TestClient, Settings]:
    return portal_without_data(tmp_path)


@pytest.fixture
def ca_mau(portal: tuple[TestClient, Settings]) -> TestClient:
    client, settings = portal
    return logged_in(client, settings, "ca-mau")


@pytest.fixture
def national(portal: tuple[TestClient, Settings]) -> TestClient:
    client, settings = portal
    return logged_in(client, settings, "national")


def test_the_list_of_data_routes_is_the_apps(portal: tuple[TestClient, Settings]) -> None:
    """So that a new route cannot escape the anonymous test below."""
    client, _ = portal
    paths = {
        r.path for r in client.app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")
    }
    assert paths == set(API)


@pytest.mark.parametrize("path", API.values())
def test_an_anonymous_client_gets_401_from_every_data_route(
    portal: tuple[TestClient, Settings], path: str
) -> None:
    client, _ = portal
    answer = client.get(path)
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"] == "log in first (/login)"


@pytest.mark.parametrize("page", ["/", "/unit", "/unit?level=province&code=96"])
def test_an_anonymous_client_is_sent_to_the_login_from_every_page(
    portal: tuple[TestClient, Settings], page: str
) -> None:
    client, _ = portal
    answer = client.get(page, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_a_logged_in_viewer_gets_the_page(ca_mau: TestClient) -> None:
    answer = ca_mau.get("/unit", follow_redirects=False)
    assert answer.status_code == 200 and 'id="rejectionsCsv"' in answer.text


@pytest.mark.parametrize("path", REFUSED_TO_CA_MAU)
def test_a_province_viewer_gets_403_for_any_other_unit(ca_mau: TestClient, path: str) -> None:
    answer = ca_mau.get(path)
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"] == "ca-mau sees province 96 only"


def test_a_province_viewer_is_let_into_the_former_provinces_merged_into_it(
    ca_mau: TestClient,
) -> None:
    """Let through to the figures (which this portal without ClickHouse refuses)."""
    me = ca_mau.get("/api/me").json()
    assert me["provinces"] == ["95", "96"]
    with pytest.raises(AssertionError, match="no query expected"):
        ca_mau.get("/api/map?indicator=births&year=2024&province=95&units=as_was")


def test_an_unknown_user_or_a_wrong_password_goes_back_to_the_login(
    portal: tuple[TestClient, Settings],
) -> None:
    client, settings = portal
    right = settings.portal_password_file("ca-mau").read_text().strip()
    for form in (f"user=ca-mau&password={right}x", f"user=nobody&password={right}", "user="):
        answer = client.post("/login", content=form, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login?failed=1")
        assert "set-cookie" not in answer.headers
    assert client.get("/api/me").status_code == 401


def test_an_unknown_indicator_is_404(national: TestClient) -> None:
    answer = national.get("/api/map?indicator=happiness&year=2024")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no indicator happiness"
    assert national.get("/api/map?indicator=happiness&year=2024&province=96").status_code == 404


def test_an_unknown_unit_is_404(national: TestClient) -> None:
    assert national.get("/api/unit?level=province&code=99").status_code == 404
    answer = national.get("/api/export/indicators.csv?level=commune&code=99999&period=2024")
    assert answer.status_code == 404 and answer.json()["detail"] == "no commune 99999"


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/api/indicators?level=province&code=96&period=2024-13", "got '2024-13'"),
        ("/api/indicators?level=province&code=96&period=last-year", "got 'last-year'"),
        ("/api/rejections?level=province&code=96&period=2024-Q5", "got '2024-Q5'"),
        ("/api/pulse?level=province&code=96&period=2024-7", "got '2024-7'"),
        ("/api/export/indicators.csv?level=province&code=96&period=24", "got '24'"),
        ("/api/export/rejections.xlsx?level=province&code=96&period=2024-00", "got '2024-00'"),
        ("/api/series?level=province&code=96&first=2024&last=2020", "first <= last"),
    ],
)
def test_a_malformed_period_is_422_before_any_query(
    ca_mau: TestClient, path: str, said: str
) -> None:
    answer = ca_mau.get(path)
    assert answer.status_code == 422, answer.text
    assert said in answer.json()["detail"]


def test_an_unknown_table_format_or_level_is_422(national: TestClient) -> None:
    for path in (
        "/api/export/households.csv?level=nation&period=2024",
        "/api/export/rejections.pdf?level=nation&period=2024",
        "/api/indicators?level=district&code=001&period=2024",
        "/api/report.pdf?level=nation&code=&year=2024",
    ):
        assert national.get(path).status_code == 422, path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tỉnh Cà Mau", "ca-mau"),
        ("Thành phố Hồ Chí Minh", "ho-chi-minh"),
        ("Thành phố Hà Nội", "ha-noi"),
        ("Phường Sài Gòn", "phuong-sai-gon"),
        ("Tỉnh Đắk Lắk", "dak-lak"),
        ("Thành phố Đà Nẵng", "da-nang"),
        ("Xã Đông Hải", "xa-dong-hai"),
        ("Phường Điện Biên Phủ", "phuong-dien-bien-phu"),
        ("Xã Tân Đức (cũ)", "xa-tan-duc-cu"),
        ("2024-Q3", "2024-q3"),
        ("", "don-vi"),
        ("Tỉnh ", "don-vi"),
        ("—", "don-vi"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_describe_the_nation() -> None:
    found = data.describe("nation", "")
    assert found.unit == data.NATION and found.parent is None
    assert len(found.children) == 34
    assert {c.level for c in found.children} == {"province"}
    assert [c.code for c in found.children] == sorted(c.code for c in found.children)


def test_describe_a_province() -> None:
    found = data.describe("province", "96")
    assert (found.unit.name, found.parent) == ("Tỉnh Cà Mau", data.NATION)
    assert len(found.children) == 64  # today's communes of Cà Mau, Bạc Liêu's among them
    assert {c.level for c in found.children} == {"commune"}
    assert "Phường Bạc Liêu" in {c.name for c in found.children}


def test_describe_a_commune_today_and_before_the_reform() -> None:
    today = data.describe("commune", "32014")
    assert today.unit.name == "Phường Lý Văn Lâm" and today.children == []
    assert today.parent == data.Unit(level="province", code="96", name="Tỉnh Cà Mau")
    former = data.describe("commune", "00001")  # Phúc Xá, a ward of Hà Nội until 2025-06-30
    assert former.unit.name == "Phường Phúc Xá"
    assert former.parent is not None and former.parent.code == "01"


@pytest.mark.parametrize(
    ("level", "code"),
    [("province", "99"), ("province", "95"), ("province", ""), ("commune", "99999")],
)
def test_describe_an_unknown_unit(level: str, code: str) -> None:
    """95 (Bạc Liêu) was a province until 2025-06-30: `describe` knows today's only."""
    with pytest.raises(LookupError):
        data.describe(level, code)  # type: ignore[arg-type]
