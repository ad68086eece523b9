"""The live state projector (faust worker -> PostgreSQL) against the real stack.

Whatever order events arrive in, however often, whatever garbage sits between them
and however often the worker is killed, the registry's tables must equal the pure
fold of the same events in history order (`projections.domain.history.fold_log`). Each test
owns its ids (the database is shared by the session) and compares only its rows.
"""

from __future__ import annotations

import os
import random
import signal
import struct
import time
from collections import Counter
from datetime import date
from uuid import UUID

import psycopg
import pytest

from infra.supervisor import read_status
from producers.publisher import Publisher
from projections.domain.state_rows import COLUMNS
from schemas.codec import SINGLE_OBJECT_MAGIC, current_schemas, encode_single_object, record_of
from schemas.settings import Settings
from tests.id_space import Ids, Story, synthetic
from tests.producing import Offsets, body_of, merge, offsets_of, produce_raw, publish
from tests.state_store import (
    archive_totals,
    archived,
    assert_projected,
    counts,
    db_rows,
    folded,
    footprint,
    in_transaction,
    read_rejected_topic,
    rejected_rows,
    rejection_notices,
    rejections_at,
    unannounced,
)
from tests.waiting import projected, quiesce, wait_projected, wait_until

pytestmark = pytest.mark.stack


# --- 1, 2: a synthetic province, once and twice ----------------------------------------


def test_a_synthetic_history_projects_to_the_fold(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=300, years=(2022, 2024), seed=7, error_rate=0.02)
    offsets = publish(settings, events)
    wait_projected(settings, offsets)

    assert_projected(settings, ids, events)
    verdicts = folded(events).outcomes.values()
    reasons = Counter(reason for outcome, reason in verdicts if outcome == "rejected")
    assert reasons["unknown_commune"] > 0 and sum(reasons.values()) > reasons["unknown_commune"]


def test_publishing_the_same_events_again_changes_nothing(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=120, years=(2023, 2024), seed=5, error_rate=0.02)
    wait_projected(settings, publish(settings, events))
    quiesce(settings)
    rows, before, links = db_rows(settings, ids), counts(settings), footprint(settings, ids)
    unique = {e.envelope.event_id for e in events}
    archive = archived(settings, unique)
    rejections = rejected_rows(settings, unique)

    wait_projected(settings, publish(settings, events))

    assert db_rows(settings, ids) == rows
    assert footprint(settings, ids) == links  # no new links or versions either
    assert archived(settings, unique) == archive  # outcomes, and where each was first read
    assert rejected_rows(settings, unique) == rejections
    after = counts(settings)
    assert after["duplicates"] - before["duplicates"] == len(events)
    assert {k: v for k, v in after.items() if k != "duplicates"} == {
        k: v for k, v in before.items() if k != "duplicates"
    }
    assert_projected(settings, ids, events)


# --- 3: late, voided and amended events -------------------------------------------------


