"""Events to Avro bytes and back, in both wire formats a consumer may meet.

- Avro single-object encoding (`C3 01`, the writer schema's CRC-64-AVRO fingerprint,
  the body): the embedded default, resolved against `schemas/avro/` and the frozen
  earlier versions in `schemas/avro/history/`.
- Confluent framing (`00`, a 4-byte schema id, the body) when a Schema Registry is
  configured: encoded by confluent-kafka's AvroSerializer, one subject per topic and
  record type.

`schemas.wire.Codec` picks the format a process writes, and needs a registry client
for Confluent framing; what is here needs none. Decoding reads both, whatever this
process writes, so a topic that changed format stays readable. The writer schema is
resolved against the current schema of the same record (Avro schema resolution),
which is how old events stay readable forever.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import fastavro
from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form
from pydantic import ValidationError

from schemas.models import EVENT_MODELS, Event
from schemas.text import printable
from schemas.validation import Problem, problems_of

AVRO_DIR = Path(__file__).parent / "avro"
HISTORY_DIR = AVRO_DIR / "history"
NAMESPACE = "vn.popreg.events"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"

Schema = dict[str, Any]


class DecodeError(ValueError):
    """Bytes that are not an event; `reason` is a stable code for rejections."""

    def __init__(self, reason: str, detail: str, problems: list[Problem] | None = None) -> None:
        self.reason = reason
        self.detail = printable(detail)  # stored with the raw bytes, so storable itself
        self.problems = problems or []
        super().__init__(f"{reason}: {self.detail}")


@dataclass(frozen=True)
class WriterSchema:
    name: str  # the record's short name, e.g. "BirthRegistered"
    parsed: Schema
    fingerprint: bytes  # 8 bytes, little-endian, as single-object encoding writes it


def load_current(name: str) -> Schema:
    """The current schema of a record, its named types inlined from the sibling files."""
    return cast(Schema, load_schema(str(AVRO_DIR / f"{NAMESPACE}.{name}.avsc"), _write_hint=False))


def writer_of(schema: Schema) -> WriterSchema:
    parsed = cast(Schema, fastavro.parse_schema(schema))
    canonical = to_parsing_canonical_form(parsed)
    name = str(parsed["name"]).rsplit(".", 1)[-1]
    return WriterSchema(name, parsed, bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")))


@cache
def current_schemas() -> dict[str, WriterSchema]:
    """The schema each event type is written with today, by record name."""
    return {name: writer_of(load_current(name)) for name in EVENT_MODELS}


@cache
def known_writers() -> dict[bytes, WriterSchema]:
    """Every schema an event was ever written with, current and superseded."""
    writers = [
        writer_of(json.loads(p.read_text("utf-8"))) for p in sorted(HISTORY_DIR.glob("*.avsc"))
    ]
    writers += current_schemas().values()
    return {w.fingerprint: w for w in writers}


def record_of(event: Event) -> dict[str, Any]:
    """The Avro record of an event: the model's fields, without the JSON `type` tag."""
    return event.model_dump(exclude={"type"})


def encode_single_object(event: Event) -> bytes:
    writer = current_schemas()[event.type]
    out = io.BytesIO()
    out.write(SINGLE_OBJECT_MAGIC)
    out.write(writer.fingerprint)
    fastavro.schemaless_writer(out, writer.parsed, record_of(event))
    return out.getvalue()


def decode_body(body: bytes, writer: WriterSchema) -> Event:
    reader = current_schemas().get(writer.name)
    if reader is None:
        raise DecodeError("unknown_type", f"no current schema for record {writer.name}")
    try:
        resolve = None if reader.fingerprint == writer.fingerprint else reader.parsed
        record = fastavro.schemaless_reader(io.BytesIO(body), writer.parsed, resolve)
    except Exception as error:  # fastavro raises many types on corrupt bodies
        raise DecodeError(
            "malformed", f"{writer.name} body does not decode ({type(error).__name__}: {error})"
        ) from None
    try:
        return EVENT_MODELS[writer.name].model_validate(record)
    except ValidationError as error:
        problems = problems_of(error)
        detail = "; ".join(str(p) for p in problems)
        raise DecodeError("invalid_content", detail, problems) from None


def decode_single_object(data: bytes) -> Event:
    (fp,) = struct.unpack_from("8s", data, 2)
    writer = known_writers().get(fp)
    if writer is None:
        raise DecodeError("unknown_schema", f"no known schema has fingerprint {fp.hex()}")
    return decode_body(data[10:], writer)


def framing_of(data: bytes | None) -> str:
    """Which wire format the bytes claim to be in; raises DecodeError if neither."""
    if data is None or len(data) == 0:
        raise DecodeError("empty", "the message has no value")
    if data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= 10:
        return "single-object"
    if data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
        return "confluent"
    raise DecodeError("not_avro", f"unknown framing (first bytes {data[:4].hex()})")
