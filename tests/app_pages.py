"""What the collaborators' app's tests share: a household story in the registry, a
phone-sized Chromium context with the app activated, filling the app's forms, and
waiting on what the app says it holds (`window.appState`). Nothing sleeps: every wait
is on a condition, with a deadline."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from infra.ports import free_port
from schemas.settings import Settings
from schemas.validation import parse_event
from tests.portal_pages import ARTIFACTS, CHROMIUM
from tests.producing import publish
from tests.waiting import wait_projected, wait_until

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
VIETNAM = timedelta(hours=7)
TIMEOUT_MS = 30_000

__all__ = ["ARTIFACTS", "PHONE"]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve any ASGI app on a free loopback port (for the app's files without a stack)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"app-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), 30, lambda: f"{url} did not start")
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/app/", timeout=1.0)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def phone_context() -> Iterator[BrowserContext]:
    """A fresh Chromium profile the size of a phone (touch, mobile viewport), with
    service workers allowed: IndexedDB and the cache live as long as the context."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            # The app forbids eval (its CSP); Playwright's string waits need it.
            context = browser.new_context(
                **PHONE, locale="vi-VN", service_workers="allow", bypass_csp=True
            )
            yield context
            context.close()
        finally:
            browser.close()


def today_in_vietnam() -> str:
    return (datetime.now(UTC) + VIETNAM).date().isoformat()


# --- the registry: a household the collaborator's commune holds ---------------------


@dataclass(frozen=True)
class Family:
    household_id: str
    commune: str
    head_id: str
    head_name: str
    spouse_id: str
    spouse_name: str
    child_id: str
    child_name: str


def seed_family(settings: Settings, commune: str, head_name: str, tag: str | None = None) -> Family:
    """A household of `commune` in the registry (enumerated on 2025-08-01): a married
    couple and their son. Waits until the projector has applied it."""
    tag = tag or uuid.uuid4().hex[:10].upper()
    family = Family(
        household_id=f"HT-{tag}",
        commune=commune,
        head_id=f"PT-{tag}-1",
        head_name=head_name,
        spouse_id=f"PT-{tag}-2",
        spouse_name=f"Lê Thị Mai {tag}",
        child_id=f"PT-{tag}-3",
        child_name=f"Trần Văn Nam {tag}",
    )
    day = "2025-08-01"

    seconds = iter(range(60))  # in this order in the registry's history

    def env() -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "occurred_on": day,
            "recorded_at": f"{day}T03:00:{next(seconds):02d}Z",
            "commune_code": commune,
            "household_id": family.household_id,
            "reporter_id": "popreg-tests",
            "channel": "BATCH_IMPORT",
            "source_system": "popreg-tests",
        }

    def person(pid: str, name: str, sex: str, born: str, status: str) -> dict[str, Any]:
        return {"person_id": pid, "full_name": name, "sex": sex, "birth_date": born,
                "ethnicity": "01", "national_id": None, "marital_status": status}  # fmt: skip

    story = [
        {"type": "HouseholdEnumerated", "envelope": env(), "address": "Ấp 2",
         "head_person_id": family.head_id, "member_count": 3},
        {"type": "PersonEnumerated", "envelope": env(), "relation_to_head": "HEAD",
         "spouse_id": None,
         "person": person(family.head_id, head_name, "MALE", "1988-04-02", "MARRIED")},
        {"type": "PersonEnumerated", "envelope": env(), "relation_to_head": "SPOUSE",
         "spouse_id": family.head_id,
         "person": person(family.spouse_id, family.spouse_name, "FEMALE", "1990-09-12",
                          "MARRIED")},
        {"type": "PersonEnumerated", "envelope": env(), "relation_to_head": "CHILD",
         "spouse_id": None,
         "person": person(family.child_id, family.child_name, "MALE", "2015-06-01",
                          "NEVER_MARRIED")},
    ]  # fmt: skip
    wait_projected(settings, publish(settings, [parse_event(e) for e in story]))
    return family