def late_story(ids: Ids) -> Story:
    s = Story(ids)
    head = {"type": "HouseholdEnumerated", "address": "Ấp 1", "member_count": 3}
    s.add("enum-h1", {**head, "head_person_id": ids.person(1)}, "2024-01-01")
    s.enumerate(1, "HEAD", s.person(1, "MALE", "1985-02-03", "MARRIED"), spouse=2)
    s.enumerate(2, "SPOUSE", s.person(2, "FEMALE", "1990-05-17", "MARRIED"), spouse=1)
    s.enumerate(3, "PARENT", s.person(3, "FEMALE", "1940-07-01", "WIDOWED"))
    # A birth registered weeks late, after later events of the household.
    s.birth("birth-p4", 4, "2024-03-01", "2024-05-20T02:00:00Z")
    # The grandmother moved away on 10 April... but had died on 2 April (registered later).
    move = {"type": "MovedOut", "person_ids": [ids.person(3)], "destination": "ABROAD"}
    s.add("out-p3", move, "2024-04-10", "2024-04-11T03:00:00Z")
    death = {"type": "DeathRegistered", "person_id": ids.person(3), "age_at_death": 83}
    s.add("death-p3", {**death, "date_of_death": "2024-04-02", "place": "HOME"}, "2024-04-02",
          "2024-06-01T03:00:00Z")  # fmt: skip
    s.birth("birth-p5", 5, "2024-06-15", "2024-06-16T03:00:00Z")
    s.correction("void-birth-p5", "EventVoided", "birth-p5", "2024-07-01")
    s.correction("amend-birth-p4", "EventAmended", "birth-p4", "2024-07-02",
                 child__full_name='"Trần Văn Bình"')  # fmt: skip
    # A second household: a death whose date is amended, a move voided before it arrives.
    s.add("enum-h2", {**head, "head_person_id": ids.person(6), "member_count": 2}, "2024-01-01",
          h=2)  # fmt: skip
    s.enumerate(6, "HEAD", s.person(6, "MALE", "1950-01-01", "WIDOWED"), h=2)
    s.enumerate(7, "CHILD", s.person(7, "FEMALE", "1975-01-01"), h=2)
    death6 = {**death, "person_id": ids.person(6), "age_at_death": 74, "place": "HOME"}
    s.add("death-p6", {**death6, "date_of_death": "2024-07-05"}, "2024-07-05",
          "2024-07-08T03:00:00Z", h=2)  # fmt: skip
    s.correction("amend-death-p6", "EventAmended", "death-p6", "2024-07-10", h=2,
                 envelope__occurred_on='"2024-06-20"', date_of_death='"2024-06-20"')  # fmt: skip
    # An amendment that would make its target invalid changes nothing.
    s.correction("amend-bad-p4", "EventAmended", "birth-p4", "2024-07-11",
                 child__sex='"ALIEN"')  # fmt: skip
    move7 = {"type": "MovedOut", "person_ids": [ids.person(7)], "destination": "ABROAD"}
    s.add("out-p7", move7, "2024-05-01", h=2)
    s.correction("void-out-p7", "EventVoided", "out-p7", "2024-05-02", h=2)
    # A birth rejected at first (unknown mother) becomes valid when the mother's earlier
    # move into the household is registered after it.
    newcomer = s.person(8, "FEMALE", "1995-01-01", "NEVER_MARRIED")
    move8 = {"type": "MovedIn", "person_ids": [ids.person(8)], "persons": [newcomer]}
    s.add("in-p8", {**move8, "origin": "ABROAD"}, "2024-02-01", "2024-08-01T03:00:00Z", h=2)
    s.birth("birth-p9", 9, "2024-03-15", "2024-03-20T03:00:00Z", parents=(8, None))
    return s


ARRIVAL = [
    "enum-h1", "enum-p1", "enum-p2", "enum-p3",
    "out-p3",          # applied first...
    "birth-p5",        # mother's first birth, for now
    "death-p3",        # ...then the earlier death: the move becomes a move of a dead woman
    "void-birth-p5",   # the later birth never happened
    "birth-p4",        # the earlier birth, registered late
    "amend-birth-p4",  # its child's name corrected
    "void-out-p7",     # a void before its target has arrived
    "enum-h2", "enum-p6", "enum-p7",
    "death-p6",
    "out-p7",          # arrives already voided
    "amend-death-p6",  # the death's date corrected
    "amend-bad-p4",    # rejected: it names no valid sex
    "birth-p9",        # rejected for now: the mother is unknown...
    "in-p8",           # ...until her earlier move-in is registered
]  # fmt: skip


