"""Fault tests: the real stack loses a server, or is fed garbage, duplicates and shuffled
events, while both processors (state -> PostgreSQL, indicators -> ClickHouse) consume.

After each fault nothing accepted is lost and nothing counts twice: this test's rows in
PostgreSQL equal the fold of its events, its rows in ClickHouse equal the indicator
fold of them, and the processors' counts moved by exactly what the fold says. The
processors recover by themselves (the supervisor `popreg up` started restarts a worker
that dies), and `popreg status --json` tells the truth while the fault lasts.

Killing each processor with SIGKILL mid-stream is in `test_state_projector.py` and
`test_indicator_worker.py` (marked `fault` too). Nothing here sleeps and hopes: every
wait polls with a deadline.
"""

from __future__ import annotations

import os
import random
import struct
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from infra.clickhouse import writer_client
from infra.supervisor import read_status
from projections.log import decode
from schemas.codec import (
    SINGLE_OBJECT_MAGIC,
    current_schemas,
    encode_single_object,
    record_of,
)
from schemas.models import Event
from schemas.settings import Settings
from schemas.wire import Codec
from tests.cli_env import status_json
from tests.conftest import StackUnderTest
from tests.fault_checks import RECOVERY_S, Before, assert_exact, workers
from tests.id_space import Ids, Story, synthetic
from tests.producing import Offsets, body_of, merge, produce_raw, publish
from tests.state_store import (
    counts,
    folded,
    in_transaction,
    rejection_notices,
    rejections_at,
    unannounced,
)
from tests.waiting import projected, wait_counted, wait_projected, wait_until

pytestmark = [pytest.mark.stack, pytest.mark.fault]


@pytest.fixture(scope="module")
def stack_under_test(test_stack: StackUnderTest) -> StackUnderTest:
    if test_stack.backend != "embedded":
        pytest.skip("the fault tests stop and start the embedded stack's servers")
    return test_stack


@pytest.fixture(scope="module")
def settings(stack_under_test: StackUnderTest) -> Settings:
    return stack_under_test.settings


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    found = writer_client(settings)
    yield found
    found.close()


# --- what the processors did ------------------------------------------------------------


def wait_healthy(settings: Settings, timeout_s: float = RECOVERY_S) -> dict[str, Any]:
    """Until `popreg status --json` says every part is healthy (exit 0); the document."""
    last: list[dict[str, Any]] = [{}]

    def healthy() -> bool:
        code, doc = status_json(settings)
        last[0] = doc
        return code == 0 and doc["healthy"] is True

    wait_until(healthy, timeout_s, lambda: f"status still unhealthy: {last[0]}")
    return last[0]


def parts_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {part["name"]: part for part in doc["parts"]}


def state_pid(settings: Settings) -> int:
    pid = workers(settings)["state"][0]
    assert pid is not None, read_status(settings.resolved_data_dir)
    return pid


def until_writing(settings: Settings, offsets: Offsets) -> bool:
    """Until the state projector has a batch's transaction open (mid-batch: the worst
    moment for a fault), or has projected `offsets`; whether the former."""
    pid = state_pid(settings)
    deadline = time.monotonic() + 60
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        while not in_transaction(conn, pid):
            if projected(settings, offsets):
                return False
            assert time.monotonic() < deadline, "the state projector did not take the events"
            time.sleep(0.005)
    return True


def split(events: list[Event]) -> tuple[list[Event], list[Event]]:
    """Two thirds before the fault, the rest after (or during) it."""
    middle = len(events) * 2 // 3
    return events[:middle], events[middle:]


# --- 1: the broker stops and starts mid-stream ---------------------------------------------


