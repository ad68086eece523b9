"""The Avro event contract in schemas/avro/ loads, is documented and round-trips.

Pure unit tests: no network, no stack. Every named type lives in its own file named
after its full name, so `fastavro.schema.load_schema` resolves references from the
sibling files.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest
from fastavro.schema import load_schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "avro"
NAMESPACE = "vn.popreg.events"
ENVELOPE = f"{NAMESPACE}.Envelope"

EVENT_TYPES: list[str] = [
    "HouseholdEnumerated",
    "PersonEnumerated",
    "BirthRegistered",
    "DeathRegistered",
    "MarriageRegistered",
    "DivorceRegistered",
    "MovedIn",
    "MovedOut",
    "EventVoided",
    "EventAmended",
]

UTC = dt.UTC


def schema_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("*.avsc"))


def raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def path_of(name: str) -> Path:
    return SCHEMA_DIR / f"{NAMESPACE}.{name}.avsc"


def iter_named(schema: Any) -> list[dict[str, Any]]:
    """All records and enums defined (inline or at top level) in a raw JSON schema."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, list):
        for branch in schema:
            found.extend(iter_named(branch))
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "enum"):
            found.append(schema)
        if kind == "record":
            for field in schema.get("fields", []):
                found.extend(iter_named(field["type"]))
        elif kind == "array":
            found.extend(iter_named(schema["items"]))
        elif kind == "map":
            found.extend(iter_named(schema["values"]))
        elif isinstance(kind, dict | list):
            found.extend(iter_named(kind))
    return found


def test_schema_folder_is_complete() -> None:
    names = {p.name for p in schema_files()}
    expected = {f"{NAMESPACE}.{n}.avsc" for n in EVENT_TYPES} | {
        f"{NAMESPACE}.{n}.avsc"
        for n in (
            "Envelope",
            "Person",
            "Channel",
            "Sex",
            "MaritalStatus",
            "RelationToHead",
            "PlaceOfDeath",
            "MoveKind",
        )
    }
    assert expected <= names


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_file_name_is_full_name(path: Path) -> None:
    schema = raw(path)
    assert schema.get("namespace") == NAMESPACE
    assert path.name == f"{schema['namespace']}.{schema['name']}.avsc"


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_schema_loads_and_parses(path: Path) -> None:
    loaded = load_schema(str(path))
    parsed = fastavro.parse_schema(loaded)
    assert parsed


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_everything_has_a_doc(path: Path) -> None:
    for named in iter_named(raw(path)):
        doc = named.get("doc")
        assert isinstance(doc, str) and doc.strip(), f"{named['name']} has no doc"
        for field in named.get("fields", []):
            fdoc = field.get("doc")
            assert isinstance(fdoc, str) and fdoc.strip(), (
                f"{named['name']}.{field['name']} has no doc"
            )


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_enums_have_a_default_symbol(path: Path) -> None:
    for named in iter_named(raw(path)):
        if named["type"] == "enum":
            symbols: list[str] = named["symbols"]
            assert len(symbols) == len(set(symbols))
            assert named.get("default") in symbols, f"{named['name']} lacks a valid default"


@pytest.mark.parametrize("name", EVENT_TYPES)
def test_event_starts_with_envelope(name: str) -> None:
    schema = raw(path_of(name))
    assert schema["type"] == "record"
    first = schema["fields"][0]
    assert first["name"] == "envelope"
    assert first["type"] == ENVELOPE


# --- round trip -----------------------------------------------------------------------

RECORDED_AT = dt.datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


def envelope(occurred_on: dt.date, *, household_id: str = "HH-26734-000123") -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "occurred_on": occurred_on,
        "recorded_at": RECORDED_AT,
        "commune_code": "26734",
        "household_id": household_id,
        "reporter_id": "CTV-26734-007",
        "channel": "MOBILE",
        "source_system": "popreg-mobile/1.4.2",
        "schema_version": 1,
    }