@pytest.mark.parametrize("arrival", ["one_by_one", "all_at_once"])
def test_late_voided_and_amended_events_give_the_in_order_result(
    settings: Settings, arrival: str
) -> None:
    ids = Ids.new()
    story = late_story(ids)
    assert sorted(ARRIVAL) == sorted(story.events)
    events = [story.events[name] for name in ARRIVAL]
    if arrival == "one_by_one":  # each in its own batch: late events meet the archive
        with Publisher(settings) as publisher:
            for event in events:
                wait_projected(settings, offsets_of([publisher.publish(event)]))
    else:  # all in one or two batches: late events meet events of the same batch
        wait_projected(settings, publish(settings, events))

    assert_projected(settings, ids, events)

    p, eid = ids.person, ids.event
    rows = db_rows(settings, ids)
    persons = {r[0]: dict(zip(COLUMNS["persons"], r, strict=True)) for r in rows["persons"]}
    members = [
        dict(zip(COLUMNS["household_members"], r, strict=True)) for r in rows["household_members"]
    ]
    found = archived(settings, [UUID(eid(name)) for name in ARRIVAL])
    outcome = {n: (found[UUID(eid(n))]["outcome"], found[UUID(eid(n))]["reason"]) for n in ARRIVAL}
    # The voided birth: no child, the mother's count back to one.
    assert p(5) not in persons and all(m["person_id"] != p(5) for m in members)
    assert outcome["birth-p5"] == ("voided", "voided")
    assert outcome["void-birth-p5"] == ("applied", None)
    assert persons[p(2)]["live_births"] == 1
    # The late birth is there, with its amended name.
    assert persons[p(4)]["full_name"] == "Trần Văn Bình"
    assert (persons[p(4)]["mother_id"], persons[p(4)]["household_id"]) == (p(2), ids.household(1))
    # The late death came first in history: the move of a dead woman is rejected.
    assert persons[p(3)]["vital_status"] == "DEAD"
    assert persons[p(3)]["date_of_death"] == date(2024, 4, 2)
    assert outcome["out-p3"] == ("rejected", "dead_person")
    # A notice when an event becomes rejected, not again each time a re-fold re-applies it.
    notices = rejection_notices(settings, {eid(n) for n in ARRIVAL})
    assert notices[(eid("out-p3"), "dead_person")] == 1
    assert set(notices.values()) == {1}
    assert rejected_rows(settings, [UUID(eid("out-p3"))]) == {UUID(eid("out-p3")): ["dead_person"]}
    left = {m["person_id"]: (m["left_on"], m["left_reason"]) for m in members if m["left_on"]}
    assert left[p(3)] == (date(2024, 4, 2), "DIED")
    # The amended death date; the invalid amendment changed nothing.
    assert persons[p(6)]["date_of_death"] == date(2024, 6, 20)
    assert left[p(6)] == (date(2024, 6, 20), "DIED")
    assert outcome["amend-death-p6"] == ("applied", None)
    assert outcome["amend-bad-p4"] == ("rejected", "invalid_amendment")
    assert persons[p(4)]["sex"] == "MALE"
    # The move voided before it arrived never happened.
    assert persons[p(7)]["household_id"] == ids.household(2)
    assert persons[p(7)]["residence"] == "RESIDENT"
    assert outcome["out-p7"] == ("voided", "voided")
    assert outcome["void-out-p7"] == ("applied", None)
    # The birth first rejected is applied once its mother's move-in arrived.
    assert outcome["birth-p9"] == ("applied", None)
    assert UUID(eid("birth-p9")) not in rejected_rows(settings, [UUID(eid("birth-p9"))])
    assert persons[p(8)]["live_births"] == 1
    assert persons[p(9)]["household_id"] == ids.household(2)
    if arrival == "one_by_one":  # it was rejected, visibly, before it was applied
        birth9 = eid("birth-p9")
        docs = read_rejected_topic(settings, lambda d: d.get("event_id") == birth9, 1)
        assert docs[0]["reason"] == "unknown_mother"


def voided_marriage_story(ids: Ids) -> Story:
    """P1 leaves household 1 to marry P2 into household 2; the marriage is voided
    weeks later, so P1 never left household 1."""
    s = Story(ids)
    head = {"type": "HouseholdEnumerated", "address": "Ấp 4", "member_count": 2}
    s.add("enum-h1", {**head, "head_person_id": ids.person(1)}, "2024-01-01")
    s.enumerate(1, "HEAD", s.person(1, "MALE", "1990-01-01"))
    s.enumerate(3, "SIBLING", s.person(3, "FEMALE", "1992-01-01"))
    s.add("enum-h2", {**head, "head_person_id": ids.person(2), "member_count": 1}, "2024-01-01",
          h=2)  # fmt: skip
    s.enumerate(2, "HEAD", s.person(2, "FEMALE", "1991-01-01"), h=2)
    marriage = {"type": "MarriageRegistered", "spouse_a_id": ids.person(1),
                "spouse_b_id": ids.person(2), "marriage_date": "2024-03-01",
                "household_after": ids.household(2)}  # fmt: skip
    s.add("marriage", marriage, "2024-03-01", h=2)
    s.correction("void-marriage", "EventVoided", "marriage", "2024-04-01", h=2)
    return s