def test_broker_stopped_and_restarted_mid_stream(
    stack_under_test: StackUnderTest, settings: Settings, client: Any
) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=250, years=(2022, 2024), seed=21, error_rate=0.02)
    first, rest = split(events)
    before = Before(settings, client)

    written = publish(settings, first)
    # The broker stops while the projector writes a batch: its next fetches, its commits
    # and its rejection notices (to the rejected topic) meet a broker that is gone.
    assert until_writing(settings, written), "the broker stopped after the work was done"
    with stack_under_test.stopped("broker"):
        code, doc = status_json(settings)
        parts = parts_of(doc)
        assert (code, doc["healthy"]) == (1, False), doc
        assert (parts["broker"]["healthy"], parts["broker"]["detail"]) == (False, "not running")
        assert parts["postgres"]["healthy"] and parts["clickhouse"]["healthy"], doc
        # The workers run, but there is nothing for them to consume: status says so.
        assert parts["processors"]["healthy"] is False, doc
        assert "the broker does not answer" in parts["processors"]["detail"], doc
    written = merge(written, publish(settings, rest))
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_counted(client, settings, written, timeout_s=RECOVERY_S)

    assert_exact(settings, client, ids, before, events, published=len(events))
    # Each rejection's notice reached the rejected topic, outage or not (an event
    # rejected at first and applied once a late event arrived has a notice too).
    rejected = {
        str(event_id): reason
        for event_id, (outcome, reason) in folded(events).outcomes.items()
        if outcome == "rejected"
    }
    assert rejected
    # Once the broker has acknowledged every notice, the topic is read to end markers
    # (a read that stops after a timeout missed one now and then after the restart).
    wait_until(
        lambda: unannounced(settings) == 0,
        RECOVERY_S,
        lambda: f"{unannounced(settings)} rejection notices not acknowledged",
    )
    # At least once: the producer's retries across the restart may repeat one (a notice
    # is keyed by its offset, for consumers to drop repeats). A notice is sent when an
    # event becomes rejected, with the reason of that moment: a re-fold that changes only
    # the reason sends none.
    notices = rejection_notices(settings, set(rejected))
    assert {event_id for event_id, _ in notices} == set(rejected)
    wait_healthy(settings)
    assert all(pid is not None for pid, _ in workers(settings).values())


# --- 2: PostgreSQL stops and starts mid-stream ---------------------------------------------


def test_postgres_stopped_and_restarted_mid_batch(
    stack_under_test: StackUnderTest, settings: Settings, client: Any
) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=250, years=(2022, 2024), seed=22, error_rate=0.02)
    first, rest = split(events)
    before = Before(settings, client)

    written = publish(settings, first)
    assert until_writing(settings, written), "PostgreSQL stopped after the work was done"
    with stack_under_test.stopped("postgres"):
        # The batch being written failed: the state worker gives it up and exits, and the
        # supervisor restarts it (it resumes from the positions stored with the rows).
        wait_until(
            lambda: before.restarts(settings)["state"] > 0,
            30,
            lambda: f"the state worker did not give up its batch: {workers(settings)}",
        )
        code, doc = status_json(settings)
        parts = parts_of(doc)
        assert (code, doc["healthy"]) == (1, False), doc
        assert (parts["postgres"]["healthy"], parts["postgres"]["detail"]) == (
            False,
            "not running",
        )
        # The state worker is either between restarts or cannot reach PostgreSQL.
        assert parts["processors"]["healthy"] is False, doc
        assert "state" in parts["processors"]["detail"], doc
        assert parts["broker"]["healthy"] and parts["clickhouse"]["healthy"], doc
        # The indicators do not need PostgreSQL: they go on counting.
        written = merge(written, publish(settings, rest))
        wait_counted(client, settings, written, timeout_s=RECOVERY_S)
    wait_projected(settings, written, timeout_s=RECOVERY_S)

    assert_exact(settings, client, ids, before, events, published=len(events))
    wait_healthy(settings)
    assert before.restarts(settings)["indicators"] == 0


# --- 3: a burst of poison among valid traffic ----------------------------------------------


