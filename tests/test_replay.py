"""Auditors' snapshots: as of a date, as known at a time, deterministic."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from projections.as_of_files import manifest_of, write
from projections.audit import diff
from projections.domain.as_of import Cutoffs, Scope, take
from schemas.models import Event
from tests.builders import UNITS, death, enumerated, enumerated_household, event
from tests.histories import SYNTH, as_log, positions

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVERYWHERE = Scope()


def story() -> tuple[list[Event], Event, Event]:
    """A mother, a birth registered two months late, a death voided weeks later."""
    late_birth = event(
        "BirthRegistered",
        "H1",
        "2024-03-01",
        recorded="2024-05-10T03:00:00Z",
        child={
            "person_id": "C1",
            "full_name": "Bé",
            "sex": "MALE",
            "birth_date": "2024-03-01",
            "ethnicity": "01",
            "national_id": None,
            "marital_status": "NEVER_MARRIED",
        },
        mother_id="M1",
        birth_order=1,
    )
    wrong_death = death("G1", day="2024-04-01")
    void = event(
        "EventVoided",
        "H1",
        "2024-06-01",
        recorded="2024-06-01T03:00:00Z",
        target_event_id=str(wrong_death.envelope.event_id),
        reason="registered for the wrong person",
    )
    base = [
        enumerated_household("H1", "M1", 2),
        enumerated("M1", "H1", "HEAD", "FEMALE", "1995-01-01"),
        enumerated("G1", "H1", "PARENT", "FEMALE", "1940-01-01", "WIDOWED"),
    ]
    return [*base, late_birth, wrong_death, void], late_birth, wrong_death


def residents(events: list[Event], as_of: str, known_at: datetime) -> set[str]:
    snapshot = take(events, UNITS, Cutoffs(date.fromisoformat(as_of), known_at), EVERYWHERE)
    return {
        row[0] for row in snapshot.tables["persons"] if row[11] == "ALIVE" and row[14] is not None
    }


def test_as_of_and_known_at_differ_exactly_by_late_registrations_and_voids() -> None:
    events, _, _ = story()
    # As we know it now: the baby was born in March, the grandmother never died.
    assert residents(events, "2024-04-15", NOW) == {"M1", "G1", "C1"}
    # What the registry said on 2024-04-15: no baby yet, the grandmother dead.
    assert residents(events, "2024-04-15", datetime(2024, 4, 15, tzinfo=UTC)) == {"M1"}
    # On 2024-05-20 it knew the baby, but not yet that the death was a mistake.
    assert residents(events, "2024-04-15", datetime(2024, 5, 20, tzinfo=UTC)) == {"M1", "C1"}
    # Valid time still bounds it: as of February the baby is not born, however late we look.
    assert residents(events, "2024-02-15", NOW) == {"M1", "G1"}


def test_the_same_log_and_cutoffs_give_the_same_hash_in_any_order() -> None:
    cutoffs = Cutoffs(date(2023, 6, 30), NOW)
    first = take(SYNTH, UNITS, cutoffs, EVERYWHERE)
    shuffled = list(SYNTH)
    random.Random(5).shuffle(shuffled)
    assert take(shuffled, UNITS, cutoffs, EVERYWHERE).content_hash == first.content_hash
    later = take(SYNTH, UNITS, Cutoffs(date(2023, 7, 31), NOW), EVERYWHERE)
    assert later.content_hash != first.content_hash


def test_a_commune_scope_keeps_only_its_households_and_their_people() -> None:
    cutoffs = Cutoffs(date(2024, 12, 31), NOW)
    whole = take(SYNTH, UNITS, cutoffs, EVERYWHERE)
    commune = whole.tables["households"][0][1]
    part = take(SYNTH, UNITS, cutoffs, Scope(commune))
    assert 0 < len(part.tables["households"]) < len(whole.tables["households"])
    assert {row[1] for row in part.tables["households"]} == {commune}
    assert {row["commune_code"] for row in part.summary["population"]} == {commune}


def test_a_snapshot_on_disk_is_parquet_with_a_manifest_naming_its_hash(tmp_path: Path) -> None:
    cutoffs = Cutoffs(date(2024, 12, 31), NOW)
    snapshot = take(SYNTH, UNITS, cutoffs, EVERYWHERE)
    read = {"topic": "t", "partitions": 1, "offsets": {0: {"first": 0, "last": 9}}}
    manifest = json.loads(
        write(snapshot, tmp_path, manifest_of(snapshot, read, cutoffs)).read_text()
    )
    assert manifest["content_hash"] == snapshot.content_hash
    assert manifest["as_of"] == "2024-12-31" and manifest["rows"]["persons"] > 0
    persons = pq.read_table(tmp_path / "persons.parquet")
    assert persons.num_rows == manifest["rows"]["persons"]
    assert "full_name" in persons.column_names
    summary = json.loads((tmp_path / "summary.json").read_text())
    alive = sum(r["persons"] for r in summary["population"])
    assert alive == sum(1 for row in snapshot.tables["persons"] if row[11] == "ALIVE" and row[14])


def test_a_diff_lists_the_events_between_two_dates_and_their_net_effect() -> None:
    events, late_birth, wrong_death = story()
    start, end = date(2024, 2, 15), date(2024, 4, 15)
    now = diff(events, UNITS, start, end, NOW, EVERYWHERE)
    assert [c.event_id for c in now.changes] == [str(late_birth.envelope.event_id)]
    commune = late_birth.envelope.commune_code
    assert now.population == [{"commune_code": commune, "before": 2, "after": 3, "change": 1}]
    then = diff(events, UNITS, start, end, datetime(2024, 5, 20, tzinfo=UTC), EVERYWHERE)
    assert then.by_type == {"BirthRegistered": 1, "DeathRegistered": 1}
    assert str(wrong_death.envelope.event_id) in {c.event_id for c in then.changes}
    assert then.population[0]["change"] == 0
    elsewhere = diff(events, UNITS, start, end, NOW, Scope("32050"))
    assert elsewhere.changes == [] and elsewhere.population == []


def amended_death(
    pid: str, hid: str, wrong: str, right: str, registered_at: str, recorded: str
) -> list[Event]:
    """A death registered at `registered_at` as on `wrong`, amended to `right` at
    `recorded`."""
    registered = event(
        "DeathRegistered",
        hid,
        wrong,
        recorded=registered_at,
        person_id=pid,
        date_of_death=wrong,
        age_at_death=80,
        place="HOME",
    )
    fix = event(
        "EventAmended",
        hid,
        recorded[:10],
        recorded=recorded,
        target_event_id=str(registered.envelope.event_id),
        reason="date of death mistyped",
        corrected_fields={
            "envelope.occurred_on": json.dumps(right),
            "date_of_death": json.dumps(right),
        },
    )
    return [registered, fix]


def amended_story() -> list[Event]:
    base = [
        enumerated_household("H1", "A1", 2, day="2019-01-01"),
        enumerated("A1", "H1", "HEAD", born="1950-01-01", day="2019-01-01"),
        enumerated("B1", "H1", "PARENT", born="1930-01-01", marital="WIDOWED", day="2019-01-01"),
        enumerated_household("H2", "C2", 1, day="2019-01-01"),
        enumerated("C2", "H2", "HEAD", born="1935-01-01", marital="WIDOWED", day="2019-01-01"),
    ]
    later = amended_death(
        "B1", "H1", "2021-09-07", "2021-09-17", "2021-09-20T03:00:00Z", "2021-10-01T03:00:00Z"
    )
    earlier = amended_death(
        "C2", "H2", "2019-11-21", "2019-10-27", "2019-11-22T03:00:00Z", "2019-12-01T03:00:00Z"
    )
    return [*base, *later, *earlier]


def test_replay_reads_an_amended_event_at_its_amended_date(tmp_path: Path) -> None:
    """Amendments apply before the as-of cut: a death amended from 09-07 to 09-17 is
    not yet a death as of 09-12, and one amended from 11-21 to 10-27 is one as of 11-15
    (her household no longer in being), as the registry says."""
    events = amended_story()
    assert residents(events, "2021-09-12", NOW) == {"A1", "B1"}
    assert residents(events, "2021-09-20", NOW) == {"A1"}
    assert residents(events, "2019-11-15", NOW) == {"A1", "B1"}
    assert residents(events, "2019-10-20", NOW) == {"A1", "B1", "C2"}
    snapshot = take(events, UNITS, Cutoffs(date(2019, 11, 15), NOW), EVERYWHERE)
    assert snapshot.summary["households"] == [{"commune_code": "32014", "households": 1}]
    # As known before the amendments: the dates as first registered.
    before = datetime(2019, 11, 25, tzinfo=UTC)
    assert residents(events, "2019-11-15", before) == {"A1", "B1", "C2"}
    # A checkpoint settled before both deaths serves the same snapshots.
    from projections.domain.checkpoint import advance, empty, resume

    log = as_log(events[:5])
    for as_of in ("2019-11-15", "2021-09-12", "2021-09-20"):
        checkpoint = advance(empty("t", 2), log, positions(log), date(2019, 6, 30), UNITS)
        cutoffs = Cutoffs(date.fromisoformat(as_of), NOW)
        served = resume(checkpoint, events[5:], UNITS, cutoffs, EVERYWHERE)
        assert served.content_hash == take(events, UNITS, cutoffs, EVERYWHERE).content_hash