@pytest.mark.parametrize("arrival", ["one_by_one", "all_at_once"])
def test_a_voided_marriage_leaves_no_membership_closed(settings: Settings, arrival: str) -> None:
    """The re-fold of a void restores what its target touched when it was applied,
    the household a spouse left included, even when no later event touches that
    household: P1 is back in household 1, and their membership there is open."""
    ids = Ids.new()
    events = list(voided_marriage_story(ids).events.values())
    if arrival == "one_by_one":
        with Publisher(settings) as publisher:
            for event in events:
                wait_projected(settings, offsets_of([publisher.publish(event)]))
    else:
        wait_projected(settings, publish(settings, events))
    assert_projected(settings, ids, events)
    members = db_rows(settings, ids)["household_members"]
    row = next(dict(zip(COLUMNS["household_members"], r, strict=True)) for r in members
               if r[0] == ids.household(1) and r[1] == ids.person(1))  # fmt: skip
    assert (row["left_on"], row["left_reason"]) == (None, None)


def varied_voided_marriage(ids: Ids, rng: random.Random) -> Story:
    """A voided marriage in one of many shapes: either spouse moves, the household
    left may empty or keep a member, the void comes before or after a later event
    that touches the new household, and the marriage is recorded late or not."""
    s = Story(ids)
    head = {"type": "HouseholdEnumerated", "address": "Ấp 5", "member_count": 2}
    s.add("enum-h1", {**head, "head_person_id": ids.person(1)}, "2024-01-01")
    s.enumerate(1, "HEAD", s.person(1, "MALE", "1990-01-01"))
    if rng.random() < 0.5:
        s.enumerate(3, "SIBLING", s.person(3, "FEMALE", "1992-01-01"))
    s.add("enum-h2", {**head, "head_person_id": ids.person(2)}, "2024-01-01", h=2)
    s.enumerate(2, "HEAD", s.person(2, "FEMALE", "1991-01-01"), h=2)
    s.enumerate(4, "CHILD", s.person(4, "MALE", "2010-01-01"), h=2)
    into = rng.choice([1, 2])  # the household after: the other spouse moves
    a, b = (1, 2) if rng.random() < 0.5 else (2, 1)
    marriage = {"type": "MarriageRegistered", "spouse_a_id": ids.person(a),
                "spouse_b_id": ids.person(b), "marriage_date": "2024-03-01",
                "household_after": ids.household(into)}  # fmt: skip
    late = rng.choice([None, "2024-03-20T02:00:00.000Z"])
    s.add("marriage", marriage, "2024-03-01", at=late, h=into)
    moved = {"type": "MovedOut", "person_ids": [ids.person(4)], "destination": "ABROAD"}
    if rng.random() < 0.5:
        s.add("move-out", moved, "2024-03-10", h=2)
    void_on = rng.choice(["2024-03-05", "2024-04-01"])
    s.correction("void-marriage", "EventVoided", "marriage", void_on, h=into)
    return s


@pytest.mark.parametrize("arrival", ["one_by_one", "all_at_once"])
def test_many_voided_marriages_leave_no_membership_closed(settings: Settings, arrival: str) -> None:
    """Thirty voided marriages of varied shapes, in new id spaces (so that sets and
    hashes order them differently): each spouse is back where they were, with an
    open membership, and every table equals the fold."""
    rng = random.Random(f"voided-marriages-{arrival}")
    stories = [(ids, varied_voided_marriage(ids, rng)) for ids in (Ids.new() for _ in range(30))]
    if arrival == "one_by_one":  # every story but its void first, then all the voids
        firsts = [e for _, s in stories for n, e in s.events.items() if n != "void-marriage"]
        wait_projected(settings, publish(settings, firsts))
        wait_projected(settings, publish(settings, [s.events["void-marriage"] for _, s in stories]))
    else:
        wait_projected(
            settings, publish(settings, [e for _, s in stories for e in s.events.values()])
        )
    for ids, story in stories:
        assert_projected(settings, ids, list(story.events.values()))
        rows = [dict(zip(COLUMNS["household_members"], r, strict=True))
                for r in db_rows(settings, ids)["household_members"]]  # fmt: skip
        open_rows = {(r["household_id"], r["person_id"]) for r in rows if r["left_on"] is None}
        for person, household in ((1, 1), (2, 2)):
            assert (ids.household(household), ids.person(person)) in open_rows