def poison(ids: Ids, settings: Settings) -> tuple[list[bytes | None], list[Event]]:
    """Random bytes, Avro of the wrong schema or framing, an event whose content fails
    validation, and valid events the fold must refuse (the last also returned)."""
    story = Story(ids)
    nobody = ids.person("nobody")
    death = {"type": "DeathRegistered", "person_id": nobody, "age_at_death": 50}
    story.add("death", {**death, "date_of_death": "2024-02-01", "place": "HOME"}, "2024-02-01")
    child = story.person(2, "FEMALE", "2024-03-01")
    birth = {"type": "BirthRegistered", "child": child, "mother_id": nobody, "birth_order": 1}
    story.add("birth", birth, "2024-03-01")
    move = {"type": "MovedOut", "person_ids": [nobody], "destination": "ABROAD"}
    story.add("move", move, "2024-04-01")
    marriage = {
        "type": "MarriageRegistered",
        "spouse_a_id": ids.person(3),
        "spouse_b_id": ids.person(4),
        "marriage_date": "2024-05-01",
        "household_after": ids.household(1),
    }
    story.add("marriage", marriage, "2024-05-01")
    foreign = record_of(story.events.pop("marriage"))
    impossible = list(story.events.values())
    bad_commune = record_of(story.events["death"])
    bad_commune["envelope"] = {**bad_commune["envelope"], "commune_code": "ABCDE"}
    death_fp = current_schemas()["DeathRegistered"].fingerprint
    rng = random.Random(7)
    garbage: list[bytes | None] = [bytes(rng.getrandbits(8) for _ in range(n)) for n in (1, 9, 300)]
    garbage += [
        b"junk" + os.urandom(40),
        None,  # a tombstone
        b"",
        SINGLE_OBJECT_MAGIC + b"\xff" * 8 + os.urandom(30),  # a fingerprint nobody knows
        SINGLE_OBJECT_MAGIC + death_fp + b"\xff\xff\xff",  # the right schema, a broken body
        SINGLE_OBJECT_MAGIC + death_fp + body_of(foreign, "MarriageRegistered"),  # wrong schema
        SINGLE_OBJECT_MAGIC + death_fp + body_of(bad_commune, "DeathRegistered"),  # invalid
    ]
    if settings.schema_registry_url is None:
        garbage.append(b"\x00" + struct.pack(">I", 7) + b"\x02ab")  # Confluent framing
    return [*garbage, *(encode_single_object(e) for e in impossible)], impossible


def test_a_burst_of_poison_in_valid_traffic_is_rejected_and_passed(
    settings: Settings, client: Any
) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=150, years=(2023, 2024), seed=23, error_rate=0.02)
    first, rest = split(events)
    values, impossible = poison(ids, settings)
    codec = Codec(settings.schema_registry_url)
    errors = [decode(codec, 0, 0, v).error for v in values]
    undecodable = Counter(error.reason for error in errors if error is not None)
    assert undecodable.total() == len(values) - len(impossible)
    assert {"not_avro", "empty", "unknown_schema", "invalid_content"} <= set(undecodable)
    before = Before(settings, client)

    written = publish(settings, first)
    # The burst, spread over every partition, between the two halves of the traffic.
    key = ids.household(1).encode()
    at: dict[int, tuple[int, int]] = {}  # value index -> (partition, offset)
    partitions = settings.partitions
    for partition in range(partitions):
        mine = list(range(partition, len(values), partitions))
        offsets = produce_raw(settings, [(key, values[n]) for n in mine], partition)
        at.update({n: (partition, o) for n, o in zip(mine, offsets, strict=True)})
    written = merge(written, *({p: o} for p, o in at.values()), publish(settings, rest))
    code, doc = status_json(settings)  # while the processors take the burst
    assert (code, doc["healthy"]) == (0, True), doc
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_counted(client, settings, written, timeout_s=RECOVERY_S)

    # Every poison message is one rejection, at its offset, with the decoder's reason.
    for n, error in enumerate(errors):
        partition, offset = at[n]
        (row,) = rejections_at(settings, partition, [offset]).values()
        if error is not None:
            assert (row["reason"], row["event_id"]) == (error.reason, None), row
        else:
            event = impossible[n - undecodable.total()]
            assert row["event_id"] == event.envelope.event_id, row
            assert row["reason"] == folded(impossible).outcomes[event.envelope.event_id][1]
    assert_exact(
        settings,
        client,
        ids,
        before,
        [*events, *impossible],
        published=len(events) + len(impossible),
        undecodable=undecodable,
    )
    # Bad input never stops a processor.
    assert before.restarts(settings) == {"state": 0, "indicators": 0}
    wait_healthy(settings)


