"""Arbitrary Unicode in every string field of every event type, produced straight to the
broker (no SDK to refuse it) while both processors run.

Each message is applied or rejected with a reason, no processor restarts, and both
stores hold exactly the fold of what decodes (the fold every replay runs): bounded
examples in `make test`, a larger budget in `pytest -m fault`.
"""

from __future__ import annotations

import io
import random
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from infra.clickhouse import writer_client
from projections.log import decode
from schemas.codec import SINGLE_OBJECT_MAGIC, current_schemas, record_of
from schemas.models import Event
from schemas.settings import Settings
from schemas.wire import Codec
from tests.conftest import StackUnderTest
from tests.fault_checks import RECOVERY_S, Before, assert_exact
from tests.id_space import Ids, synthetic
from tests.producing import merge, produce_raw
from tests.waiting import wait_counted, wait_projected

pytestmark = pytest.mark.stack

Path = tuple[str | int, ...]

# Vietnamese as people type it: composed and decomposed letters, every kind of space.
VIETNAMESE = (
    "aăâeêioôơuưyđAĂÂĐ àáảãạằắẳẵặ\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b\u00a0\u3000"
)
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=24),
    st.text(st.sampled_from(VIETNAMESE), min_size=1, max_size=24),
    st.text(st.sampled_from("\x00\t\n\r\u202e\u200b\u2028\ufeff\x7f"), min_size=1, max_size=3),
)


@pytest.fixture(scope="module")
def settings(test_stack: StackUnderTest) -> Settings:
    return test_stack.settings


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    found = writer_client(settings)
    yield found
    found.close()


def string_paths(schema: Any, record: Any, path: Path = ()) -> list[Path]:
    """Where `record` holds a plain Avro string (not a uuid, date or enum)."""
    found: list[Path] = []
    if isinstance(record, dict) and isinstance(schema, dict) and schema.get("type") == "record":
        for field in schema["fields"]:
            found += string_paths(field["type"], record.get(field["name"]), (*path, field["name"]))
    elif isinstance(schema, list):  # a union: the branch the value takes
        for branch in schema:
            found += string_paths(branch, record, path)
    elif isinstance(schema, dict) and schema.get("type") == "array" and isinstance(record, list):
        for n, item in enumerate(record):
            found += string_paths(schema["items"], item, (*path, n))
    elif isinstance(schema, dict) and schema.get("type") == "map" and isinstance(record, dict):
        found += [(*path, key) for key in record]
    elif schema == "string" and isinstance(record, str):
        found.append(path)
    return found


def replaced(record: Any, path: Path, text: str) -> Any:
    """`record` with the string at `path` replaced; an id keeps its test's prefix, so the
    rows stay the test's own."""
    if not path:
        return record + text if record.startswith(("H", "P")) and "-" in record else text
    head, *rest = path
    if isinstance(record, list):
        assert isinstance(head, int)
        return [replaced(v, tuple(rest), text) if n == head else v for n, v in enumerate(record)]
    return {k: replaced(v, tuple(rest), text) if k == head else v for k, v in record.items()}


def body(event: Event, record: dict[str, Any]) -> bytes:
    writer = current_schemas()[event.type]
    out = io.BytesIO()
    fastavro.schemaless_writer(out, writer.parsed, record)
    return SINGLE_OBJECT_MAGIC + writer.fingerprint + out.getvalue()


def run(settings: Settings, client: Any, data: st.DataObject, mutations: int) -> None:
    ids = Ids.new()
    seed = data.draw(st.integers(0, 10_000), label="seed")
    events = synthetic(ids, households=6, years=(2023, 2024), seed=seed, error_rate=0.0)
    rng = random.Random(seed)
    values: list[bytes] = []
    for event in events:
        record = record_of(event)
        if rng.random() < mutations / len(events):
            paths = string_paths(current_schemas()[event.type].parsed, record)
            path = data.draw(st.sampled_from(paths), label=f"{event.type} field")
            record = replaced(record, path, data.draw(TEXT, label="text"))
        values.append(body(event, record))
    codec = Codec(settings.schema_registry_url)
    records = [decode(codec, 0, n, value) for n, value in enumerate(values)]
    decoded = [r.event for r in records if r.event is not None]
    refused = Counter(r.error.reason for r in records if r.error is not None)
    before = Before(settings, client)

    written: dict[int, int] = {}
    for partition in range(settings.partitions):  # a household's events on one partition
        mine = [
            (e.envelope.household_id.encode(), v)
            for e, v in zip(events, values, strict=True)
            if zlib.crc32(e.envelope.household_id.encode()) % settings.partitions == partition
        ]
        if mine:
            written = merge(written, {partition: max(produce_raw(settings, mine, partition))})
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_counted(client, settings, written, timeout_s=RECOVERY_S)

    assert_exact(
        settings, client, ids, before, decoded, published=len(decoded), undecodable=refused
    )
    assert before.restarts(settings) == {"state": 0, "indicators": 0}


@pytest.mark.parametrize(
    ("examples", "mutations"),
    [(3, 15), pytest.param(25, 40, marks=pytest.mark.fault, id="larger-budget")],
)
def test_arbitrary_text_in_any_string_field_is_applied_or_rejected(
    settings: Settings, client: Any, examples: int, mutations: int
) -> None:
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        run(settings, client, data, mutations)

    check()