# --- 4: poison messages -------------------------------------------------------------------


def test_poison_messages_are_rejected_kept_and_passed(settings: Settings) -> None:
    ids = Ids.new()
    story = Story(ids)
    head = {"type": "HouseholdEnumerated", "address": "Ấp 2", "member_count": 2}
    story.add("enum-h1", {**head, "head_person_id": ids.person(1)}, "2024-01-01")
    story.enumerate(1, "HEAD", story.person(1, "MALE", "1985-02-03"))
    story.enumerate(2, "CHILD", story.person(2, "FEMALE", "2000-02-03"))
    death = {"type": "DeathRegistered", "person_id": ids.person(99), "age_at_death": 50}
    story.add("death-unknown", {**death, "date_of_death": "2024-02-01", "place": "HOME"},
              "2024-02-01")  # fmt: skip
    birth = {
        "type": "BirthRegistered",
        "child": story.person(3, "FEMALE", "2024-03-01"),
        "mother_id": ids.person(1),  # a man
        "birth_order": 1,
    }
    story.add("birth-male-mother", birth, "2024-03-01")
    e = story.events
    death_writer = current_schemas()["DeathRegistered"]
    bad_commune = record_of(e["death-unknown"])
    bad_commune["envelope"] = {**bad_commune["envelope"], "commune_code": "ABCDE"}
    garbage: list[tuple[str, bytes | None]] = [
        ("not_avro", b"junk" + os.urandom(40)),
        ("empty", None),
        ("unknown_schema", SINGLE_OBJECT_MAGIC + b"\xff" * 8 + os.urandom(30)),
        ("malformed", SINGLE_OBJECT_MAGIC + death_writer.fingerprint + b"\xff\xff\xff"),
        (
            "invalid_content",
            SINGLE_OBJECT_MAGIC
            + death_writer.fingerprint
            + body_of(bad_commune, "DeathRegistered"),
        ),
    ]
    if settings.schema_registry_url is None:
        garbage.append(("no_registry", b"\x00" + struct.pack(">I", 7) + b"\x02ab"))
    key = ids.household(1).encode()
    valid = [encode_single_object(e[n]) for n in ("enum-h1", "enum-p1")]
    impossible = [encode_single_object(e[n]) for n in ("death-unknown", "birth-male-mother")]
    after = encode_single_object(e["enum-p2"])
    quiesce(settings)
    before = counts(settings)

    partition = 0
    values: list[bytes | None] = [*valid, *(v for _, v in garbage), *impossible, after]
    offsets = produce_raw(settings, [(key, v) for v in values], partition)
    wait_projected(settings, {partition: offsets[-1]})

    poison_offsets = offsets[len(valid) : -1]
    found = rejections_at(settings, partition, poison_offsets)
    for (reason, value), offset in zip(garbage, poison_offsets, strict=False):
        row = found.get(offset)
        assert row is not None, f"no rejection for the {reason} message at {offset}"
        assert (row["reason"], row["event_id"]) == (reason, None), row
        assert row["raw"] == value or (value is None and not row["raw"]), row
    for name, reason, offset in [
        ("death-unknown", "unknown_person", poison_offsets[-2]),
        ("birth-male-mother", "mother_not_female", poison_offsets[-1]),
    ]:
        row = found[offset]
        assert (row["reason"], row["event_id"], row["raw"]) == (
            reason,
            e[name].envelope.event_id,
            None,
        ), row
    # The projector went on: the events around the poison are applied.
    assert_projected(settings, ids, list(e.values()))
    assert ids.person(2) in {row[0] for row in db_rows(settings, ids)["persons"]}
    # Each rejection is also on the rejected topic.
    topic, mine = settings.topics.events, set(poison_offsets)
    docs = read_rejected_topic(
        settings,
        lambda d: d.get("topic") == topic and d["partition"] == partition and d["offset"] in mine,
        len(mine),
    )
    reasons = {d["offset"]: d["reason"] for d in docs}
    assert reasons == {o: found[o]["reason"] for o in poison_offsets}
    after_counts = counts(settings)
    assert after_counts["undecodable"] - before["undecodable"] == len(garbage)
    assert after_counts["rejected"] - before["rejected"] == 2
    assert after_counts["applied"] - before["applied"] == 3


