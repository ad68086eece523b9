"""Encoded samples of every schema version ever written: old data must stay readable.

`python -m tests.avro_fixtures` writes a fixture for each current schema that has
none yet (run it whenever a schema changes, and commit the new files). A fixture is
the single-object encoding of the sample event (`<Name>.<fingerprint>.avro`) and the
JSON it was made from (`.json`); fixtures are never rewritten or deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas.codec import current_schemas, encode_single_object
from schemas.validation import parse_event
from tests.samples import SAMPLES

FIXTURES = Path(__file__).parent / "fixtures" / "avro"


def fixture(name: str, fingerprint: bytes, suffix: str) -> Path:
    return FIXTURES / f"{name}.{fingerprint.hex()}.{suffix}"


def write_missing() -> list[Path]:
    written = []
    for name, writer in current_schemas().items():
        avro = fixture(name, writer.fingerprint, "avro")
        if avro.exists():
            continue
        avro.write_bytes(encode_single_object(parse_event(SAMPLES[name])))
        fixture(name, writer.fingerprint, "json").write_text(
            json.dumps(SAMPLES[name], ensure_ascii=False, indent=1) + "\n", "utf-8"
        )
        written.append(avro)
    return written


if __name__ == "__main__":
    for path in write_missing():
        print(f"wrote {path}")
