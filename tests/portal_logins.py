"""What the portal's tests without a stack share: a portal app on a temporary data
directory whose analysts' client refuses every query, and logging in to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from infra.portal_part import ensure_logins
from portal.app import create_app
from schemas.settings import Settings


class NoClickHouse:
    """Stands for the analysts' client: these tests never reach a figure, so a query
    fails the test."""

    def query(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no query expected")


def portal_without_data(data_dir: Path) -> tuple[TestClient, Settings]:
    """The portal with its logins generated under `data_dir`, and no ClickHouse."""
    settings = Settings(data_dir=data_dir)
    ensure_logins(settings)
    return TestClient(create_app(settings, client=NoClickHouse())), settings


def logged_in(client: TestClient, settings: Settings, user: str) -> TestClient:
    password = settings.portal_password_file(user).read_text().strip()
    answer = client.post(
        "/login", content=f"user={user}&password={password}", follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return client