# --- 5: kill -9 ---------------------------------------------------------------------------


def worker_pid(settings: Settings) -> int | None:
    pid = read_status(settings.resolved_data_dir).get("state", {}).get("pid")
    return pid if isinstance(pid, int) else None


def restarts(settings: Settings) -> int:
    found = read_status(settings.resolved_data_dir).get("state", {}).get("restarts")
    return found if isinstance(found, int) else 0


def kill_mid_batch(settings: Settings, chunk: Offsets) -> bool:
    """SIGKILL the worker while it writes a batch (its transaction open in PostgreSQL),
    or once the chunk is all projected if no batch was caught; then wait until the
    supervisor has started a new worker. Whether a batch was caught half written."""
    pid = worker_pid(settings)
    assert pid is not None
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while not (caught := in_transaction(conn, pid)):
            if projected(settings, chunk):
                break
            assert time.monotonic() < deadline, "the worker did not project the chunk"
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: worker_pid(settings) not in (None, pid),
        60,
        lambda: f"no restart: {read_status(settings.resolved_data_dir)}",
    )
    return caught


@pytest.mark.durability
@pytest.mark.fault
def test_kill_9_while_projecting_loses_and_repeats_nothing(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=500, years=(2022, 2024), seed=3, error_rate=0.02)
    quiesce(settings)
    before, restarted = counts(settings), restarts(settings)
    chunks = [events[i : i + 600] for i in range(0, len(events), 600)]
    kill_after = {1, 3, 5}
    assert len(chunks) > max(kill_after)
    written: Offsets = {}
    caught = []
    for n, chunk in enumerate(chunks):
        offsets = publish(settings, chunk)
        written = merge(written, offsets)
        if n in kill_after:
            caught.append(kill_mid_batch(settings, offsets))
    wait_projected(settings, written, timeout_s=180)
    assert any(caught), "no kill hit a batch being written"

    assert restarts(settings) - restarted == len(kill_after)
    assert_projected(settings, ids, events)
    want = Counter(outcome for outcome, _ in folded(events).outcomes.values())
    after = counts(settings)
    change = {k: after[k] - before[k] for k in after}
    assert change["applied"] == want["applied"]
    assert change["rejected"] == want["rejected"]
    assert change["voided"] == want["voided"]
    assert change["undecodable"] == 0
    assert change["duplicates"] == len(events) - len({e.envelope.event_id for e in events})
    totals = archive_totals(settings)
    assert {k: after[k] for k in totals} == totals


@pytest.mark.durability
@pytest.mark.fault
def test_rejections_stored_but_not_announced_are_announced_by_the_next_worker(
    settings: Settings,
) -> None:
    """Rejections reach their topic through an outbox: a worker killed after its commit
    but before the broker acknowledged its notices leaves them stored unannounced, and
    the next worker announces them when it starts."""
    ids = Ids.new()
    events = synthetic(ids, households=80, years=(2023, 2024), seed=8, error_rate=0.05)
    wait_projected(settings, publish(settings, events))
    rejected = rejected_rows(settings, {e.envelope.event_id for e in events})
    wanted = {str(event_id) for event_id in rejected}
    assert rejected
    assert set(rejection_notices(settings, wanted).values()) == {1}

    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        assert unannounced(settings) == 0
        # what a kill between the commit and the broker's acknowledgement leaves
        conn.execute(
            "UPDATE rejected_events SET announced = false WHERE event_id = ANY(%s)",
            (list(rejected),),
        )
        pid = worker_pid(settings)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(
            lambda: unannounced(settings) == 0,
            60,
            lambda: f"still unannounced; workers {read_status(settings.resolved_data_dir)}",
        )
    assert worker_pid(settings) != pid
    notices = rejection_notices(settings, wanted)
    assert set(notices) == {(str(e), reasons[0]) for e, reasons in rejected.items()}
    assert set(notices.values()) == {2}  # once by the batch, again by the next worker
