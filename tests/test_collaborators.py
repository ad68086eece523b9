"""Collaborators' accounts and the app's read API (issue 32): enrolment, one-time
activation, revocation at the next request, reporter_id, and reads scoped to the
collaborator's commune and logged, through the real gateway on the test stack.

The registry holds, for this module, households under a tag of its own: one of today's
commune 32014 (with a member who moved out), one of 32032 (a pre-reform commune wholly
merged into 32014, so 32014's collaborators hold it), and two with the same head's name
in 32002 (another commune) and 32122 (a pre-reform commune only partly merged into
32014): those two must never be found by a collaborator of 32014.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import stat
import string
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from producers.gateway import issue_token
from producers.gateway.activation_codes import ALPHABET, new_code, normalise
from producers.gateway.collaborators import (
    NotACollaborator,
    activate,
    add_collaborator,
    commune_codes,
    list_collaborators,
    revoke_collaborator,
    roster_path,
)
from producers.gateway.rate_limit import FailureLimiter
from producers.gateway.read_log import read_log_path, read_records
from producers.gateway.text_fold import fold, fold_table
from producers.gateway.tokens import revoke_token
from schemas.settings import GATEWAY_LOGIN, Settings
from schemas.validation import parse_event
from tests.cli_env import popreg
from tests.conftest import StackUnderTest
from tests.gateway_server import client, gateway_settings, running
from tests.producing import publish
from tests.waiting import wait_projected

pytestmark = pytest.mark.stack

COMMUNE = "32014"  # today's Phường Lý Văn Lâm: 32014 and 32032 whole, 32122 in part
WHOLE_OLD = "32032"
PART_OLD = "32122"
OTHER = "32002"

TAG = "".join(random.choices(string.ascii_uppercase, k=6))
WORD = TAG.capitalize()  # a syllable no other test's names hold
HEAD = f"Nguyễn Văn {WORD}"
SPOUSE = f"Trần Thị Ánh {WORD}"
OLD_HEAD = f"Lê Đức {WORD}"
HOME, OLD, FOREIGN, PART, NURSERY = (f"HC-{TAG}-{n}" for n in (1, 2, 3, 4, 5))
MOTHER = f"{NURSERY}-P1"  # the app's births go to her household, not HOME
SECONDS = itertools.count()
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in "ABCD-EFGH-JK")
SPOUSE_NID = "0961" + "90" + "".join(random.choices(string.digits, k=6))  # female, 1990


def env(household: str, commune: str, on: str = "2024-01-01", **more: Any) -> dict[str, Any]:
    """An envelope recorded a second after the previous one: events of one day apply in
    the order written (history order ties on recorded_at would fall to random ids)."""
    second = next(SECONDS)
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_on": on,
        "recorded_at": f"{on}T09:{second // 60:02d}:{second % 60:02d}+07:00",
        "commune_code": commune,
        "household_id": household,
        "reporter_id": "CTV-seed",
        "channel": "MOBILE",
        "source_system": "popreg-tests",
        **more,
    }


def person(pid: str, name: str, sex: str, born: str, nid: str | None = None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "full_name": name,
        "sex": sex,
        "birth_date": born,
        "ethnicity": "01",
        "national_id": nid,
        "marital_status": "MARRIED",
    }


def household(hid: str, commune: str, head: dict[str, Any], size: int) -> list[dict[str, Any]]:
    return [
        {"type": "HouseholdEnumerated", "envelope": env(hid, commune), "address": "Ấp 1",
         "head_person_id": head["person_id"], "member_count": size},
        {"type": "PersonEnumerated", "envelope": env(hid, commune), "person": head,
         "relation_to_head": "HEAD", "spouse_id": None},
    ]  # fmt: skip


def seed_registry(settings: Settings) -> None:
    head = person(f"{HOME}-P1", HEAD, "MALE", "1980-02-01")
    spouse = person(f"{HOME}-P2", SPOUSE, "FEMALE", "1990-05-17", SPOUSE_NID)
    son = {**person(f"{HOME}-P3", f"Nguyễn Văn Con {WORD}", "MALE", "2005-01-01"),
           "marital_status": "NEVER_MARRIED"}  # fmt: skip
    story = [
        *household(HOME, COMMUNE, head, 3),
        {"type": "PersonEnumerated", "envelope": env(HOME, COMMUNE), "person": spouse,
         "relation_to_head": "SPOUSE", "spouse_id": None},
        {"type": "PersonEnumerated", "envelope": env(HOME, COMMUNE), "person": son,
         "relation_to_head": "CHILD", "spouse_id": None},
        {"type": "MovedOut", "envelope": env(HOME, COMMUNE, "2024-06-01"),
         "person_ids": [son["person_id"]], "destination": "ANOTHER_COMMUNE",
         "destination_commune_code": "00004"},
        *household(OLD, WHOLE_OLD, person(f"{OLD}-P1", OLD_HEAD, "MALE", "1970-01-01"), 1),
        *household(FOREIGN, OTHER, person(f"{FOREIGN}-P1", HEAD, "MALE", "1980-02-01"), 1),
        *household(PART, PART_OLD, person(f"{PART}-P1", HEAD, "MALE", "1980-02-01"), 1),
        *household(NURSERY, COMMUNE, person(MOTHER, f"Võ Thị {WORD}", "FEMALE", "1995-03-03"), 1),
    ]  # fmt: skip
    wait_projected(settings, publish(settings, [parse_event(item) for item in story]))


@pytest.fixture(scope="module")
def gw(test_stack: StackUnderTest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = gateway_settings(test_stack, tmp_path_factory.mktemp("collaborators"))
    seed_registry(test_stack.settings)
    return settings


@pytest.fixture(scope="module")
def gateway(gw: Settings) -> Iterator[str]:
    # Many failed activations below come from one address: the limit has its own test.
    with running(gw, activation_limiter=FailureLimiter(limit=10_000)) as url:
        yield url


def enrolled(settings: Settings, commune: str = COMMUNE) -> tuple[str, str]:
    """A new activated collaborator of `commune`: (id, token)."""
    added, code = add_collaborator(settings, commune, "Phạm Thị Hoa")
    collaborator, token = activate(settings, code)
    assert collaborator.id == added.id
    return added.id, token


def post_activate(url: str, code: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/app/activate", json={"code": code}, timeout=30)


def app_event(collaborator: str, **changes: Any) -> dict[str, Any]:
    """A birth in the nursery household, reported by `collaborator`."""
    child = {**person(f"{NURSERY}-B{uuid.uuid4().hex[:6]}", f"Võ Thị Bé {WORD}", "FEMALE",
                      "2025-08-01"), "marital_status": "NEVER_MARRIED"}  # fmt: skip
    event: dict[str, Any] = {
        "type": "BirthRegistered",
        "envelope": env(NURSERY, COMMUNE, "2025-08-01", reporter_id=collaborator,
                        source_system="popreg-app/test"),
        "child": child, "mother_id": MOTHER, "father_id": None, "birth_order": 1,
    }  # fmt: skip
    event["envelope"].update(changes)
    return event


# --- activation codes and the roster ------------------------------------------------------


def test_codes_are_read_case_and_dash_insensitively_and_malformed_ones_are_none() -> None:
    code = new_code()
    assert len(code) == 12 and code[4] == code[9] == "-"
    bare = code.replace("-", "")
    assert set(bare) <= set(ALPHABET) and not set("01IOL") & set(ALPHABET)
    for typed in (code, bare, bare.lower(), f"  {code.lower()} ", code.replace("-", "\u2013")):
        assert normalise(typed) == bare
    for bad in ("", bare[:-1], bare + "A", "0" + bare[1:], "O" + bare[1:], bare[:-1] + "é",
                bare[:5] + "\x00" + bare[5:], "A" * 10_000, FULLWIDTH):  # fmt: skip
        assert normalise(bad) is None, repr(bad[:20])


def test_enrolment_numbers_per_commune_keeps_the_roster_private_and_refuses_bad_input(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    first, code = add_collaborator(settings, COMMUNE, "Nguyễn Thị Lan")
    second, _ = add_collaborator(settings, COMMUNE, "Nguyen Thi Lan\u0301")
    other, _ = add_collaborator(settings, OTHER, "Lê Văn Tám")
    assert (first.id, second.id, other.id) == ("ctv-32014-0001", "ctv-32014-0002", "ctv-32002-0001")
    assert second.name == unicodedata.normalize("NFC", "Nguyen Thi Lan\u0301")
    assert first.code_expires_at - first.enrolled_at == timedelta(hours=24)

    path = roster_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert code not in text and code.replace("-", "") not in text

    revoked = revoke_collaborator(settings, first.id)
    assert revoked.revoked_at is not None
    third, _ = add_collaborator(settings, COMMUNE, "Đỗ Thị Mai")
    assert third.id == "ctv-32014-0003"  # a revoked id is never given again
    listed = list_collaborators(settings)
    assert [c.id for c in listed] == [other.id, first.id, second.id, third.id]
    assert [c.active for c in listed] == [True, False, True, True]

    with pytest.raises(NotACollaborator):
        revoke_collaborator(settings, "ctv-32014-9999")
    for commune in ("3201", "abcde", "99999", "32032"):  # 32032: not a commune since 2025
        with pytest.raises(ValueError, match="commune code in force today"):
            add_collaborator(settings, commune, "Lê Văn Tám")
    for name in ("", "   ", "Lê\x00Văn", "Lê\u202eVăn", "x" * 201):
        with pytest.raises(ValueError, match="name"):
            add_collaborator(settings, COMMUNE, name)
    assert len(list_collaborators(settings)) == 4


def test_a_collaborator_holds_the_communes_merged_whole_into_theirs() -> None:
    assert commune_codes(COMMUNE) == (COMMUNE, WHOLE_OLD)
    assert PART_OLD not in commune_codes(COMMUNE)


def test_the_cli_adds_lists_and_revokes_with_a_qr_code(gw: Settings, tmp_path: Path) -> None:
    settings = gw.model_copy(update={"data_dir": tmp_path})
    png = tmp_path / "qr.png"
    added = popreg(settings, "gateway", "collaborator", "add", "--commune", COMMUNE,
                   "--name", "Nguyễn Thị Lan", "--qr-png", str(png))  # fmt: skip
    assert added.returncode == 0, added.stderr
    (collaborator,) = list_collaborators(settings)
    code = next(line for line in added.stdout.splitlines() if normalise(line.strip()))
    assert collaborator.id in added.stdout
    url = f"http://127.0.0.1:{settings.gateway.port}/app/#activate={code.strip()}"
    assert url in added.stdout
    assert "▄" in added.stdout or "█" in added.stdout  # the QR code in the terminal
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    listed = popreg(settings, "gateway", "collaborator", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert (document["active"], document["revoked"]) == (1, 0)
    assert "code_sha256" not in listed.stdout

    revoked = popreg(settings, "gateway", "collaborator", "revoke", collaborator.id)
    assert revoked.returncode == 0, revoked.stderr
    table = popreg(settings, "gateway", "collaborator", "list")
    assert "0 active, 1 revoked" in table.stdout
    again = popreg(settings, "gateway", "collaborator", "revoke", "ctv-32014-0009")
    assert again.returncode != 0 and "ctv-32014-0009" in again.stderr + again.stdout
    bad = popreg(settings, "gateway", "collaborator", "add", "--commune", "123",
                 "--name", "Lan")  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


# --- activation over HTTP -----------------------------------------------------------------


def test_activation_answers_the_profile_once(gw: Settings, gateway: str) -> None:
    added, code = add_collaborator(gw, COMMUNE, "Nguyễn Thị Lan")
    answer = post_activate(gateway, code.replace("-", "").lower())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"token", "collaborator"}
    assert body["collaborator"] == {
        "id": added.id,
        "name": "Nguyễn Thị Lan",
        "commune_code": COMMUNE,
        "commune_name": "Phường Lý Văn Lâm",
        "province_code": "96",
        "codes": list(commune_codes(COMMUNE)),
    }
    assert body["collaborator"]["codes"][0] == COMMUNE
    with client(gateway, body["token"]) as http:
        me = http.get("/v1/app/me")
    assert (me.status_code, me.json()) == (200, body["collaborator"])

    used = post_activate(gateway, code)
    assert used.status_code == 400
    assert used.json()["reason"] == "used_code"
    assert "token" not in used.json()


def test_unknown_expired_and_revoked_codes_are_400_with_their_reason(
    gw: Settings, gateway: str
) -> None:
    _, expired = add_collaborator(gw, COMMUNE, "Lan", valid_for=timedelta(microseconds=1))
    revoked, revoked_code = add_collaborator(gw, COMMUNE, "Lan")
    revoke_collaborator(gw, revoked.id)
    for code, reason in ((new_code(), "unknown_code"), (expired, "expired_code"),
                         (revoked_code, "revoked"), ("ABCD", "unknown_code"),
                         (FULLWIDTH, "unknown_code"),
                         ("Lê\x00Văn Tám", "unknown_code")):  # fmt: skip
        answer = post_activate(gateway, code)
        assert answer.status_code == 400, (code, answer.text)
        body = answer.json()
        assert body["reason"] == reason
        assert " / " in body["detail"]  # Vietnamese, then English


@pytest.mark.parametrize(
    "body",
    [{"code": 5}, {"code": None}, {}, [], {"code": "A" * 100}, "not json"],
)
def test_a_malformed_activation_body_is_422_without_echoing_it(gateway: str, body: Any) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    answer = httpx.post(
        f"{gateway}/v1/app/activate",
        content=content,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["reason"] == "invalid_request"
    assert "A" * 100 not in answer.text


def test_failed_activations_are_limited_per_address(
    test_stack: StackUnderTest, tmp_path: Path
) -> None:
    settings = gateway_settings(test_stack, tmp_path)
    _, code = add_collaborator(settings, COMMUNE, "Lan")
    now = [1000.0]
    limiter = FailureLimiter(limit=3, window_s=60, clock=lambda: now[0])
    with running(settings, activation_limiter=limiter) as url:
        for _ in range(3):
            assert post_activate(url, new_code()).json()["reason"] == "unknown_code"
        blocked = post_activate(url, code)  # even the right code waits
        assert blocked.status_code == 429
        assert blocked.json()["reason"] == "rate_limited"
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        now[0] += 61
        assert post_activate(url, code).status_code == 200


# --- tokens: revocation at the next request, reporter_id -----------------------------------


def test_revocation_takes_effect_at_the_next_request_with_reason_revoked(
    gw: Settings, gateway: str
) -> None:
    collaborator, token = enrolled(gw)
    with client(gateway, token) as http:
        assert http.get("/v1/app/me").status_code == 200
        sent = http.post("/v1/events", json=app_event(collaborator))
        assert sent.status_code == 200, sent.text
        revoke_collaborator(gw, collaborator)
        answers = (
            http.get("/v1/app/me"),
            http.post("/v1/events", json=app_event(collaborator)),
            http.get("/v1/app/households", params={"q": WORD}),
        )
        for answer in answers:
            assert answer.status_code == 401
            assert answer.json()["reason"] == "revoked"
            assert answer.headers["WWW-Authenticate"] == "Bearer"

    # The token revoked as a token rather than as a collaborator is also "revoked".
    other, other_token = enrolled(gw)
    assert revoke_token(gw, other) == 1
    with client(gateway, other_token) as http:
        assert http.get("/v1/app/me").json()["reason"] == "revoked"
    with client(gateway, "not-a-token") as http:
        assert http.get("/v1/app/me").json()["reason"] == "unknown_token"
    with client(gateway, None) as http:
        answer = http.get("/v1/app/me")
        assert (answer.status_code, answer.json()["reason"]) == (401, "missing_token")


def test_a_collaborator_sends_only_events_they_report_in_their_commune(
    gw: Settings, gateway: str
) -> None:
    collaborator, token = enrolled(gw)
    someone, _ = enrolled(gw)
    mine, theirs = app_event(collaborator), app_event(someone)
    with client(gateway, token) as http:
        answer = http.post("/v1/events", json=[mine, theirs])
        assert answer.status_code == 403
        assert (answer.json()["reason"], answer.json()["indexes"]) == ("reporter_mismatch", [1])
        foreign = app_event(collaborator, commune_code=OTHER, household_id=FOREIGN)
        answer = http.post("/v1/events", json=foreign)
        assert (answer.status_code, answer.json()["reason"]) == (403, "foreign_commune")
        accepted = http.post("/v1/events", json=mine)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["results"][0]["status"] == "accepted"
        again = http.post("/v1/events", json=mine)
        assert again.json()["results"][0]["status"] == "duplicate"


# --- the read API ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(gw: Settings) -> tuple[str, str]:
    return enrolled(gw)


def search(gateway: str, token: str, q: str) -> httpx.Response:
    with client(gateway, token) as http:
        return http.get("/v1/app/households", params={"q": q})


@pytest.mark.parametrize(
    "q",
    [f"nguyen van {TAG.lower()}", f"NGUYỄN VĂN {TAG}", unicodedata.normalize("NFD", HEAD),
     f"  nguyen   van {TAG.lower()} ", f"van {TAG.lower()}"],
)  # fmt: skip
def test_a_head_is_found_by_name_without_case_or_diacritics_in_the_commune_only(
    gateway: str, reader: tuple[str, str], q: str
) -> None:
    answer = search(gateway, reader[1], q)
    assert answer.status_code == 200, answer.text
    assert [h["household_id"] for h in answer.json()] == [HOME]  # not FOREIGN, not PART


def test_a_household_found_has_its_current_members_only(
    gateway: str, reader: tuple[str, str]
) -> None:
    (found,) = search(gateway, reader[1], HOME).json()
    assert found == {
        "household_id": HOME,
        "commune_code": COMMUNE,
        "head_name": HEAD,
        "members": [
            {"person_id": f"{HOME}-P1", "full_name": HEAD, "sex": "MALE",
             "birth_date": "1980-02-01", "relationship": "HEAD", "national_id": None},
            {"person_id": f"{HOME}-P2", "full_name": SPOUSE, "sex": "FEMALE",
             "birth_date": "1990-05-17", "relationship": "SPOUSE", "national_id": SPOUSE_NID},
        ],  # the son moved out
    }  # fmt: skip
    assert search(gateway, reader[1], HOME.lower()).json() == [found]
    with client(gateway, reader[1]) as http:
        one = http.get(f"/v1/app/households/{HOME}")
        assert (one.status_code, one.json()) == (200, found)
        old = http.get(f"/v1/app/households/{OLD}")
        assert old.status_code == 200 and old.json()["head_name"] == OLD_HEAD
    by_old_head = search(gateway, reader[1], f"le duc {TAG.lower()}").json()
    assert [h["household_id"] for h in by_old_head] == [OLD]


def test_another_communes_household_is_not_found_as_if_it_did_not_exist(
    gateway: str, reader: tuple[str, str]
) -> None:
    with client(gateway, reader[1]) as http:
        nowhere = http.get(f"/v1/app/households/HC-{TAG}-NOWHERE")
        for hid in (FOREIGN, PART):
            answer = http.get(f"/v1/app/households/{hid}")
            assert answer.status_code == 404
            assert answer.json() == nowhere.json()
            assert answer.json()["reason"] == "not_found"
            assert http.get("/v1/app/households", params={"q": hid}).json() == []
    assert nowhere.status_code == 404


@pytest.mark.parametrize(
    "q", ["", "   ", "Lê\x00Văn", "Lê\u200bVăn", "Lê\tVăn", "x" * 101, "x" * 5000]
)
def test_a_malformed_query_is_422_with_a_reason(
    gateway: str, reader: tuple[str, str], q: str
) -> None:
    answer = search(gateway, reader[1], q)
    assert answer.status_code == 422, answer.text
    assert answer.json()["reason"] in {"invalid_query", "invalid_request"}
    assert "x" * 100 not in answer.text


@pytest.mark.parametrize("q", ["%", "_", "\\", "%%%", "' OR 1=1 --"])
def test_like_wildcards_and_quotes_are_taken_literally(
    gateway: str, reader: tuple[str, str], q: str
) -> None:
    answer = search(gateway, reader[1], q)
    assert (answer.status_code, answer.json()) == (200, [])


@pytest.mark.parametrize("hid", ["a b", "Lê", "x" * 65, "H1;DROP", "%2e%2e"])
def test_a_malformed_household_id_is_422(gateway: str, reader: tuple[str, str], hid: str) -> None:
    with client(gateway, reader[1]) as http:
        answer = http.get(f"/v1/app/households/{hid}")
    assert answer.status_code in {404, 422}, answer.text
    if answer.status_code == 422:
        assert answer.json()["reason"] == "invalid_household_id"


def test_a_communes_token_is_not_a_collaborators(gw: Settings, gateway: str) -> None:
    with client(gateway, issue_token(gw, COMMUNE, [])) as http:
        answer = http.get("/v1/app/households", params={"q": WORD})
    assert (answer.status_code, answer.json()["reason"]) == (403, "not_a_collaborator")


def test_every_read_is_logged_with_ids_and_never_names(
    gw: Settings, gateway: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="popreg")
    collaborator, token = enrolled(gw)
    search(gateway, token, f"nguyen van {TAG.lower()}")
    search(gateway, token, HOME)
    with client(gateway, token) as http:
        http.get(f"/v1/app/households/{FOREIGN}")
        http.get("/v1/app/me")
    records = [r for r in read_records(read_log_path(gw)) if r.collaborator == collaborator]
    assert [(r.route, r.query, r.ids) for r in records] == [
        ("/v1/app/households", {"kind": "name", "chars": len(f"nguyen van {TAG}")}, [HOME]),
        ("/v1/app/households", {"kind": "id", "q": HOME}, [HOME]),
        ("/v1/app/households/{id}", {"household_id": FOREIGN}, []),
        ("/v1/app/me", {}, []),
    ]
    path = read_log_path(gw)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    typed = f"nguyen van {TAG.lower()}"  # the tag alone is also in the households' ids
    for secret in (HEAD, SPOUSE, typed, SPOUSE_NID, token, "Phạm Thị Hoa"):
        assert secret not in path.read_text()
        assert secret not in caplog.text


def test_event_status_tells_applied_rejected_and_unknown_for_ones_own_events(
    test_stack: StackUnderTest, gw: Settings, gateway: str, reader: tuple[str, str]
) -> None:
    collaborator, token = reader
    someone, someone_token = enrolled(gw)
    applied = app_event(collaborator)
    rejected: dict[str, Any] = {
        "type": "DeathRegistered",
        "envelope": env(NURSERY, COMMUNE, "2025-08-02", reporter_id=collaborator),
        "person_id": f"{HOME}-NOBODY", "date_of_death": "2025-08-02", "age_at_death": 50,
        "place": "HOME",
    }  # fmt: skip
    theirs = app_event(someone)
    ends: dict[int, int] = {}
    batches: list[tuple[str, list[dict[str, Any]]]] = [
        (token, [applied, rejected]),
        (someone_token, [theirs]),
    ]
    for http_token, batch in batches:
        with client(gateway, http_token) as http:
            answer = http.post("/v1/events", json=batch)
        assert answer.status_code == 200, answer.text
        for result in answer.json()["results"]:
            ends[result["partition"]] = max(ends.get(result["partition"], -1), result["offset"])
    wait_projected(test_stack.settings, ends)

    never = str(uuid.uuid4())
    ids = [applied["envelope"]["event_id"], rejected["envelope"]["event_id"],
           theirs["envelope"]["event_id"], never]  # fmt: skip
    with client(gateway, token) as http:
        answer = http.get("/v1/app/events/status", params={"ids": ",".join(ids)})
    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert status[ids[0]] == {"state": "applied", "reason": None}
    assert status[ids[1]]["state"] == "rejected" and status[ids[1]]["reason"]
    assert status[ids[2]] == status[ids[3]] == {"state": "unknown", "reason": None}
    (record,) = [
        r for r in read_records(read_log_path(gw))
        if r.collaborator == collaborator and r.route == "/v1/app/events/status"
    ]  # fmt: skip
    assert sorted(record.ids) == sorted(ids[:2])

    with client(gateway, token) as http:
        for bad in ("", "not-a-uuid", f"{never},x", ",".join([never] * 501)):
            answer = http.get("/v1/app/events/status", params={"ids": bad})
            assert answer.status_code == 422, bad[:40]
            assert answer.json()["reason"] in {"invalid_ids", "invalid_request"}


# --- the reads' PostgreSQL role and the fold in SQL -------------------------------------------


def test_the_reads_role_sees_what_the_app_shows_and_nothing_more(gw: Settings) -> None:
    def refused(conn: psycopg.Connection[Any], sql: str) -> bool:
        try:
            conn.execute(sql)
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()
            return True
        conn.rollback()
        return False

    with psycopg.connect(gw.login_url(GATEWAY_LOGIN)) as conn:
        assert refused(conn, "SELECT full_name FROM persons LIMIT 1")  # not without SET ROLE
        assert not refused(conn, "SELECT commune_code FROM households LIMIT 1")
        for allowed in (
            "SELECT full_name, sex, birth_date, national_id FROM persons LIMIT 1",
            "SELECT head_person_id, dissolved_on FROM households LIMIT 1",
            "SELECT relation_to_head, left_on FROM household_members LIMIT 1",
            "SELECT reporter_id, outcome, reason FROM app_event_verdicts LIMIT 1",
        ):
            conn.execute("SET ROLE popreg_app_reader")
            assert not refused(conn, allowed), allowed
        for denied in ("SELECT address FROM households", "SELECT ethnicity FROM persons",
                       "SELECT payload FROM events", "SELECT * FROM rejected_events",
                       "UPDATE persons SET full_name = full_name",
                       "DELETE FROM household_members"):  # fmt: skip
            conn.execute("SET ROLE popreg_app_reader")
            assert refused(conn, denied), denied


def test_the_fold_in_sql_equals_the_fold_in_python(gw: Settings) -> None:
    table = fold_table()
    assert table["Ễ"] == table["ễ"] == "e" and table["Đ"] == "d" and table["Ư"] == "u"
    samples = [*table, "Nguyễn Văn Ẩn", "ĐẶNG THỊ ỨC", "Ω ß ø", "abc-123"]
    with psycopg.connect(gw.login_url(GATEWAY_LOGIN)) as conn:
        conn.execute("SET ROLE popreg_app_reader")
        folded = [conn.execute("SELECT app_fold(%s)", (s,)).fetchone() for s in samples]
    assert [row[0] if row else None for row in folded] == [fold(s) for s in samples]
