"""The HTTP ingest gateway, served by uvicorn and publishing to the test stack's broker.

Other tests publish to the same topic, so events are found by their fresh event_ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from infra.ports import free_port
from producers.gateway import issue_token, list_tokens, lookup, revoke_token
from schemas.codec import DecodeError
from schemas.models import EVENT_MODELS, Event
from schemas.settings import GATEWAY_LOGIN, GatewaySettings, KafkaSettings, Settings
from schemas.validation import parse_event
from schemas.wire import Codec
from tests.conftest import StackUnderTest
from tests.gateway_server import client, running
from tests.gateway_server import gateway_settings as shared_gateway_settings
from tests.producing import publish
from tests.samples import COMMUNE, SAMPLES, sample
from tests.waiting import wait_projected

pytestmark = pytest.mark.stack

BODY_LIMIT = 65_536
MAX_BATCH = 12
OTHER_COMMUNE = "00004"

Landed = tuple[int, int, Event]  # partition, offset, the decoded event


def gateway_settings(stack: StackUnderTest, data_dir: Path, **changes: Any) -> Settings:
    """The shared gateway's settings with this file's small limits."""
    limits = GatewaySettings(max_body_bytes=BODY_LIMIT, max_batch=MAX_BATCH)
    return shared_gateway_settings(stack, data_dir, gateway=limits, **changes)


def fresh(name: str = "BirthRegistered", **envelope: Any) -> dict[str, Any]:
    """A valid sample event with a new event_id."""
    event = sample(name)
    event["envelope"] = {**event["envelope"], "event_id": str(uuid.uuid4()), **envelope}
    return event


def event_id(item: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(item["envelope"]["event_id"])


def on_topic(
    settings: Settings, event_ids: set[uuid.UUID], ends: dict[int, int]
) -> dict[uuid.UUID, list[Landed]]:
    """Every copy of these events on the events topic, read from the start of each
    partition in `ends` up to the offset given (the broker's watermarks undercount)."""
    topic = settings.topics.events
    codec = Codec()
    found: dict[uuid.UUID, list[Landed]] = defaultdict(list)
    consumer = Consumer(
        settings.kafka_config(**{"group.id": f"gw-{uuid.uuid4().hex}", "enable.auto.commit": False})
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
    left = set(ends)
    deadline = time.monotonic() + 30
    try:
        while left:
            assert time.monotonic() < deadline, f"partitions {left} not read to their end"
            msg = consumer.poll(0.5)
            if msg is None or msg.error() is not None:
                continue
            partition, offset = msg.partition(), msg.offset()
            assert partition is not None and offset is not None
            if offset >= ends[partition]:
                left.discard(partition)
            try:
                event = codec.decode(msg.value())
            except DecodeError:
                continue
            if event.envelope.event_id in event_ids:
                found[event.envelope.event_id].append((partition, offset, event))
    finally:
        consumer.close()
    return found


def ends_of(results: list[dict[str, Any]]) -> dict[int, int]:
    """The last offset per partition among accepted results."""
    ends: dict[int, int] = {}
    for result in results:
        if result["status"] == "accepted":
            partition = result["partition"]
            ends[partition] = max(ends.get(partition, -1), result["offset"])
    return ends


def publish_marker(http: httpx.Client) -> dict[int, int]:
    """Publish one more event of the samples' household (so to the same partition) and
    return where it landed: reading up to it reads past everything the gateway sent before."""
    answer = http.post("/v1/events", json=fresh())
    assert answer.status_code == 200
    return ends_of(answer.json()["results"])


@pytest.fixture(scope="module")
def gw_settings(test_stack: StackUnderTest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return gateway_settings(test_stack, tmp_path_factory.mktemp("gateway"))


@pytest.fixture(scope="module")
def gateway(gw_settings: Settings) -> Iterator[str]:
    with running(gw_settings) as url:
        yield url


@pytest.fixture(scope="module")
def token(gw_settings: Settings) -> str:
    return issue_token(gw_settings, COMMUNE, [])


@pytest.fixture
def http(gateway: str, token: str) -> Iterator[httpx.Client]:
    with client(gateway, token) as c:
        yield c


def test_health_docs_and_openapi(gateway: str) -> None:
    with client(gateway, None) as c:
        health = c.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert c.get("/docs").status_code == 200
        document = c.get("/openapi.json").json()
    post = document["paths"]["/v1/events"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]
    assert set(EVENT_MODELS) <= set(document["components"]["schemas"])
    assert "IngestResponse" in document["components"]["schemas"]
    text = json.dumps(document)
    assert all(f'"{name}"' in text for name in EVENT_MODELS)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"]
)
def test_missing_or_unknown_token_is_401(gateway: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = httpx.post(f"{gateway}/v1/events", json=fresh(), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["detail"]


def test_events_of_a_commune_the_token_lacks_are_403_and_not_published(
    gw_settings: Settings, gateway: str, http: httpx.Client
) -> None:
    mine, foreign = fresh(), fresh(commune_code=OTHER_COMMUNE)
    answer = http.post("/v1/events", json=[mine, foreign])
    assert answer.status_code == 403
    assert answer.json()["indexes"] == [1]

    with client(gateway, issue_token(gw_settings, OTHER_COMMUNE, [])) as other:
        answer = other.post("/v1/events", json=[fresh(), mine])
    assert answer.status_code == 403
    assert answer.json()["indexes"] == [0, 1]
    assert on_topic(gw_settings, {event_id(mine), event_id(foreign)}, publish_marker(http)) == {}


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'"an event"', b"[1, 2]", b"[]", b"\xff\xfe\xfa", b"[" * 60_000]
)
def test_a_body_that_is_not_events_is_422(http: httpx.Client, body: bytes) -> None:
    answer = http.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"]


def test_a_single_invalid_event_is_422_naming_field_and_rule(http: httpx.Client) -> None:
    event = fresh(channel="PIGEON")
    event["birth_order"] = 0
    answer = http.post("/v1/events", json=event)
    assert answer.status_code == 422
    body = answer.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 1)
    (result,) = body["results"]
    assert (result["index"], result["status"]) == (0, "rejected")
    assert result["event_id"] == event["envelope"]["event_id"]
    problems = {(p["field"], p["rule"]) for p in result["problems"]}
    assert ("envelope.channel", "enum") in problems
    assert ("birth_order", "greater_than_equal") in problems


def test_nul_and_control_characters_and_integer_dates_are_422(http: httpx.Client) -> None:
    """A name holding NUL or a tab is refused with its rule, and so is the integer
    1764547200 as a date (pydantic alone reads it as 2025-12-01)."""
    nul, tab, integer = fresh(), fresh(), fresh()
    nul["child"] = {**nul["child"], "full_name": "Lê\u0000Văn"}
    tab["child"] = {**tab["child"], "full_name": "Lê\tVăn"}
    integer["envelope"]["occurred_on"] = 1764547200
    answer = http.post("/v1/events", json=[nul, tab, integer])
    assert answer.status_code == 422, answer.text
    rules = [{(p["field"], p["rule"]) for p in r["problems"]} for r in answer.json()["results"]]
    assert rules[0] == rules[1] == {("child.full_name", "control_character")}
    assert ("envelope.occurred_on", "date_format") in rules[2]


def test_a_valid_batch_is_published_and_nothing_personal_is_logged(
    gw_settings: Settings, http: httpx.Client, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="popreg")
    batch = [fresh(name) for name in SAMPLES]
    answer = http.post("/v1/events", json=batch)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (len(batch), 0, 0)

    found = on_topic(gw_settings, {event_id(item) for item in batch}, ends_of(body["results"]))
    for index, (item, result) in enumerate(zip(batch, body["results"], strict=True)):
        assert (result["index"], result["status"]) == (index, "accepted")
        assert result["event_id"] == item["envelope"]["event_id"]
        ((partition, offset, event),) = found[event_id(item)]
        assert (partition, offset) == (result["partition"], result["offset"])
        assert event == parse_event(item)

    for secret in ("Nguyễn", "096190012345", "Ấp 3", token):
        assert secret not in caplog.text
    assert str(event_id(batch[0])) in caplog.text


def test_a_mixed_batch_is_answered_per_event(http: httpx.Client) -> None:
    wrong_id = fresh("PersonEnumerated")
    wrong_id["person"]["national_id"] = "096290012345"  # encodes another birth year
    answer = http.post("/v1/events", json=[fresh(), wrong_id])
    assert answer.status_code == 200
    accepted, rejected = answer.json()["results"]
    assert accepted["status"] == "accepted"
    assert rejected["status"] == "rejected"
    assert [(p["field"], p["rule"]) for p in rejected["problems"]] == [
        ("person", "national_id_mismatch")
    ]


def test_a_resent_event_is_published_once_even_after_a_restart(
    test_stack: StackUnderTest, tmp_path: Path
) -> None:
    settings = gateway_settings(test_stack, tmp_path)
    token = issue_token(settings, COMMUNE, [])
    event, twin, rival = fresh(), fresh(), fresh()
    changed = {**event, "birth_order": 3}

    with running(settings) as url, client(url, token) as http:
        first = http.post("/v1/events", json=event).json()["results"][0]
        assert first["status"] == "accepted"
        again = http.post("/v1/events", json=event).json()["results"][0]
        assert again == {**first, "status": "duplicate"}

        within = http.post("/v1/events", json=[twin, twin]).json()["results"]
        assert [r["status"] for r in within] == ["accepted", "duplicate"]
        assert within[1] == {**within[0], "index": 1, "status": "duplicate"}

        rival_changed = {**rival, "birth_order": 3}
        pair = http.post("/v1/events", json=[rival, rival_changed]).json()["results"]
        assert [r["status"] for r in pair] == ["accepted", "rejected"]
        assert pair[1]["problems"][0]["rule"] == "event_id_conflict"

    with running(settings) as url, client(url, token) as http:
        after_restart = http.post("/v1/events", json=event)
        assert after_restart.status_code == 200
        assert after_restart.json()["results"][0] == {**first, "status": "duplicate"}

        conflict = http.post("/v1/events", json=changed)
        assert conflict.status_code == 422
        (result,) = conflict.json()["results"]
        assert result["status"] == "rejected"
        assert [(p["field"], p["rule"]) for p in result["problems"]] == [
            ("envelope.event_id", "event_id_conflict")
        ]
        ends = publish_marker(http)

    found = on_topic(settings, {event_id(event), event_id(twin), event_id(rival)}, ends)
    assert {key: len(copies) for key, copies in found.items()} == {
        event_id(event): 1,
        event_id(twin): 1,
        event_id(rival): 1,
    }
    ((partition, offset, landed),) = found[event_id(event)]
    assert (partition, offset) == (first["partition"], first["offset"])
    assert landed == parse_event(event)


def test_bodies_and_batches_over_the_limits_are_413(http: httpx.Client) -> None:
    padded = json.dumps(fresh()).encode() + b" " * BODY_LIMIT
    assert http.post("/v1/events", content=padded).status_code == 413

    chunks = [padded[i : i + 4096] for i in range(0, len(padded), 4096)]
    chunked = http.post("/v1/events", content=iter(chunks))
    assert chunked.status_code == 413

    small = json.dumps(fresh()).encode()
    assert http.post("/v1/events", content=iter([small[:100], small[100:]])).status_code == 200

    batch = [fresh("MovedOut") for _ in range(MAX_BATCH + 1)]
    assert len(json.dumps(batch)) < BODY_LIMIT
    too_many = http.post("/v1/events", json=batch)
    assert too_many.status_code == 413
    assert str(MAX_BATCH) in too_many.json()["detail"]


def test_tokens_are_stored_hashed_and_take_effect_while_running(
    gw_settings: Settings, gateway: str
) -> None:
    new_commune = "33333"  # a commune whose old code is the samples' commune
    token = issue_token(gw_settings, new_commune, [COMMUNE])

    path = gw_settings.gateway_tokens_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert token not in text
    assert hashlib.sha256(token.encode()).hexdigest() in json.loads(text)

    grant = lookup(gw_settings, token)
    assert grant is not None
    assert (grant.commune, grant.codes) == (new_commune, (new_commune, COMMUNE))
    assert lookup(gw_settings, "not-a-token") is None
    listed = [g for g in list_tokens(gw_settings) if g.commune == new_commune]
    assert listed == [grant]
    assert token not in repr(list_tokens(gw_settings))

    with client(gateway, token) as http:
        assert http.post("/v1/events", json=fresh()).status_code == 200
        assert revoke_token(gw_settings, new_commune) == 1
        assert http.post("/v1/events", json=fresh()).status_code == 401
    assert revoke_token(gw_settings, new_commune) == 0

    with pytest.raises(ValueError, match="5 digits"):
        issue_token(gw_settings, "3201", [])
    with pytest.raises(ValueError, match="5 digits"):
        issue_token(gw_settings, COMMUNE, ["abcde"])


def test_an_unreachable_broker_is_503_with_the_kafka_reason(
    test_stack: StackUnderTest, tmp_path: Path
) -> None:
    nowhere = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    settings = gateway_settings(test_stack, tmp_path, kafka=nowhere)
    token = issue_token(settings, COMMUNE, [])
    with running(settings, delivery_timeout_s=2.0) as url, client(url, token) as http:
        answer = http.post("/v1/events", json=[fresh(), fresh()])
    assert answer.status_code == 503
    body = answer.json()
    assert body["rejected"] == 2
    for result in body["results"]:
        assert result["status"] == "rejected"
        (problem,) = result["problems"]
        assert problem["field"] == ""
        assert problem["rule"] == "_MSG_TIMED_OUT"  # librdkafka's name for it


# --- authority: a commune's token changes its own commune's records only ------------------


def test_a_commune_cannot_change_another_communes_records(
    test_stack: StackUnderTest, gw_settings: Settings, gateway: str
) -> None:
    """Commune 32065's token may not register the death of a person of a 32002
    household, nor void a birth 32002 recorded, though the envelope names its own
    commune: both are 403 and nothing is published. 32002's own token may do both."""

    tag = uuid.uuid4().hex[:8].upper()
    household, mother, child = f"HA-{tag}", f"PA-{tag}-1", f"PA-{tag}-2"
    home = "32002"

    def env(on: str, commune: str = home) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "occurred_on": on,
            "recorded_at": f"{on}T09:00:00Z",
            "commune_code": commune,
            "household_id": household,
            "reporter_id": "CTV-1",
            "channel": "MOBILE",
            "source_system": "popreg-tests",
        }

    mum = {**SAMPLES["PersonEnumerated"]["person"], "person_id": mother, "national_id": None}
    baby = {
        **mum,
        "person_id": child,
        "birth_date": "2024-03-01",
        "marital_status": "NEVER_MARRIED",
    }
    story = [
        {"type": "HouseholdEnumerated", "envelope": env("2024-01-01"), "address": "Ấp 1",
         "head_person_id": mother, "member_count": 1},
        {"type": "PersonEnumerated", "envelope": env("2024-01-01"), "person": mum,
         "relation_to_head": "HEAD", "spouse_id": None},
        {"type": "BirthRegistered", "envelope": env("2024-03-01"), "child": baby,
         "mother_id": mother, "father_id": None, "birth_order": 1},
    ]  # fmt: skip
    events = [parse_event(item) for item in story]
    wait_projected(test_stack.settings, publish(test_stack.settings, events))
    birth_id = story[2]["envelope"]["event_id"]

    ids = {"death": str(uuid.uuid4()), "void": str(uuid.uuid4())}

    def death(commune: str) -> dict[str, Any]:
        envelope = {**env("2024-06-01", commune), "event_id": ids["death"]}
        return {"type": "DeathRegistered", "envelope": envelope, "person_id": mother,
                "date_of_death": "2024-06-01", "age_at_death": 34, "place": "HOME"}  # fmt: skip

    def void(commune: str) -> dict[str, Any]:
        envelope = {**env("2024-06-02", commune), "event_id": ids["void"]}
        return {"type": "EventVoided", "envelope": envelope, "target_event_id": birth_id,
                "reason": "recorded twice"}  # fmt: skip

    stranger = issue_token(gw_settings, "32065", [])
    with client(gateway, stranger) as http:
        for item, what in ((death("32065"), f"person {mother} lives in commune {home}"),
                           (void("32065"), "only that commune may correct it")):  # fmt: skip
            answer = http.post("/v1/events", json=item)
            assert answer.status_code == 403, answer.text
            assert what in answer.json()["detail"]
            assert answer.json()["indexes"] == [0]

    # The same event ids from the owner are new to the gateway: nothing was published.
    owner = issue_token(gw_settings, home, [])
    with client(gateway, owner) as http:
        answer = http.post("/v1/events", json=[death(home), void(home)])
        assert answer.status_code == 200, answer.text
        assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]


def test_a_registry_that_cannot_be_read_is_503_and_nothing_is_published(
    test_stack: StackUnderTest, tmp_path: Path
) -> None:
    """Authority cannot be checked without the registry: the gateway refuses with 503
    and Retry-After rather than publish what it could not check (here its login's
    password file is missing)."""
    settings = gateway_settings(test_stack, tmp_path)
    settings.login_password_file(GATEWAY_LOGIN).unlink()
    token = issue_token(settings, COMMUNE, [])
    with running(settings) as url, client(url, token) as http:
        answer = http.post("/v1/events", json=fresh())
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "30"
    assert "nothing was published" in answer.json()["detail"]
