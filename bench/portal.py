"""The portal side of `popreg bench`: how long each page's data takes to arrive.

Logged in as the `national` viewer over HTTP, the bench asks for what each page asks
for when it opens, as a browser does: the unit page's description first, then its
figures (the period's, the years' and the months'), pyramid, rejections and stored
forecast at once (a browser keeps up to six connections to a server); a map page's one
or two `/api/map` requests. One sample is the wall time from the first request until
the last answer.

The portal keeps an answer for `portal.data.FRESH_S`, so that many open pages
cost one query. A page opened when nobody has looked for that long is what the aim is
for, so every sample is cold: a page is asked for again only once everything it shares
with the pages asked before it has been forgotten (the national map holds the
province's figures; the province's commune map holds the commune's). Each is beside
`SELECT 1` through the analysts' endpoint, measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from bench.indicators import latencies_ms
from bench.results import Figure
from infra.clickhouse import analyst_client
from portal.data import FRESH_S
from schemas.settings import Settings

Report = Callable[[str], None]
USER = "national"
PROVINCE = "96"
YEAR = 2025
INDICATOR = "crude_birth_rate"  # the map's other indicator; population_end sizes the symbols
# how long the portal keeps an answer: a cold load waits for it to be forgotten
FORGOTTEN_S = FRESH_S + 0.2
WARM_UP = 3  # rounds not counted: ClickHouse compiles a query's expressions in its first runs
AIM_MS = 300.0
BASELINE = "analysts' endpoint: SELECT 1 p50 (baseline)"


@dataclass(frozen=True)
class Page:
    name: str
    shares: str  # pages with the same tag share answers the portal keeps for FRESH_S
    first: tuple[str, ...]  # asked before the rest (the unit page's own description)
    rest: tuple[str, ...]  # asked at once


def unit_page(name: str, shares: str, query: str) -> Page:
    return Page(
        name,
        shares,
        (f"/api/unit?{query}",),
        (
            f"/api/figures?{query}&period={YEAR}&first=2015&last={YEAR}&year={YEAR}",
            f"/api/pyramid?{query}&on={YEAR}-12-31",
            f"/api/rejections?{query}&period={YEAR}",
            f"/api/forecast?{query}",
        ),
    )


def pages(commune: str) -> list[Page]:
    """In an order where no page follows one it shares answers with."""
    return [
        unit_page(
            f"province unit page ({PROVINCE})", "province", f"level=province&code={PROVINCE}"
        ),
        unit_page("commune unit page", "communes", f"level=commune&code={commune}"),
        Page("national map", "province", (), (f"/api/map?indicator={INDICATOR}&year={YEAR}",)),
        Page(
            f"communes map of province {PROVINCE}",
            "communes",
            (),
            (
                f"/api/map?indicator={INDICATOR}&year={YEAR}&province={PROVINCE}",
                f"/api/map?indicator=population_end&year={YEAR}&province={PROVINCE}",
            ),
        ),
    ]


def logged_in(settings: Settings) -> httpx.Client:
    password = settings.portal_password_file(USER).read_text().strip()
    limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
    client = httpx.Client(base_url=settings.portal_url, timeout=120, limits=limits)
    answer = client.post("/login", data={"user": USER, "password": password})
    if answer.status_code != 303 or answer.headers.get("location") != "/":
        client.close()
        raise RuntimeError(f"the portal refused {USER}'s login: {answer.status_code}")
    return client


def fetch(client: httpx.Client, path: str) -> object:
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"portal {path}: {answer.status_code} {answer.text[:200]}")
    return answer.json()


def biggest_commune(client: httpx.Client) -> str:
    """The province's most populous commune: the unit page most often opened, or close."""
    found = fetch(client, f"/api/map?indicator=population_end&year={YEAR}&province={PROVINCE}")
    assert isinstance(found, list) and found, f"no communes of province {PROVINCE}"
    return str(max(found, key=lambda v: v["value"] or 0)["code"])


def page_ms(client: httpx.Client, pool: ThreadPoolExecutor, page: Page) -> float:
    started = time.perf_counter()
    for path in page.first:
        fetch(client, path)
    list(pool.map(lambda path: fetch(client, path), page.rest))
    return (time.perf_counter() - started) * 1000


def cold_loads(
    client: httpx.Client, shown: list[Page], times: int, budget_s: float
) -> dict[str, list[float]]:
    """Rounds of every page, each asked only once what it shares with the pages before
    it is forgotten: `times` rounds, or fewer if `budget_s` runs out (small scale)."""
    forgotten: dict[str, float] = {}  # tag → when the answers kept for it are gone
    found: dict[str, list[float]] = {page.name: [] for page in shown}
    with ThreadPoolExecutor(6) as pool:
        deadline = None
        for round_ in range(WARM_UP + times):
            if round_ == WARM_UP:
                deadline = time.monotonic() + budget_s
            if deadline is not None and time.monotonic() > deadline and round_ > WARM_UP + 1:
                break
            for page in shown:
                time.sleep(max(0.0, forgotten.get(page.shares, 0.0) - time.monotonic()))
                took = page_ms(client, pool, page)
                forgotten[page.shares] = time.monotonic() + FORGOTTEN_S
                if round_ >= WARM_UP:
                    found[page.name].append(took)
    return found


def p50_p95(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), cuts[18]


def select_one_ms(settings: Settings, known: Iterable[Figure], times: int) -> Iterator[Figure]:
    """The baseline: reused if the queries group measured it in this run."""
    for figure in known:
        if figure.name == BASELINE:
            yield figure
            return
    client = analyst_client(settings)
    try:
        one = latencies_ms(lambda: client.query("SELECT 1"), times)
    finally:
        client.close()
    yield Figure(BASELINE, statistics.median(one), "ms", samples=tuple(one))


def portal_figures(
    settings: Settings,
    known: list[Figure],
    report: Report,
    times: int = 200,
    budget_s: float = float("inf"),
) -> Iterator[Figure]:
    """Each page's data, cold, `times` times (or for `budget_s`), p50 and p95."""
    (base,) = select_one_ms(settings, known, times)
    if base not in known:
        yield base
    client = logged_in(settings)
    try:
        health = latencies_ms(lambda: fetch(client, "/healthz"), times)
        shown = pages(biggest_commune(client))
        report(
            f"portal: {len(shown)} pages' data, cold, {times} times each"
            + (f" or for {budget_s:.0f} s" if budget_s != float("inf") else "")
        )
        found = cold_loads(client, shown, times, budget_s)
    finally:
        client.close()
    yield Figure(
        "portal /healthz (HTTP + SELECT 1) p50",
        statistics.median(health),
        "ms",
        "SELECT 1",
        base.value,
        tuple(health),
    )
    yield Figure("portal: cold loads timed per page", min(map(len, found.values())), "loads")
    p95s = {}
    for name, samples in found.items():
        p50, p95 = p50_p95(samples)
        p95s[name] = p95
        yield Figure(f"portal {name} p50", p50, "ms", "SELECT 1", base.value, tuple(samples))
        yield Figure(f"portal {name} p95", p95, "ms", "SELECT 1", base.value)
    slowest = max(p95s, key=lambda name: p95s[name])
    report(f"portal: slowest page's data {slowest}, p95 {p95s[slowest]:.0f} ms")
    yield Figure(
        f"slowest page's data p95 (aim < {AIM_MS:.0f} ms)",
        p95s[slowest],
        "ms",
        "SELECT 1",
        base.value,
    )