def stored_events(settings: Settings, event_ids: list[str]) -> dict[str, tuple[int, str]]:
    """How many rows the registry's events table holds per event id, and its outcome."""
    with psycopg.connect(settings.postgres_url) as conn:
        rows = conn.execute(
            "SELECT event_id::text, count(*), min(outcome) FROM events"
            " WHERE event_id = ANY(%s::uuid[]) GROUP BY event_id",
            (event_ids,),
        ).fetchall()
    return {row[0]: (int(row[1]), str(row[2])) for row in rows}


def stored_payload(settings: Settings, event_id: str) -> dict[str, Any]:
    """The event as the registry archived it."""
    with psycopg.connect(settings.postgres_url) as conn:
        row = conn.execute("SELECT payload FROM events WHERE event_id = %s", (event_id,)).fetchone()
    assert row is not None, f"event {event_id} is not in the registry"
    payload: dict[str, Any] = row[0]
    return payload


# --- driving the app ----------------------------------------------------------------


def wait_ready(page: Page) -> None:
    page.wait_for_function("window.appState && window.appState.ready", timeout=TIMEOUT_MS)


def activate(page: Page, url: str, code: str) -> None:
    """Open the QR code's link; the app activates itself and shows its home screen."""
    page.goto(f"{url}/app/#activate={code}")
    page.wait_for_function(
        "window.appState && appState.view === 'home' && appState.session", timeout=TIMEOUT_MS
    )
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=TIMEOUT_MS)


def outbox(page: Page) -> list[dict[str, Any]]:
    """The outbox as the page lists it: event id and the state it shows."""
    found: list[dict[str, Any]] = page.evaluate(
        "Array.from(document.querySelectorAll('#outbox li')).map(li => ({"
        "event_id: li.dataset.eventId, state: li.dataset.state, text: li.innerText}))"
    )
    return found


def wait_states(page: Page, wanted: dict[str, set[str]], timeout_ms: int = 60_000) -> None:
    """Until each event id is listed in one of its wanted states (on a timeout, the
    assertion says what the app held)."""
    try:
        page.wait_for_function(
            """(wanted) => Object.entries(wanted).every(([id, states]) => {
             const li = document.querySelector(`#outbox li[data-event-id="${id}"]`);
             return li && states.includes(li.dataset.state);
           })""",
            arg={k: sorted(v) for k, v in wanted.items()},
            timeout=timeout_ms,
        )
    except PlaywrightTimeout:
        held = page.evaluate(
            "appState.outbox.map(r => [r.event_id, r.state, r.verdict, r.verdict_reason,"
            " r.problems, r.last_error])"
        )
        last = page.evaluate("JSON.stringify(appState.lastSync)")
        raise AssertionError(f"wanted {wanted}; the app holds {held}; last sync {last}") from None


def new_form(page: Page, event_type: str) -> None:
    page.click(f"button.new[data-type={event_type}]")
    page.wait_for_selector(f"form#form[data-type={event_type}]")


def choose_household(page: Page, query: str, household_id: str) -> None:
    """Search within one's commune (the gateway, or the phone's copy offline) and pick."""
    page.fill("#hh-q", query)
    page.click("#hh-find")
    page.click(f"button.household[data-household-id='{household_id}']")
    page.wait_for_selector(f"#chosen-household[data-household-id='{household_id}']")


def search_finds(page: Page, query: str) -> list[str]:
    """The household ids a search in the open form lists (none: the 'not found' line)."""
    before = page.evaluate("appState.searches")
    page.fill("#hh-q", query)
    page.click("#hh-find")
    page.wait_for_function(f"appState.searches > {before}")
    page.wait_for_selector("#hh-results ul, #hh-none")
    found: list[str] = page.evaluate(
        "Array.from(document.querySelectorAll('button.household')).map(b => b.dataset.householdId)"
    )
    return found


def field(page: Page, path: str) -> str:
    """The selector of the input that fills an event's field."""
    return f'#form [data-paths~="{path}"]'


def save(page: Page) -> str:
    """Save the open form; the new record's event id (the form must be valid)."""
    count = page.evaluate("appState.outbox.length")
    page.click("#save")
    page.wait_for_function(f"appState.view === 'home' && appState.outbox.length > {count}")
    event_id: str = page.evaluate("appState.outbox[appState.outbox.length - 1].event_id")
    return event_id


def token_of(page: Page) -> str:
    token: str = page.evaluate("appState.session.token")
    return token
