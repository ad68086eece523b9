"""The collaborators' app (producers/gateway/pwa.py, app_static/) in Debian's Chromium
on a phone-sized screen, against the gateway on the embedded stack: activation by the
QR code's link, three events recorded with no connection that survive closing the page
and reach PostgreSQL exactly once, the rules checked before sending (in Vietnamese, and
held to the server's own on a corpus), a registry's rejection fixed and resent, a
revoked collaborator's events kept and refused, and another commune's households
out of reach."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from producers.gateway.collaborators import add_collaborator, revoke_collaborator
from producers.gateway.pwa import mount_pwa
from schemas.settings import Settings
from tests.app_corpus import NOW, corpus, server_problems
from tests.app_pages import (
    ARTIFACTS,
    activate,
    choose_household,
    field,
    new_form,
    outbox,
    phone_context,
    save,
    search_finds,
    seed_family,
    serving,
    stored_events,
    stored_payload,
    today_in_vietnam,
    token_of,
    wait_ready,
    wait_states,
)
from tests.conftest import StackUnderTest
from tests.gateway_server import client, gateway_settings, running
from tests.waiting import wait_until

COMMUNE = "32002"  # Phường An Xuyên, Cà Mau, since 2025-07-01
OTHER_COMMUNE = "32065"


def pwa_only() -> FastAPI:
    app = FastAPI()
    mount_pwa(app)
    return app


# --- the files, without a browser or a stack ---------------------------------------------


def test_the_app_is_served_with_its_worker_manifest_and_cache_headers() -> None:
    with TestClient(pwa_only()) as http:
        index = http.get("/app/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert index.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in index.headers["content-security-policy"]
        assert http.get("/app", follow_redirects=False).headers["location"] == "/app/"

        worker = http.get("/app/sw.js")
        assert worker.headers["service-worker-allowed"] == "/app/"
        assert worker.headers["content-type"].startswith("text/javascript")
        assert "__SHELL_VERSION__" not in worker.text
        again = http.get("/app/sw.js", headers={"If-None-Match": worker.headers["etag"]})
        assert again.status_code == 304

        manifest = http.get("/app/manifest.webmanifest")
        assert manifest.headers["content-type"] == "application/manifest+json"
        assert manifest.json()["scope"] == "/app/"
        for icon in manifest.json()["icons"]:
            assert http.get(f"/app/{icon['src']}").headers["content-type"] == "image/png"

        communes = http.get("/app/communes.json").json()
        assert COMMUNE in communes["after"] and "32008" in communes["before"]
        assert "32008" not in communes["after"]

        for missing in ("/app/nope.js", "/app/LICENSES.md", "/app/../pyproject.toml",
                        "/app/%2e%2e/pwa.py", "/app/icons/../../pwa.py"):  # fmt: skip
            assert http.get(missing).status_code == 404, missing


def test_the_apps_rules_agree_with_the_servers() -> None:
    """Each event of the corpus is valid to both or invalid to both, with the same rule
    codes at the same fields (the app's validate.js in Chromium, schemas.validation in
    Python, both at the same present)."""
    items = list(corpus())
    with serving(pwa_only()) as url, phone_context() as context:
        page = context.new_page()
        page.goto(f"{url}/app/")
        wait_ready(page)
        page.wait_for_function("appState.communes !== null")
        in_browser = page.evaluate(
            """([events, now]) => events.map((e) =>
                 PopregRules.validate(e, {now, communes: appState.communes})
                   .map((p) => [p.field, p.rule]))""",
            [[event for _, event in items], NOW.isoformat()],
        )
    disagreements = [
        (label, server, sorted(tuple(p) for p in app))
        for (label, event), app in zip(items, in_browser, strict=True)
        if (server := server_problems(event)) != sorted(tuple(p) for p in app)
    ]
    assert disagreements == []
    valid = sum(1 for _, event in items if not server_problems(event))
    assert 50 < valid < len(items) - 300  # both kinds are well represented


# --- on the stack --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_settings(test_stack: StackUnderTest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return gateway_settings(test_stack, tmp_path_factory.mktemp("app-gateway"))


@pytest.fixture(scope="module")
def gateway(app_settings: Settings) -> Iterator[str]:
    with running(app_settings) as url:
        yield url


def enrol(settings: Settings, name: str = "Nguyễn Thị Lan") -> tuple[str, str]:
    """A collaborator of COMMUNE: (id, one-time code)."""
    collaborator, code = add_collaborator(settings, COMMUNE, name)
    return collaborator.id, code


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.stack
def test_three_events_recorded_offline_survive_a_closed_page_and_arrive_once(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    family = seed_family(test_stack.settings, COMMUNE, f"Trần Văn Hùng {uuid.uuid4().hex[:6]}")
    collaborator_id, code = enrol(app_settings)
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)
        assert page.evaluate("appState.session.collaborator.id") == collaborator_id
        shot(page, "app-home.png")

        # Looked up once online: the phone keeps the household for offline forms.
        new_form(page, "BirthRegistered")
        choose_household(page, family.head_name.lower(), family.household_id)
        page.click("text=Quay lại")

        context.set_offline(True)
        page.wait_for_function(
            "!navigator.onLine && document.querySelector('#net').dataset.online === 'no'"
        )

        new_form(page, "HouseholdEnumerated")
        page.fill(field(page, "address"), "Ấp 5, khóm 2")
        page.fill(field(page, "member_count"), "1")
        household_event = save(page)
        new_household = page.evaluate(
            "(id) => appState.outbox.find(r => r.event_id === id).event.envelope.household_id",
            household_event,
        )

        new_form(page, "PersonEnumerated")
        choose_household(page, new_household, new_household)
        page.fill(field(page, "person.full_name"), "Võ Thị Hoa")
        page.select_option(field(page, "person.sex"), "FEMALE")
        page.fill(field(page, "person.birth_date"), "1979-02-14")
        page.select_option(field(page, "person.marital_status"), "WIDOWED")
        assert page.input_value(field(page, "relation_to_head")) == "HEAD"
        person_event = save(page)

        new_form(page, "BirthRegistered")
        choose_household(page, "tran van hung", family.household_id)  # diacritics aside, offline
        page.fill(field(page, "child.full_name"), "Trần Thị Bé")
        page.select_option(field(page, "child.sex"), "FEMALE")
        page.select_option(field(page, "mother_id"), family.spouse_id)
        page.select_option(field(page, "father_id"), family.head_id)
        page.fill(field(page, "birth_order"), "2")
        shot(page, "app-birth-form.png")
        birth_event = save(page)

        ids = [household_event, person_event, birth_event]
        assert {r["event_id"]: r["state"] for r in outbox(page)} == dict.fromkeys(ids, "pending")
        page.close()

        # Closed and opened again with no connection: the service worker serves the app.
        page = context.new_page()
        page.goto(f"{gateway}/app/")
        wait_ready(page)
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        assert page.evaluate("navigator.onLine") is False
        wait_states(page, {i: {"pending"} for i in ids})
        assert page.locator("#pending").get_attribute("data-count") == "3"
        shot(page, "app-offline-pending.png")
        assert stored_events(test_stack.settings, ids) == {}

        context.set_offline(False)
        wait_states(page, {i: {"accepted", "applied"} for i in ids})
        wait_until(
            lambda: len(stored_events(test_stack.settings, ids)) == 3,
            60,
            lambda: f"in the registry: {stored_events(test_stack.settings, ids)}",
        )
        assert stored_events(test_stack.settings, ids) == dict.fromkeys(ids, (1, "applied"))
        with client(gateway, token_of(page)) as http:
            status = http.get("/v1/app/events/status", params={"ids": ",".join(ids)})
        assert status.status_code == 200, status.text
        assert {k: v["state"] for k, v in status.json().items()} == dict.fromkeys(ids, "applied")
        wait_states(page, {i: {"applied"} for i in ids})
        shot(page, "app-applied.png")

        # A resend of an event already accepted (an answer lost on the way) is harmless.
        event = page.evaluate(f"appState.outbox.find(r => r.event_id === '{birth_event}').event")
        with client(gateway, token_of(page)) as http:
            again = http.post("/v1/events", json=event).json()["results"][0]
        assert again["status"] == "duplicate"
        assert stored_events(test_stack.settings, ids) == dict.fromkeys(ids, (1, "applied"))


@pytest.mark.stack
def test_an_invalid_event_names_the_field_in_vietnamese_before_sending(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    family = seed_family(test_stack.settings, COMMUNE, f"Đỗ Văn Khoa {uuid.uuid4().hex[:6]}")
    _, code = enrol(app_settings)
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)
        new_form(page, "BirthRegistered")
        choose_household(page, family.household_id, family.household_id)
        page.select_option(field(page, "mother_id"), family.spouse_id)
        page.fill(field(page, "birth_order"), "0")
        page.click("#save")
        name_error = page.locator("#f-child-full_name-error")
        assert name_error.inner_text() == "Họ và tên trẻ: không được để trống"
        assert page.locator("#f-birth_order-error").inner_text() == "Con thứ: phải từ 1 trở lên"
        assert page.get_attribute(field(page, "child.full_name"), "aria-invalid") == "true"
        assert page.evaluate("document.activeElement.dataset.paths") == "child.full_name"

        # Fixed those: the citizen id does not encode a child born today.
        page.fill(field(page, "child.full_name"), "Đỗ Thị Nhi")
        page.select_option(field(page, "child.sex"), "FEMALE")
        page.fill(field(page, "birth_order"), "1")
        page.fill(field(page, "child.national_id"), "096290012345")
        page.click("#save")
        assert page.locator("#f-child-national_id-error").inner_text() == (
            "Số định danh của trẻ: số định danh không khớp với năm sinh hoặc giới tính"
        )
        shot(page, "app-invalid.png")
        assert page.evaluate("appState.outbox.length") == 0  # nothing stored, nothing sent

        page.fill(field(page, "child.national_id"), "")
        save(page)
        assert page.evaluate("appState.outbox.length") == 1


@pytest.mark.stack
def test_a_rejected_event_shows_the_reason_and_is_fixed_and_resent(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    """A divorce of a father and his son passes every rule of the form, but the registry
    refuses it (not married); fixed to name his wife, it is sent as a new event."""
    family = seed_family(test_stack.settings, COMMUNE, f"Bùi Văn Lộc {uuid.uuid4().hex[:6]}")
    _, code = enrol(app_settings)
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)
        new_form(page, "DivorceRegistered")
        choose_household(page, family.household_id, family.household_id)
        page.select_option(field(page, "spouse_a_id"), family.head_id)
        page.select_option(field(page, "spouse_b_id"), family.child_id)
        wrong = save(page)
        wait_states(page, {wrong: {"rejected"}})
        item = page.locator(f"#outbox li[data-event-id='{wrong}']")
        assert "Lý do: hai người này không phải vợ chồng của nhau" in item.inner_text()
        assert stored_events(test_stack.settings, [wrong]) == {wrong: (1, "rejected")}
        shot(page, "app-rejected.png")

        item.locator("button.fix").click()
        page.wait_for_selector("form#form[data-type=DivorceRegistered]")
        assert page.input_value(field(page, "spouse_a_id")) == family.head_id
        assert page.input_value(field(page, "spouse_b_id")) == family.child_id
        page.select_option(field(page, "spouse_b_id"), family.spouse_id)
        fixed = save(page)
        assert fixed != wrong
        wait_states(page, {fixed: {"applied"}, wrong: {"corrected"}})
        assert stored_events(test_stack.settings, [fixed]) == {fixed: (1, "applied")}


@pytest.mark.stack
def test_a_revoked_collaborators_pending_events_are_refused_and_kept(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    collaborator_id, code = enrol(app_settings, "Phan Văn Đức")
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)
        context.set_offline(True)
        new_form(page, "HouseholdEnumerated")
        page.fill(field(page, "address"), "Ấp 7")
        page.fill(field(page, "member_count"), "4")
        pending = save(page)
        revoke_collaborator(app_settings, collaborator_id)

        context.set_offline(False)
        wait_states(page, {pending: {"refused"}})
        assert page.locator("#revoked").is_visible()
        assert (
            "tài khoản đã bị thu hồi"
            in page.locator(f"#outbox li[data-event-id='{pending}']").inner_text()
        )
        shot(page, "app-revoked.png")

        page.reload()
        wait_ready(page)
        wait_states(page, {pending: {"refused"}})  # still on the phone, visible
        assert page.evaluate("appState.outbox.length") == 1
    assert stored_events(test_stack.settings, [pending]) == {}


@pytest.mark.stack
def test_a_collaborator_cannot_find_another_communes_household(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    name = f"Phạm Văn Tài {uuid.uuid4().hex[:6]}"  # the same head's name in both communes
    mine = seed_family(test_stack.settings, COMMUNE, name)
    theirs = seed_family(test_stack.settings, OTHER_COMMUNE, name)
    _, code = enrol(app_settings)
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)
        new_form(page, "DeathRegistered")
        assert search_finds(page, theirs.household_id) == []
        assert page.locator("#hh-none").inner_text() == "Không tìm thấy hộ nào trong xã của bạn."
        assert search_finds(page, name) == [mine.household_id]
        assert search_finds(page, name.lower().replace("ạ", "a").replace("à", "a")) == [
            mine.household_id
        ]
        token = token_of(page)
    with client(gateway, token) as http:
        assert http.get(f"/v1/app/households/{theirs.household_id}").status_code == 404
        assert http.get(f"/v1/app/households/{mine.household_id}").status_code == 200
        # and it cannot act on it: a death in the other commune's household is refused
        event = death_of(theirs, page_event_reporter(http))
        answer = http.post("/v1/events", json=event)
    assert answer.status_code == 403, answer.text
    assert stored_events(test_stack.settings, [event["envelope"]["event_id"]]) == {}


def page_event_reporter(http: httpx.Client) -> str:
    reporter: str = http.get("/v1/app/me").json()["id"]
    return reporter


def death_of(family: Any, reporter: str) -> dict[str, Any]:
    day = today_in_vietnam()
    return {
        "type": "DeathRegistered",
        "envelope": {
            "event_id": str(uuid.uuid4()), "occurred_on": day,
            "recorded_at": f"{day}T00:00:00+07:00",
            "commune_code": COMMUNE, "household_id": family.household_id, "reporter_id": reporter,
            "channel": "MOBILE", "source_system": "popreg-app/1",
        },
        "person_id": family.child_id, "date_of_death": day, "age_at_death": 11, "place": "HOME",
    }  # fmt: skip


@pytest.mark.stack
def test_every_form_records_an_event_the_registry_applies(
    test_stack: StackUnderTest, app_settings: Settings, gateway: str
) -> None:
    """The forms not met above, in one household's story typed on the phone: a person
    moves in from abroad, the son moves to another commune, the head dies, his widow
    marries the newcomer, the death is amended (place) and the marriage voided."""
    family = seed_family(test_stack.settings, COMMUNE, f"Hồ Văn Sáu {uuid.uuid4().hex[:6]}")
    _, code = enrol(app_settings)
    with phone_context() as context:
        page = context.new_page()
        activate(page, gateway, code)

        def in_household(event_type: str) -> None:
            new_form(page, event_type)
            choose_household(page, family.household_id, family.household_id)

        in_household("MovedIn")
        page.fill(field(page, "persons.0.full_name"), "Lý Văn Tư")
        page.select_option(field(page, "persons.0.sex"), "MALE")
        page.fill(field(page, "persons.0.birth_date"), "1985-03-09")
        page.select_option(field(page, "persons.0.marital_status"), "NEVER_MARRIED")
        page.select_option(field(page, "origin"), "ABROAD")
        moved_in = save(page)
        newcomer = page.evaluate(
            "(id) => appState.outbox.find(r => r.event_id === id).event.person_ids[0]", moved_in
        )
        wait_states(page, {moved_in: {"applied"}})

        in_household("MovedOut")
        page.check(f"#form input[name=person_ids][value='{family.child_id}']")
        page.select_option(field(page, "destination"), "ANOTHER_COMMUNE")
        page.fill(field(page, "destination_commune_code"), OTHER_COMMUNE)
        moved_out = save(page)

        in_household("DeathRegistered")
        page.select_option(field(page, "person_id"), family.head_id)
        assert page.input_value(field(page, "age_at_death")) != ""  # from the birth date
        page.select_option(field(page, "place"), "HOME")
        death = save(page)
        wait_states(page, {moved_out: {"applied"}, death: {"applied"}})

        # The newcomer and the widow, chosen from the household as the phone now knows it.
        in_household("MarriageRegistered")
        page.select_option(field(page, "spouse_a_id"), family.spouse_id)
        page.select_option(field(page, "spouse_b_id"), newcomer)
        marriage = save(page)
        wait_states(page, {marriage: {"applied"}})

        new_form(page, "EventAmended")
        page.select_option(field(page, "target_event_id"), death)
        page.fill("#amend-fields [data-amend=place]", "HEALTH_FACILITY")
        page.fill(field(page, "reason"), "nhập nhầm nơi mất")
        amendment = save(page)

        new_form(page, "EventVoided")
        page.select_option(field(page, "target_event_id"), marriage)
        page.fill(field(page, "reason"), "ghi nhầm hộ")
        void = save(page)
        wait_states(page, {amendment: {"applied"}, void: {"applied"}})
        shot(page, "app-every-form.png")

        page.click("#lang")  # in English, and back
        assert page.locator("#main h2").first.inner_text() == "Record a new event"
        assert "In the registry" in page.locator(f"#outbox li[data-event-id='{void}']").inner_text()
        page.click("#lang")
        assert page.locator("#lang").inner_text() == "English"

    ids = [moved_in, moved_out, death, marriage, amendment, void]
    assert {k: v[0] for k, v in stored_events(test_stack.settings, ids).items()} == dict.fromkeys(
        ids, 1
    )
    amended = stored_payload(test_stack.settings, amendment)
    assert amended["corrected_fields"] == {"place": '"HEALTH_FACILITY"'}
