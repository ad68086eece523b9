"""Both wire formats round-trip, old versions decode, and bad bytes get a reason code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro
import pytest

from schemas.codec import (
    HISTORY_DIR,
    DecodeError,
    current_schemas,
    decode_body,
    known_writers,
    load_current,
    writer_of,
)
from schemas.validation import event_json, parse_event
from schemas.wire import Codec
from tests.avro_fixtures import FIXTURES, fixture
from tests.samples import SAMPLES, sample

SINGLE = Codec()
CONFLUENT = Codec("mock://popreg-tests")  # confluent-kafka's in-process registry


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("codec", [SINGLE, CONFLUENT], ids=lambda c: c.framing)
def test_round_trip(codec: Codec, name: str) -> None:
    event = parse_event(SAMPLES[name])
    data = codec.encode(event, "popreg.vital-events")
    assert codec.decode(data) == event


def test_each_format_has_its_magic() -> None:
    event = parse_event(SAMPLES["DeathRegistered"])
    single = SINGLE.encode(event, "t")
    assert single[:2] == b"\xc3\x01"
    assert single[2:10] == current_schemas()["DeathRegistered"].fingerprint
    assert CONFLUENT.encode(event, "t")[:1] == b"\x00"


def test_a_single_object_reader_names_the_missing_registry() -> None:
    data = CONFLUENT.encode(parse_event(SAMPLES["MovedOut"]), "t")
    assert CONFLUENT.decode(data) == parse_event(SAMPLES["MovedOut"])
    with pytest.raises(DecodeError) as caught:
        SINGLE.decode(data)
    assert caught.value.reason == "no_registry"
    assert "POPREG_SCHEMA_REGISTRY_URL" in caught.value.detail


def test_milliseconds_survive_and_microseconds_are_truncated() -> None:
    data = sample("EventVoided")
    data["envelope"]["recorded_at"] = "2024-09-01T09:30:00.123456+07:00"
    event = parse_event(data)
    assert event_json(event)["envelope"]["recorded_at"] == "2024-09-01T02:30:00.123000Z"
    assert SINGLE.decode(SINGLE.encode(event, "t")) == event


BAD_BYTES: list[tuple[bytes | None, str]] = [
    (None, "empty"),
    (b"", "empty"),
    (b"{'json': true}", "not_avro"),
    (b"\xc3\x01" + bytes(8) + b"body", "unknown_schema"),
    (SINGLE.encode(parse_event(SAMPLES["MovedIn"]), "t")[:-7], "malformed"),
]


@pytest.mark.parametrize(("data", "reason"), BAD_BYTES)
def test_bad_bytes_are_rejected_with_a_reason(data: bytes | None, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        SINGLE.decode(data)
    assert caught.value.reason == reason


def test_valid_avro_with_impossible_content_is_invalid_content() -> None:
    event = parse_event(SAMPLES["DeathRegistered"])
    record = event.model_dump(exclude={"type"})
    record["age_at_death"] = 400
    writer = current_schemas()["DeathRegistered"]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, writer.parsed, record)
    with pytest.raises(DecodeError) as caught:
        decode_body(body.getvalue(), writer)
    assert caught.value.reason == "invalid_content"
    assert [p.field for p in caught.value.problems] == ["age_at_death"]


# --- evolution -------------------------------------------------------------------------


def fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.avro"))


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.name)
def test_every_fixture_decodes_with_the_current_schemas(path: Path) -> None:
    event = SINGLE.decode(path.read_bytes())
    written = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert event.type == path.name.split(".")[0]
    assert event == parse_event(written)  # fields added since then take their defaults


def test_every_schema_version_has_a_fixture() -> None:
    """Changing a schema fails here until `python -m tests.avro_fixtures` adds one."""
    for writer in known_writers().values():
        path = fixture(writer.name, writer.fingerprint, "avro")
        assert path.exists(), f"no fixture for this version of {writer.name}: {path.name}"


def test_history_holds_only_standalone_schemas() -> None:
    for path in HISTORY_DIR.glob("*.avsc"):
        assert writer_of(json.loads(path.read_text("utf-8"))).name == path.name.split(".")[0]


def test_an_older_writer_resolves_against_the_current_reader() -> None:
    """Data written before a defaulted field existed reads with that field's default."""
    current = load_current("MovedIn")
    older = {**current, "fields": [f for f in current["fields"] if f["name"] != "persons"]}
    event = parse_event(sample("MovedIn", persons=[]))
    record = event.model_dump(exclude={"type", "persons"})
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(older), record)
    assert decode_body(body.getvalue(), writer_of(older)) == event