def test_an_event_with_nul_in_a_name_never_stops_a_processor(
    settings: Settings, client: Any
) -> None:
    """Produced straight to the broker (no SDK to refuse it), a person whose name holds
    NUL, which PostgreSQL cannot store (untranslatable character), is refused on decode
    by every reader of the log with the rule; its raw bytes are kept, and the
    processors go on."""
    ids = Ids.new()
    story = Story(ids)
    head = {"type": "HouseholdEnumerated", "address": "Ấp 3", "member_count": 3}
    story.add("enum-h1", {**head, "head_person_id": ids.person(1)}, "2024-01-01")
    story.enumerate(1, "HEAD", story.person(1, "MALE", "1980-02-03"))
    story.enumerate(2, "CHILD", story.person(2, "FEMALE", "2001-02-03"))
    story.enumerate(3, "CHILD", story.person(3, "FEMALE", "2003-02-03"))
    valid = [story.events[name] for name in ("enum-h1", "enum-p1", "enum-p3")]
    fingerprint = current_schemas()["PersonEnumerated"].fingerprint
    bad: list[bytes | None] = []
    for name in ("Lê\x00Thị", "Lê\tThị\nHoa"):
        record = record_of(story.events["enum-p2"])
        record["person"] = {**record["person"], "full_name": name}
        bad.append(SINGLE_OBJECT_MAGIC + fingerprint + body_of(record, "PersonEnumerated"))
    before = Before(settings, client)

    written = publish(settings, valid[:2])
    key = ids.household(1).encode()
    offsets = produce_raw(settings, [(key, value) for value in bad], 0)
    written = merge(written, {0: max(offsets)}, publish(settings, valid[2:]))
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_counted(client, settings, written, timeout_s=RECOVERY_S)

    rows = rejections_at(settings, 0, offsets)
    for offset, value in zip(offsets, bad, strict=True):
        row = rows[offset]
        assert (row["reason"], row["raw"]) == ("invalid_content", value), row
        assert "person.full_name" in row["detail"]
        assert "[control_character]" in row["detail"]
    assert_exact(
        settings,
        client,
        ids,
        before,
        valid,
        published=len(valid),
        undecodable=Counter({"invalid_content": len(bad)}),
    )
    assert before.restarts(settings) == {"state": 0, "indicators": 0}
    wait_healthy(settings)


BREAK_WRITES = """
CREATE FUNCTION break_writes_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the disk failed, for the test' USING ERRCODE = '58030';
END $$;
CREATE TRIGGER break_writes_for_test BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION break_writes_for_test();
"""
MEND_WRITES = "DROP TRIGGER break_writes_for_test ON events; DROP FUNCTION break_writes_for_test();"


def test_a_crash_looping_worker_shows_as_failing_with_its_last_error(
    settings: Settings, client: Any
) -> None:
    """A fault that fails every batch (not one record: an I/O error) makes the state
    worker exit each time it starts. `popreg status` calls it failing, with its last
    error, even while it runs between two exits; once the fault is mended it writes
    the batch and is healthy again."""
    ids = Ids.new()
    events = synthetic(ids, households=4, years=(2024, 2024), seed=31, error_rate=0.0)
    before = Before(settings, client)
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(BREAK_WRITES)
    try:
        written = publish(settings, events)
        seen: list[dict[str, Any]] = []

        def failing() -> bool:
            code, doc = status_json(settings)
            seen.append(doc)
            detail = parts_of(doc)["processors"]["detail"]
            return code == 1 and "state failing" in detail and "the disk failed" in detail

        wait_until(failing, RECOVERY_S, lambda: f"never reported failing: {seen[-1:]}")
        assert read_status(settings.resolved_data_dir)["state"]["failing"] is True
        assert before.restarts(settings)["state"] >= 2
    finally:
        with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute(MEND_WRITES)
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_healthy(settings)
    assert read_status(settings.resolved_data_dir)["state"]["failing"] is False
    assert before.restarts(settings)["indicators"] == 0


# --- 4: duplicate and reordered deliveries -------------------------------------------------


def test_duplicate_and_shuffled_deliveries_count_once_in_history_order(
    settings: Settings, client: Any
) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=120, years=(2023, 2024), seed=24, error_rate=0.02)
    rng = random.Random(24)
    shuffled = rng.sample(events, len(events))
    again = rng.sample(events, len(events) // 2)
    before = Before(settings, client)

    # The events in shuffled order, in three deliveries each taken before the next: a
    # household's events arrive out of history order, within a batch and across batches.
    written: Offsets = {}
    for part in range(3):
        written = merge(written, publish(settings, shuffled[part::3]))
        wait_projected(settings, written, timeout_s=RECOVERY_S)
        wait_counted(client, settings, written, timeout_s=RECOVERY_S)
    # The same events again: half of them reshuffled, then the first 50 in order.
    written = merge(written, publish(settings, again), publish(settings, events[:50]))
    wait_projected(settings, written, timeout_s=RECOVERY_S)
    wait_counted(client, settings, written, timeout_s=RECOVERY_S)

    assert shuffled != events
    published = len(shuffled) + len(again) + 50
    assert_exact(settings, client, ids, before, events, published=published)
    # Events reached the projector after later ones of their entities: it re-folded.
    assert counts(settings)["refolded"] > before.counts["refolded"]
    assert before.restarts(settings) == {"state": 0, "indicators": 0}
    wait_healthy(settings)
