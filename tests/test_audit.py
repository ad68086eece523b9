"""`popreg replay` and `popreg audit verify` against the real stack: snapshots are
deterministic, the live registry equals the replay of the log, and a deliberately
corrupted row is reported."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from popreg.settings import Settings
from tests.cli_env import popreg
from tests.projector_helpers import Ids, publish, synthetic

pytestmark = pytest.mark.stack


def test_verify_passes_on_the_live_registry_and_names_a_corrupted_row(settings: Settings) -> None:
    events = synthetic(Ids.new(), households=40, years=(2022, 2024), seed=8, error_rate=0.05)
    publish(settings, events)
    verified = popreg(settings, "audit", "verify", "--timeout", "120", timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout

    person_id = next(e.person.person_id for e in events if e.type == "PersonEnumerated")
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        (sex,) = conn.execute(
            "SELECT sex FROM persons WHERE person_id = %s", (person_id,)
        ).fetchone() or (None,)
        assert sex is not None
        conn.execute("UPDATE persons SET sex = 'UNKNOWN' WHERE person_id = %s", (person_id,))
        try:
            found = popreg(settings, "audit", "verify", "--timeout", "120", timeout=300)
        finally:
            conn.execute("UPDATE persons SET sex = %s WHERE person_id = %s", (sex, person_id))
    assert found.returncode == 1
    assert person_id in found.stdout and "1 rows differ" in found.stderr


def test_two_replays_with_the_same_cutoffs_match_and_one_goes_to_postgres(
    settings: Settings, tmp_path: Path
) -> None:
    events = synthetic(Ids.new(), households=20, years=(2022, 2024), seed=6, error_rate=0.0)
    publish(settings, events)
    cutoffs = ["--as-of", "2023-12-31", "--known-at", "2024-06-30T00:00:00Z", "--province", "96"]
    hashes = []
    for name in ("a", "b"):
        done = popreg(settings, "replay", *cutoffs, "--out", str(tmp_path / name), timeout=300)
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["as_of"] == "2023-12-31"
        assert manifest["records_read"] >= len(events) or manifest["checkpoint"]
        hashes.append(manifest["content_hash"])
    assert hashes[0] == hashes[1]
    stored = popreg(settings, "replay", *cutoffs, "--to-postgres", "audit_2023", timeout=300)
    assert stored.returncode == 0, stored.stderr
    with psycopg.connect(settings.postgres_url) as conn:
        (persons,) = conn.execute("SELECT count(*) FROM audit_2023.persons").fetchone() or (0,)
        (doc,) = conn.execute("SELECT doc FROM audit_2023.manifest").fetchone() or ({},)
    assert persons == manifest["rows"]["persons"] > 0
    assert doc["content_hash"] == hashes[0]


def test_a_replay_from_a_checkpoint_equals_one_from_offset_zero(
    settings: Settings, tmp_path: Path
) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=30, years=(2019, 2024), seed=9, error_rate=0.05)
    cut = next(n for n, e in enumerate(events) if e.envelope.recorded_at.year >= 2022)
    publish(settings, events[:cut])
    taken = popreg(settings, "checkpoint", "--settled-through", "2021-06-30", timeout=300)
    assert taken.returncode == 0, taken.stderr
    publish(settings, events[cut:])
    cutoffs = ["--as-of", "2026-12-31"]
    hashes = {}
    for name, extra in (("checkpoint", []), ("zero", ["--from-offset-zero"])):
        done = popreg(settings, "replay", *cutoffs, *extra, "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        hashes[name] = json.loads((tmp_path / name / "manifest.json").read_text())
    used, zero = hashes["checkpoint"], hashes["zero"]
    assert zero["checkpoint"] is None
    assert used["checkpoint"] is not None, used["checkpoints_refused"]
    assert used["records_read"] < zero["records_read"]
    assert used["content_hash"] == zero["content_hash"]
    assert used["events_counted"] == zero["events_counted"]


def test_audit_diff_lists_a_communes_events_and_net_effect(settings: Settings) -> None:
    events = synthetic(Ids.new(), households=20, years=(2022, 2024), seed=12, error_rate=0.0)
    publish(settings, events)
    births = [e for e in events if e.type == "BirthRegistered"]
    commune = births[0].envelope.commune_code
    window = ["--from", "2022-06-30", "--to", "2024-12-31", "--commune", commune]
    done = popreg(settings, "audit", "diff", *window, "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    listed = {c["event_id"] for c in found["changes"]}
    assert str(births[0].envelope.event_id) in listed
    assert {c["commune_code"] for c in found["changes"]} == {commune}
    assert [row["commune_code"] for row in found["population"]] == [commune]
    row = found["population"][0]
    assert row["after"] - row["before"] == row["change"]
    shown = popreg(settings, "audit", "diff", *window, timeout=300)
    assert shown.returncode == 0 and "net effect" in shown.stdout
    backwards = popreg(settings, "audit", "diff", "--from", "2024-01-01", "--to", "2023-01-01")
    assert backwards.returncode == 1 and "before --from" in backwards.stderr
