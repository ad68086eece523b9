"""The indicator fold's snapshot: what it restores, and what it refuses rather than use."""

from __future__ import annotations

import json
import math
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from projections import fold_snapshot as snapshot
from projections.domain.checkpoint import Refused
from projections.domain.indicator_rows import IndicatorFold, IndicatorState
from projections.domain.record import Record
from schemas.codec import DecodeError
from schemas.settings import ProcessorSettings
from stream_processors import forked
from stream_processors.indicator_worker import snapshot_due
from tests.builders import UNITS
from tests.histories import SECRET, SYNTH, records

TOPIC = "popreg.vital-events"


def taken(count: int) -> snapshot.Snapshot:
    """The fold of the first `count` synthetic events, the rest still to come."""
    state = IndicatorState(IndicatorFold(UNITS, SECRET))
    head = records(SYNTH[:count])
    state.load(head)
    stamps: dict[int, snapshot.Stamp] = {}
    snapshot.stamps_of(head, stamps)
    return snapshot.Snapshot(state, {0: count}, stamps)


def test_a_snapshot_restores_the_fold_and_goes_on_as_it_would_have(tmp_path: Path) -> None:
    half = len(SYNTH) // 2
    kept = taken(half)
    path = snapshot.save(kept, TOPIC, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = snapshot.load(tmp_path, TOPIC, UNITS, SECRET)
    assert found.positions == {0: half}
    assert found.stamps == {0: (half - 1, str(SYNTH[half - 1].envelope.event_id))}
    assert found.state.fold.units is UNITS and found.state.fold.secret == SECRET
    assert list(found.state.all_rows()) == list(kept.state.all_rows())
    rest = [Record(0, half + n, e, None, None) for n, e in enumerate(SYNTH[half:])]
    assert found.state.take(rest).rows == kept.state.take(rest).rows
    assert list(found.state.all_rows()) == list(kept.state.all_rows())


def test_the_file_holds_neither_the_key_nor_the_unit_tables(tmp_path: Path) -> None:
    data = snapshot.save(taken(200), TOPIC, tmp_path).read_bytes()
    assert SECRET not in data
    some_commune = next(iter(UNITS.before.values()))
    assert some_commune.name.encode() not in data


def refusal(root: Path, topic: str = TOPIC, secret: bytes = SECRET) -> str:
    with pytest.raises(Refused) as refused:
        snapshot.load(root, topic, UNITS, secret)
    return str(refused.value)


def test_a_missing_damaged_or_foreign_snapshot_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert refusal(tmp_path) == "there is none"
    path = snapshot.save(taken(200), TOPIC, tmp_path)
    assert refusal(tmp_path, topic="other.topic") == "it was taken with another topic"
    assert refusal(tmp_path, secret=b"another key") == "it was taken with another key"
    monkeypatch.setattr(snapshot, "fingerprint", lambda: "other code")
    assert refusal(tmp_path) == "it was taken with another fingerprint"
    monkeypatch.undo()
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert refusal(tmp_path) == "its content does not match its digest"
    path.write_bytes(bytes(data[: len(data) // 2]))
    assert refusal(tmp_path).startswith("it is unreadable (")
    path.write_bytes(b"not a snapshot")
    assert refusal(tmp_path).startswith("it is unreadable (ValueError")
    snapshot.save(taken(200), TOPIC, tmp_path)
    pickled, trailer = split_trailer(path.read_bytes())
    edited = json.dumps({**json.loads(trailer), "stamps": 5}).encode()
    path.write_bytes(pickled + edited + len(edited).to_bytes(snapshot.TRAILER, "big"))
    assert refusal(tmp_path).startswith("it is unreadable (AttributeError")


def split_trailer(data: bytes) -> tuple[bytes, bytes]:
    length = int.from_bytes(data[-snapshot.TRAILER :], "big")
    end = len(data) - snapshot.TRAILER
    return data[: end - length], data[end - length : end]


def test_the_summary_says_what_a_snapshot_covers_without_loading_it(tmp_path: Path) -> None:
    assert snapshot.summary(tmp_path) is None
    snapshot.save(taken(300), TOPIC, tmp_path)
    found = snapshot.summary(tmp_path)
    assert found is not None and found.positions == {0: 300}
    assert found.events == len({e.envelope.event_id for e in SYNTH[:300]})
    assert 0 <= found.age_s < 60
    (tmp_path / snapshot.NAME).write_bytes(b"garbage")
    with pytest.raises(ValueError):
        snapshot.summary(tmp_path)


def test_a_writer_killed_mid_way_leaves_the_last_snapshot_whole(tmp_path: Path) -> None:
    snapshot.save(taken(100), TOPIC, tmp_path)
    (tmp_path / f".{snapshot.NAME}.123.partial").write_bytes(b"half a pickle")
    snapshot.save(taken(300), TOPIC, tmp_path)
    assert snapshot.load(tmp_path, TOPIC, UNITS, SECRET).positions == {0: 300}
    assert sorted(p.name for p in tmp_path.iterdir()) == [snapshot.NAME]


def test_stamps_name_the_last_record_of_each_partition_even_undecodable() -> None:
    bad = Record(1, 7, None, DecodeError("malformed", "x"), b"\x00junk")
    found: dict[int, snapshot.Stamp] = {}
    snapshot.stamps_of([*records(SYNTH[:3]), bad, Record(1, 5, SYNTH[4], None, None)], found)
    assert found[0] == (2, str(SYNTH[2].envelope.event_id))
    assert found[1][0] == 7 and found[1] == snapshot.stamp(bad) != snapshot.stamp(
        Record(1, 7, None, DecodeError("malformed", "x"), b"\x00other")
    )


def test_a_forked_child_reports_how_it_ended() -> None:
    done = forked.start(lambda: None)
    failed = forked.start(lambda: 1 / 0)
    assert wait_ended(done) == 0
    assert wait_ended(failed) == 1


def wait_ended(pid: int, timeout_s: float = 30) -> int | None:
    deadline = time.monotonic() + timeout_s
    while (code := forked.ended(pid)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return code


CHILD_OF_A_PARENT = """
import time
from stream_processors import forked
from stream_processors.indicator_worker import snapshot_due
print(forked.start(lambda: time.sleep(120)), flush=True)
time.sleep(120)
"""


def test_a_forked_child_dies_with_its_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", CHILD_OF_A_PARENT], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait(30)
    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(child)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (the child's parent is gone, so
    init reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_snapshot_is_due_after_enough_events_and_long_enough_after_the_last() -> None:
    every = ProcessorSettings(snapshot_every=1000, snapshot_interval_s=600)
    assert not snapshot_due(999, math.inf, every)
    assert snapshot_due(1000, math.inf, every)
    assert not snapshot_due(50_000, 599.0, every)
    assert snapshot_due(1000, 600.0, every)
