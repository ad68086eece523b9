"""Both wire formats round-trip, old versions decode, and bad bytes get a reason code."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import fastavro
import pytest

from schemas.codec import (
    AVRO_DIR,
    HISTORY_DIR,
    NAMESPACE,
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


FROZEN_NAME = re.compile(r"(?P<name>[A-Za-z]+)\.v(?P<version>\d+)\.avsc")


def history_problems(folder: Path) -> tuple[list[str], set[bytes]]:
    """What keeps `folder` from being the history the codec needs (see its README), and
    the fingerprints of the frozen versions it holds. The folder must be there (with
    its README); every other file in it must be a superseded version of a current
    event, standalone (its named types inlined: fastavro parses it alone), named
    `<Name>.v<N>.avsc` after the record it holds."""
    if not (folder / "README.md").is_file():
        return [f"{folder} is not the history folder: no README.md there"], set()
    problems: list[str] = []
    frozen: set[bytes] = set()
    for path in sorted(folder.iterdir()):
        if path.name == "README.md":
            continue
        named = FROZEN_NAME.fullmatch(path.name)
        if named is None:
            problems.append(f"{path.name}: not named <Name>.v<N>.avsc, the codec skips it")
            continue
        try:
            writer = writer_of(json.loads(path.read_text("utf-8")))
        except Exception as error:  # JSON, or fastavro: a named type not inlined, …
            problems.append(f"{path.name}: not a standalone schema: {error!r}")
            continue
        current = current_schemas().get(writer.name)
        if writer.name != named["name"]:
            problems.append(f"{path.name}: holds the record {writer.name}")
        elif current is None:
            problems.append(f"{path.name}: no current event {writer.name} reads it")
        elif writer.fingerprint == current.fingerprint:
            problems.append(f"{path.name}: the current version, not a superseded one")
        else:
            frozen.add(writer.fingerprint)
    return problems, frozen


def test_history_holds_only_standalone_schemas() -> None:
    """The codec's history folder is there, everything in it is a frozen version it
    can read, and the codec knows exactly those (it holds none yet: all at v1)."""
    problems, frozen = history_problems(HISTORY_DIR)
    assert problems == []
    current = {w.fingerprint for w in current_schemas().values()}
    assert set(known_writers()) - current == frozen


def test_the_history_check_refuses_what_the_codec_could_not_read(tmp_path: Path) -> None:
    """The check above would pass over an empty or missing folder; here it meets one
    good frozen version and each way a file of the history can be wrong."""
    current = load_current("MovedIn")
    older = {**current, "fields": [f for f in current["fields"] if f["name"] != "persons"]}
    by_reference = json.loads((AVRO_DIR / f"{NAMESPACE}.MovedIn.avsc").read_text("utf-8"))
    assert history_problems(tmp_path / "missing")[0] != []
    (tmp_path / "README.md").write_text("frozen versions\n", "utf-8")
    (tmp_path / "MovedIn.v1.avsc").write_text(json.dumps(older), "utf-8")
    problems, frozen = history_problems(tmp_path)
    assert problems == [] and frozen == {writer_of(older).fingerprint}
    wrong = {
        "MovedIn.avsc": older,  # no version in the name
        "MovedIn.v1.json": older,  # not .avsc: the codec would skip it
        "MovedIn.v2.avsc": by_reference,  # Envelope, Person… named, not inlined
        "MovedIn.v3.avsc": current,  # not superseded
        "MovedOut.v1.avsc": older,  # holds MovedIn
    }
    for name, schema in wrong.items():
        (tmp_path / name).write_text(json.dumps(schema), "utf-8")
    problems, _ = history_problems(tmp_path)
    assert [p.split(":")[0] for p in problems] == sorted(wrong)


def test_an_older_writer_resolves_against_the_current_reader() -> None:
    """Data written before a defaulted field existed reads with that field's default."""
    current = load_current("MovedIn")
    older = {**current, "fields": [f for f in current["fields"] if f["name"] != "persons"]}
    event = parse_event(sample("MovedIn", persons=[]))
    record = event.model_dump(exclude={"type", "persons"})
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(older), record)
    assert decode_body(body.getvalue(), writer_of(older)) == event
