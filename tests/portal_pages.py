"""What the portal's browser tests share: a Chromium page, logging in, waiting for a
page to draw, and `popreg indicators`/`popreg pyramid` as JSON to compare with."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from schemas.settings import Settings
from tests.cli_env import popreg

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@contextmanager
def browser_page(phone: bool = False) -> Iterator[Page]:
    """A fresh Chromium (no cookies, no localStorage) with one large page, or one the
    size of a phone's screen (touch, mobile viewport)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            if phone:
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                )
                yield context.new_page()
            else:
                yield browser.new_page(
                    viewport={"width": 1400, "height": 1000}, accept_downloads=True
                )
        finally:
            browser.close()


def log_in(page: Page, settings: Settings, user: str) -> None:
    page.goto(f"{settings.portal_url}/login")
    page.fill("#user", user)
    page.fill("#password", settings.portal_password_file(user).read_text().strip())
    page.click("button[type=submit]")
    page.wait_for_url(f"{settings.portal_url}/")


def wait_drawn(page: Page, timeout_ms: int = 60_000) -> None:
    """Until the page says it has drawn (`window.portalState.ready`)."""
    page.wait_for_function("window.portalState && window.portalState.ready", timeout=timeout_ms)


def same(shown: float | None, printed: float) -> bool:
    """A figure the page shows equals the CLI's (None on the page is NaN in the CLI)."""
    return math.isnan(printed) if shown is None else shown == pytest.approx(printed, rel=1e-9)


def cli_json(
    settings: Settings,
    *args: str,
    level: str = "province",
    code: str = "96",
    units: str = "current",
) -> list[dict[str, Any]]:
    """`popreg <args> --format json` for a unit, in today's units by default (as the unit
    pages show)."""
    ran = popreg(
        settings, *args, "--level", level, "--code", code, "--units", units, "--format", "json"
    )
    assert ran.returncode == 0, ran.stderr
    found: list[dict[str, Any]] = json.loads(ran.stdout)
    return found
