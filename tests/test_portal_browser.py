"""The portal in a real browser (Chromium through Playwright) on the embedded stack:
log in, the map draws the 34 provinces and a province's communes, a click opens a
province's page, whose figures and pyramid equal `popreg indicators` and `popreg
pyramid`, and an event published while the page is open shows within 5 s."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from projections.domain.indicator_catalog import INDICATORS
from schemas.settings import Settings
from tests.cli_env import popreg
from tests.id_space import Ids, synthetic
from tests.portal_pages import ARTIFACTS, browser_page, cli_json, log_in, same, wait_drawn
from tests.producing import publish

pytestmark = pytest.mark.stack


@pytest.fixture
def page(settings: Settings) -> Iterator[Page]:
    with browser_page() as opened:
        yield opened


def test_the_map_and_a_unit_page_show_what_the_cli_prints(page: Page, settings: Settings) -> None:
    publish(settings, synthetic(Ids.new(), households=40, years=(2023, 2024), seed=4, error_rate=0))
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    ARTIFACTS.mkdir(exist_ok=True)

    log_in(page, settings, "national")
    page.wait_for_function("window.portalState && window.portalState.ready", timeout=60_000)
    drawn = page.evaluate(
        "({p: portalState.provinces, i: portalState.islands, c: portalState.communes})"
    )
    assert drawn == {"p": 34, "i": 2, "c": 64}  # with Hoàng Sa and Trường Sa
    page.goto(f"{settings.portal_url}/?year=2024")  # a year the generated events cover
    page.wait_for_function("window.portalState && window.portalState.ready", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "portal-map.png"), full_page=True)

    # a click on Cà Mau (its capital's coordinates) opens its page
    x, y = page.evaluate("mapChart.convertToPixel({geoIndex: 0}, [105.15, 9.18])")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url("**/unit?level=province&code=96")

    page.goto(f"{settings.portal_url}/unit?level=province&code=96&period=2024")
    page.wait_for_function("window.portalState && window.portalState.ready", timeout=60_000)
    shown = page.evaluate("window.portalState.figures")
    printed = cli_json(settings, "indicators", "--period", "2024")
    assert len(shown) == len(printed) == len(INDICATORS)
    assert all(same(shown[row["indicator"]], row["value"]) for row in printed), (shown, printed)
    pyramid = page.evaluate("window.portalState.pyramid")
    printed_pyramid = cli_json(settings, "pyramid", "--on", "2025-12-31")
    assert [[g["age_group"], g["male"], g["female"]] for g in pyramid] == [
        [g["age_group"], g["male"], g["female"]] for g in printed_pyramid
    ]
    page.screenshot(path=str(ARTIFACTS / "portal-unit.png"), full_page=True)

    # live: more households in 2024 change the population within 5 s, without reload
    before = shown["population_end"]
    started = time.monotonic()
    publish(settings, synthetic(Ids.new(), households=3, years=(2024, 2024), seed=9, error_rate=0))
    page.wait_for_function(f"window.portalState.figures.population_end !== {before}", timeout=5_000)
    assert time.monotonic() - started < 5


def test_the_pages_fit_a_phone_screen(settings: Settings) -> None:
    """Commune officers open the portal on phones: on a 390-pixel screen the map and a
    province's page draw, and neither is wider than the screen."""
    publish(settings, synthetic(Ids.new(), households=10, years=(2024, 2024), seed=5, error_rate=0))
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(phone=True) as phone:
        log_in(phone, settings, "ca-mau")
        wait_drawn(phone)
        assert phone.evaluate("window.portalState.provinces") == 34
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(ARTIFACTS / "portal-map-phone.png"), full_page=True)
        phone.goto(f"{settings.portal_url}/unit?level=province&code=96&period=2024")
        wait_drawn(phone)
        assert len(phone.evaluate("window.portalState.figures")) == len(INDICATORS)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(ARTIFACTS / "portal-unit-phone.png"), full_page=True)


def test_a_stored_forecast_shows_as_a_band(page: Page, settings: Settings) -> None:
    """The unit page draws the newest stored forecast: its variants equal what
    `popreg forecast --store` printed, low below medium below high, and the projected
    pyramid of the last year sums to the medium variant's population; a unit without a
    stored forecast says how to make one."""
    publish(
        settings, synthetic(Ids.new(), households=40, years=(2019, 2025), seed=14, error_rate=0)
    )
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, settings, "national")
    page.goto(f"{settings.portal_url}/unit?level=nation&code=")
    wait_drawn(page)
    assert "popreg forecast" in page.inner_text("#forecastNote")
    assert page.evaluate("window.portalState.forecast") is None

    ran = popreg(
        settings, "forecast", "--level", "province", "--code", "96", "--base-date",
        "2025-12-31", "--until", "2035", "--variant", "all", "--store", "--format", "json",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    printed = json.loads(ran.stdout)
    page.goto(f"{settings.portal_url}/unit?level=province&code=96&period=2025")
    wait_drawn(page)
    shown = page.evaluate("window.portalState.forecast")
    assert shown["base_date"] == "2025-12-31"
    assert shown["years"] == [f"{y}-12-31" for y in range(2026, 2036)]
    for variant in ("low", "medium", "high"):
        rows = [r for r in printed if r["variant"] == variant]
        assert [same(v, r["population"]) for v, r in zip(
            shown["variants"][variant]["population"], rows, strict=True
        )] == [True] * 10, variant  # fmt: skip
    band = page.evaluate("window.portalState.forecastBand")
    last = band["years"].index(2035)
    assert band["low"][last] < band["medium"][last] < band["high"][last]
    pyramid = page.evaluate("window.portalState.forecastPyramid")
    assert pyramid["on"] == "2035-12-31"
    total = sum(g["male"] + g["female"] for g in pyramid["groups"])
    assert same(total, shown["variants"]["medium"]["population"][-1])
    page.locator("#forecastChart").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "portal-forecast.png"), full_page=True)
