"""`popreg rebuild state` against the real stack: the bulk path equals the live one.

The rebuild folds the whole log (every test's events so far, poison included), so it
is compared with what the live projector had written from the same log: every
current row, every archived event's outcome, every rejection and the counts. Then
the live projector must carry on from the positions the rebuild stored.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from projections import rebuild
from projections.domain.history import key_of
from projections.domain.record import Record
from projections.domain.state_rows import COLUMNS
from schemas.settings import Settings
from tests.builders import UNITS, birth, death, enumerated, enumerated_household
from tests.cli_env import popreg
from tests.id_space import Ids, synthetic
from tests.producing import publish
from tests.state_store import db_rows, folded
from tests.waiting import quiesce, wait_projected

pytestmark = pytest.mark.stack

COMPARED = {
    **{table: ", ".join(columns) for table, columns in COLUMNS.items()},
    "events": 'event_id, event_type, partition, "offset", payload, outcome, reason',
    "rejected_events": 'partition, "offset", event_id, reason, detail, raw',
    "processor_counts": "consumer, applied, rejected, voided, duplicates, undecodable",
}


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(settings.postgres_url) as conn:
        return {
            table: sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
            for table, columns in COMPARED.items()
        }


def test_rebuild_equals_the_live_projection_and_live_continues(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=150, years=(2021, 2024), seed=5, error_rate=0.05)
    wait_projected(settings, publish(settings, events))
    quiesce(settings)
    live = snapshot(settings)
    assert any(row[0] == ids.household("000001") for row in live["households"])

    result = popreg(settings, "rebuild", "state", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "rebuilt from" in result.stdout
    rebuilt = snapshot(settings)
    for table in COMPARED:
        assert rebuilt[table] == live[table], table

    later = Ids.new()
    more = synthetic(later, households=20, years=(2023, 2024), seed=6, error_rate=0.0)
    wait_projected(settings, publish(settings, more))
    assert db_rows(settings, later) == folded(more).rows


def test_the_fold_keeps_versions_only_of_what_the_registry_holds() -> None:
    """A father named by births but never registered gets no entity version (the
    rebuild used to fail when a second birth in the version window named him)."""
    events = [
        enumerated_household("H1", "P1", 2, day="2023-01-01"),
        enumerated("P1", "H1", "HEAD", "FEMALE", "1990-05-17", "MARRIED", day="2023-01-01"),
        birth("C1", "P1", day="2023-02-01", father="F9"),
        birth("C2", "P1", day="2024-03-01", father="F9"),
    ]
    log = rebuild.Log({0: len(events)})
    for n, e in enumerate(events):
        log.events[e.envelope.event_id] = (Record(0, n, e, None, None), e)
    folded = rebuild.fold_with_links(log, UNITS, lambda stage, n: None)
    assert set(folded.outcomes.values()) == {None}
    versioned = {entity for entity, _, _ in folded.versions}
    assert ("P", "C2") in versioned and ("P", "F9") not in versioned


def test_the_fold_versions_every_entity_at_every_applied_event() -> None:
    """A registration years late restores what it reaches from these versions; without
    one (the rebuild kept only the last 180 days) the live projector re-folds from the
    beginning."""
    events = [
        enumerated_household("H1", "P1", 2, day="2016-01-01"),
        enumerated("P1", "H1", "HEAD", "FEMALE", "1990-05-17", "MARRIED", day="2016-01-01"),
        birth("C1", "P1", day="2017-02-01"),
        birth("C2", "P1", day="2025-03-01"),
        death("P1", day="2025-08-01"),
    ]
    log = rebuild.Log({0: len(events)})
    for n, e in enumerate(events):
        log.events[e.envelope.event_id] = (Record(0, n, e, None, None), e)
    folded = rebuild.fold_with_links(log, UNITS, lambda stage, n: None)
    assert set(folded.outcomes.values()) == {None}
    assert [(entity, key) for entity, key, _ in folded.versions] == folded.links
    assert (("P", "C1"), key_of(events[2])) in folded.links


REFUSE = """
CREATE FUNCTION pg_temp_refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.full_name LIKE 'Từ Chối%' THEN
        RAISE EXCEPTION 'refused for the test';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_for_test BEFORE INSERT OR UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION pg_temp_refuse_for_test();
"""
ALLOW = "DROP TRIGGER refuse_for_test ON persons; DROP FUNCTION pg_temp_refuse_for_test();"


def test_a_record_the_store_refuses_is_isolated_live_and_in_the_rebuild(
    settings: Settings,
) -> None:
    """Whatever PostgreSQL refuses (here a trigger stands in for any refusal the text
    rules did not foresee), the live projector isolates the one record, keeps it as a
    `store_refused` rejection with its raw bytes and applies the rest of its batch;
    `popreg rebuild state` meets the same refusal and rejects the same record, so live
    and rebuilt state agree. Once the store takes it, a rebuild applies it."""
    ids = Ids.new()
    events = synthetic(ids, households=60, years=(2022, 2024), seed=8, error_rate=0.0)
    persons = [e for e in events if e.type == "PersonEnumerated"]
    refused = persons[len(persons) // 2]
    name = "Từ Chối Một Bản Ghi"
    payload = refused.person.model_copy(update={"full_name": name})  # type: ignore[union-attr]
    refused = refused.model_copy(update={"person": payload})
    events = [refused if e.envelope.event_id == refused.envelope.event_id else e for e in events]
    person_id = payload.person_id
    quiesce(settings)
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(REFUSE)
    try:
        offsets = publish(settings, events)
        wait_projected(settings, offsets)
        quiesce(settings)
        live = snapshot(settings)
        (row,) = [r for r in live["rejected_events"] if r[3] == "store_refused"]
        assert row[2] is None and b"Ch\xe1\xbb\x91i" in bytes(row[5]), row  # raw bytes kept
        assert "refused for the test" in row[4]
        assert all(r[0] != person_id for r in live["persons"])
        assert sum(r[0] == ids.household("000001") for r in live["households"]) == 1

        result = popreg(settings, "rebuild", "state", timeout=600)
        assert result.returncode == 0, result.stderr
        rebuilt = snapshot(settings)
        for table in COMPARED:
            assert rebuilt[table] == live[table], table
    finally:
        with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute(ALLOW)

    result = popreg(settings, "rebuild", "state", timeout=600)
    assert result.returncode == 0, result.stderr
    after = snapshot(settings)
    assert not [r for r in after["rejected_events"] if r[3] == "store_refused"]
    assert [r for r in after["persons"] if r[0] == person_id]
