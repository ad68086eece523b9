"""The bulk log reader reads exactly what is on a topic, up to markers (real broker)."""

from __future__ import annotations

import pytest

from projections.domain.record import Record
from projections.log import read_log
from schemas.settings import Settings
from schemas.validation import parse_event
from schemas.wire import Codec
from tests.conftest import StackUnderTest
from tests.kafka_helpers import new_topic, produce
from tests.samples import fresh

PARTITIONS = 3


def everything(settings: Settings, topic: str, start: dict[int, int] | None = None) -> list[Record]:
    _, batches = read_log(settings, topic, start, batch_size=7)
    return [record for batch in batches for record in batch]


@pytest.mark.stack
def test_reads_every_record_once_and_skips_markers_and_reports_poison(
    test_stack: StackUnderTest,
) -> None:
    settings = test_stack.settings
    topic = new_topic(settings, PARTITIONS)
    codec = Codec()
    events = [parse_event(fresh("DeathRegistered", household=f"H{i}")) for i in range(40)]
    records = [(e.envelope.household_id.encode(), codec.encode(e, topic)) for e in events]
    records.append((b"H0", b"\xff not avro"))
    produce(settings, topic, records)

    first = everything(settings, topic)
    assert sorted(str(r.event.envelope.event_id) for r in first if r.event) == sorted(
        str(e.envelope.event_id) for e in events
    )
    poison = [r for r in first if r.error is not None]
    assert [(r.error.reason if r.error else "", r.value) for r in poison] == [
        ("not_avro", b"\xff not avro")
    ]

    again = everything(settings, topic)  # the first read's markers are skipped
    assert sorted(r.key for r in again) == sorted(r.key for r in first)

    resume = {p: max((r.offset for r in first if r.partition == p), default=-1) for p in range(3)}
    later = everything(settings, topic, {p: o + 1 for p, o in resume.items()})
    assert later == []
