"""The portal's logins and roles, without a stack: a province's viewer is refused
another province (403), an anonymous client gets nothing, the nation's viewer sees all."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal.auth import may_see
from portal.definitions import DEFINITIONS, DEFINITIONS_VI, UNITS_VI
from projections.domain.indicator_catalog import INDICATORS
from schemas.settings import Settings
from tests.portal_logins import logged_in, portal_without_data


@pytest.fixture
def portal(tmp_path: Path) -> tuple[TestClient, Settings]:
    return portal_without_data(tmp_path)


def test_a_province_viewer_is_refused_another_province(portal: tuple[TestClient, Settings]) -> None:
    client, settings = portal
    logged_in(client, settings, "ca-mau")
    assert client.get("/api/me").json()["province"] == "96"
    assert client.get("/api/unit?level=province&code=01").status_code == 403
    assert client.get("/api/indicators?level=nation").status_code == 403
    assert client.get("/api/pyramid?level=commune&code=00004&on=2025-01-01").status_code == 403
    assert client.get("/api/map?indicator=births&year=2025&province=01").status_code == 403
    own = client.get("/api/unit?level=province&code=96")
    assert own.status_code == 200 and len(own.json()["children"]) == 64


def test_anonymous_and_wrong_passwords_get_nothing(portal: tuple[TestClient, Settings]) -> None:
    client, _ = portal
    assert client.get("/api/me").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    wrong = client.post("/login", content="user=national&password=x", follow_redirects=False)
    assert wrong.headers["location"] == "/login?failed=1"
    client.cookies.set("popreg_portal", "eyJ1IjoibmF0aW9uYWwiLCJleHAiOjk5OTk5OTk5OTl9.forged")
    assert client.get("/api/me").status_code == 401


def test_the_nation_viewer_sees_every_unit(portal: tuple[TestClient, Settings]) -> None:
    client, settings = portal
    logged_in(client, settings, "national")
    assert len(client.get("/api/unit?level=nation").json()["children"]) == 34
    assert client.get("/api/unit?level=province&code=01").status_code == 200


def test_roles_and_definitions() -> None:
    from portal.auth import Viewer

    ca_mau = Viewer("ca-mau", "96")
    assert may_see(ca_mau, "commune", "31825") and not may_see(ca_mau, "commune", "00004")
    assert not may_see(ca_mau, "nation", "")
    assert set(DEFINITIONS) == set(DEFINITIONS_VI) == {name for name, _ in INDICATORS}
    assert {unit for _, unit in INDICATORS} <= set(UNITS_VI)