def person(
    person_id: str,
    full_name: str,
    sex: str,
    birth_date: dt.date,
    *,
    national_id: str | None = None,
    marital_status: str = "NEVER_MARRIED",
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "full_name": full_name,
        "sex": sex,
        "birth_date": birth_date,
        "ethnicity": "01",
        "national_id": national_id,
        "marital_status": marital_status,
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "HouseholdEnumerated": {
        "envelope": envelope(dt.date(2025, 1, 1)),
        "address": "Số 12, ngõ 5, thôn Đông, xã Yên Phong",
        "head_person_id": "P-0000001",
        "member_count": 4,
    },
    "PersonEnumerated": {
        "envelope": envelope(dt.date(2025, 1, 1)),
        "person": person(
            "P-0000001",
            "Nguyễn Văn An",
            "MALE",
            dt.date(1978, 6, 2),
            national_id="001078012345",
            marital_status="MARRIED",
        ),
        "relation_to_head": "HEAD",
        "spouse_id": None,
    },
    "BirthRegistered": {
        "envelope": envelope(dt.date(2025, 2, 10)),
        "child": person("P-0000107", "Nguyễn Thị Mai", "FEMALE", dt.date(2025, 2, 10)),
        "mother_id": "P-0000002",
        "father_id": "P-0000001",
        "birth_order": 3,
    },
    "DeathRegistered": {
        "envelope": envelope(dt.date(2025, 2, 20)),
        "person_id": "P-0000004",
        "date_of_death": dt.date(2025, 2, 20),
        "age_at_death": 81,
        "place": "HOME",
    },
    "MarriageRegistered": {
        "envelope": envelope(dt.date(2025, 3, 1)),
        "spouse_a_id": "P-0000003",
        "spouse_b_id": "P-0000210",
        "marriage_date": dt.date(2025, 3, 1),
        "household_after": "HH-26734-000123",
    },
    "DivorceRegistered": {
        "envelope": envelope(dt.date(2025, 3, 5)),
        "spouse_a_id": "P-0000055",
        "spouse_b_id": "P-0000056",
        "divorce_date": dt.date(2025, 3, 5),
    },
    "MovedIn": {
        "envelope": envelope(dt.date(2025, 3, 8)),
        "person_ids": ["P-0000301", "P-0000302"],
        "persons": [
            person(
                "P-0000301",
                "Trần Thị Hoa",
                "FEMALE",
                dt.date(1990, 11, 23),
                national_id="034190004567",
                marital_status="MARRIED",
            ),
            person("P-0000302", "Trần Minh Khôi", "MALE", dt.date(2019, 4, 30)),
        ],
        "origin": "ABROAD",
        "origin_commune_code": None,
    },
    "MovedOut": {
        "envelope": envelope(dt.date(2025, 3, 10)),
        "person_ids": ["P-0000003"],
        "destination": "ANOTHER_COMMUNE",
        "destination_commune_code": "00004",
    },
    "EventVoided": {
        "envelope": envelope(dt.date(2025, 3, 12)),
        "target_event_id": uuid.UUID("3f2b8c1e-6a4d-4e0b-9a57-1c2d3e4f5a6b"),
        "reason": "Duplicate report of the same birth",
    },
    "EventAmended": {
        "envelope": envelope(dt.date(2025, 3, 13)),
        "target_event_id": uuid.UUID("9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"),
        "reason": "Birth date mistyped by the collaborator",
        "corrected_fields": {
            "child.birth_date": json.dumps("2025-02-09"),
            "birth_order": json.dumps(2),
        },
    },
}


def round_trip(schema: Any, record: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    buf.seek(0)
    decoded: dict[str, Any] = fastavro.schemaless_reader(buf, schema, schema)
    assert buf.read() == b"", "trailing bytes after the record"
    return decoded


def test_every_event_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", EVENT_TYPES)
def test_round_trip(name: str) -> None:
    schema = fastavro.parse_schema(load_schema(str(path_of(name))))
    record = EXAMPLES[name]
    decoded = round_trip(schema, record)
    assert decoded == record

    env = decoded["envelope"]
    assert isinstance(env["event_id"], uuid.UUID)
    assert type(env["occurred_on"]) is dt.date
    assert isinstance(env["recorded_at"], dt.datetime)
    assert env["recorded_at"].utcoffset() == dt.timedelta(0)
    assert fastavro.validate(record, schema)


def test_uuid_strings_decode_to_uuid() -> None:
    schema = fastavro.parse_schema(load_schema(str(path_of("EventVoided"))))
    record = dict(EXAMPLES["EventVoided"])
    target = "3f2b8c1e-6a4d-4e0b-9a57-1c2d3e4f5a6b"
    record["target_event_id"] = target
    record["envelope"] = {**record["envelope"], "event_id": str(record["envelope"]["event_id"])}
    decoded = round_trip(schema, record)
    assert decoded["target_event_id"] == uuid.UUID(target)
    assert decoded["envelope"]["event_id"] == uuid.UUID(record["envelope"]["event_id"])


def test_defaults_fill_omitted_fields() -> None:
    """fastavro's writer fills fields left out of the dict with their defaults."""
    schema = fastavro.parse_schema(load_schema(str(path_of("MovedIn"))))
    record = {
        "envelope": envelope(dt.date(2025, 3, 8)),
        "person_ids": ["P-0000003"],
        "origin": "ANOTHER_COMMUNE",
    }
    decoded = round_trip(schema, record)
    assert decoded["persons"] == []
    assert decoded["origin_commune_code"] is None
    assert decoded["envelope"]["schema_version"] == 1


def test_current_schema_reads_data_written_without_defaulted_fields() -> None:
    """BACKWARD: data from an older writer lacking the defaulted fields stays readable."""
    reader = fastavro.parse_schema(load_schema(str(path_of("MovedIn"))))
    old: dict[str, Any] = copy.deepcopy(load_schema(str(path_of("MovedIn"))))
    defaulted = {"persons", "origin_commune_code"}
    old["fields"] = [f for f in old["fields"] if f["name"] not in defaulted]
    env_schema = old["fields"][0]["type"]
    env_schema["fields"] = [f for f in env_schema["fields"] if f["name"] != "schema_version"]
    writer = fastavro.parse_schema(old)
    record = {
        "envelope": {
            k: v for k, v in envelope(dt.date(2025, 3, 8)).items() if k != "schema_version"
        },
        "person_ids": ["P-0000003"],
        "origin": "ANOTHER_COMMUNE",
    }
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, writer, record)
    buf.seek(0)
    decoded = fastavro.schemaless_reader(buf, writer, reader)
    assert isinstance(decoded, dict)
    assert decoded["persons"] == []
    assert decoded["origin_commune_code"] is None
    assert decoded["envelope"]["schema_version"] == 1
    assert decoded["person_ids"] == ["P-0000003"]


def test_enum_default_reads_unknown_symbols() -> None:
    """A reader with fewer symbols maps a symbol it doesn't know to the enum default."""
    reader = fastavro.parse_schema(load_schema(str(path_of("Channel"))))
    writer_json = raw(path_of("Channel"))
    writer_json["symbols"] = [*writer_json["symbols"], "KIOSK"]
    writer = fastavro.parse_schema(writer_json)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, writer, "KIOSK")
    buf.seek(0)
    assert fastavro.schemaless_reader(buf, writer, reader) == "OTHER"
