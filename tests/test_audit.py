"""`popreg replay` and `popreg audit verify` against the real stack: snapshots are
deterministic, the live registry equals the replay of the log, the indicators equal
the registry, and a deliberately corrupted row or figure is reported."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infra import stack
from infra.clickhouse import writer_client
from producers.synth import Synth, SynthConfig
from producers.synth.config import CORRECTION, CROSSING
from projections.agreement_queries import ch_age, pg_age
from projections.clickhouse_schema import DATABASE
from projections.domain.history import is_correction
from projections.domain.indicator_rows import COLUMNS
from schemas.admin_units import load
from schemas.models import Event, age_on
from schemas.settings import Settings
from schemas.validation import event_json, parse_event
from tests.cli_env import popreg
from tests.conftest import embedded_settings
from tests.id_space import Ids, retag, synthetic
from tests.indicator_store import expected, held
from tests.producing import produce_raw, publish
from tests.state_store import archived
from tests.verdicts import registry_verdicts, state_verdicts

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def own_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A stack of this module's own for `audit verify`, which compares whole stores:
    the session's other tests build adversarial histories on purpose and tamper with
    tables, and this module's tampering must not reach them either. (With
    `--backend=containers` the session's stack serves; every tampering is undone.)"""
    if request.config.getoption("--backend") != "embedded":
        yield request.getfixturevalue("test_stack").settings
        return
    settings = embedded_settings(tmp_path_factory.mktemp("audit-stack"))
    stack.up(settings)
    try:
        yield settings
    finally:
        stack.down(settings)


def verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    return popreg(settings, "audit", "verify", "--timeout", "120", timeout=300)


def test_verify_passes_on_the_live_registry_and_names_a_corrupted_row(
    own_settings: Settings,
) -> None:
    settings = own_settings
    events = synthetic(Ids.new(), households=40, years=(2022, 2024), seed=8, error_rate=0.05)
    publish(settings, events)
    verified = verify(settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified: the live registry equals the replay" in verified.stdout

    person_id = next(e.person.person_id for e in events if e.type == "PersonEnumerated")
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        (sex,) = conn.execute(
            "SELECT sex FROM persons WHERE person_id = %s", (person_id,)
        ).fetchone() or (None,)
        assert sex is not None
        conn.execute("UPDATE persons SET sex = 'UNKNOWN' WHERE person_id = %s", (person_id,))
        try:
            found = verify(settings)
        finally:
            conn.execute("UPDATE persons SET sex = %s WHERE person_id = %s", (sex, person_id))
    assert found.returncode == 1
    assert person_id in found.stdout and "1 rows differ" in found.stderr


def test_verify_holds_the_indicators_to_the_registry_and_names_a_tampered_figure(
    own_settings: Settings,
) -> None:
    """A generated history with its deliberate mistakes, a void, an amendment, a void of
    no event and bytes that are no event: the stores agree. An extra population delta
    in ClickHouse is named by date, commune, sex and age; an extra rejection by type
    and reason; once both are cancelled the stores agree again."""
    settings = own_settings
    events = synthetic(Ids.new(), households=200, years=(2021, 2024), seed=5, error_rate=0.005)
    publish(settings, [*events, *corrections(events)])
    produce_raw(settings, [(b"junk", b"not an event")], partition=0)
    verified = verify(settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    line = re.search(r"verified: the indicators equal the registry \((.*)\)", verified.stdout)
    assert line is not None, verified.stdout
    assert re.match(r"[\d,]+ commune-sex-age cells on \d+ dates, [\d,]+ households", line[1])

    commune = events[0].envelope.commune_code
    extra = (
        uuid.uuid4(),
        commune,
        "MALE",
        date(1990, 6, 15),
        "NEVER_MARRIED",
        date(2023, 3, 10),
        1,
    )
    with tampered(settings, "population_deltas", extra):
        found = verify(settings)
    assert found.returncode == 1
    assert "figures differ between the indicators and the registry" in found.stderr
    named = f"population on 2023-12-31 commune {commune} sex MALE age 33: registry "
    assert any(
        row.strip().startswith(named) and row.endswith("(+1)") for row in found.stdout.splitlines()
    ), found.stdout
    assert f"population on 2022-12-31 commune {commune} sex MALE" not in found.stdout

    rejection = (uuid.uuid4(), "MovedOut", commune, "not_member", None, None, "", 1)
    with tampered(settings, "rejections", rejection):
        found = verify(settings)
    assert found.returncode == 1
    assert "1 figures differ between the indicators and the registry" in found.stderr
    assert "rejected event type MovedOut reason not_member: registry " in found.stdout

    again = verify(settings)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "verified: the indicators equal the registry" in again.stdout


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_histories_with_corrections_and_crossing_late_registrations_leave_one_truth(
    own_settings: Settings, seed: int
) -> None:
    """Generated histories with voids, amendments of every amendable field, and late
    registrations that cross later events about the same people: ClickHouse holds the
    rows of the one fold in history order, every event has the same verdict in both
    stores and in the plain fold of the log, and `audit verify` finds the stores
    equal."""
    settings = own_settings
    rate = 0.02
    config = SynthConfig(
        "96", 150, 2020, 2024, seed, datetime(2025, 3, 1, tzinfo=UTC), error_rate=0.01,
        void_rate=rate, amend_rate=rate, crossing_rate=rate,
    )  # fmt: skip
    synth = Synth(config, load())
    ids = Ids.new()
    events = retag(synth.events(), ids)
    publish(settings, events)
    verified = verify(settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified: the indicators equal the registry" in verified.stdout
    client = writer_client(settings)
    try:
        assert held(client, settings, events) == expected(settings, events)
        rows = [(table, (uuid.UUID(str(values[0])), *values[1:], n))
                for (table, values), n in held(client, settings, events).items()]  # fmt: skip
    finally:
        client.close()
    states = [e for e in events if not is_correction(e)]
    in_clickhouse = state_verdicts(rows, states)
    in_postgres = {
        event_id: row["reason"] for event_id, row in archived(settings, in_clickhouse).items()
    }
    judged = registry_verdicts(events)
    assert in_clickhouse == in_postgres == judged
    crossed = [uuid.UUID(ids.event(str(m.event_id))) for m in synth.mistakes
               if m.category == CROSSING]  # fmt: skip
    assert crossed and all(judged[i] is None for i in crossed)
    corrected = [m for m in synth.mistakes if m.category == CORRECTION]
    assert len(corrected) > 10


def corrections(events: list[Event]) -> list[Event]:
    """A void of the last birth, an amendment of a death (its place), and a void of an
    event that does not exist, recorded after the history."""
    birth = [e for e in events if e.type == "BirthRegistered"][-1]
    death = next(e for e in events if e.type == "DeathRegistered")
    place = "OTHER" if event_json(death)["place"] != "OTHER" else "HOME"

    def correction(n: int, target: Event, **fields: Any) -> Event:
        kind = "EventAmended" if "corrected_fields" in fields else "EventVoided"
        env = event_json(target)["envelope"] | {
            "event_id": str(uuid.uuid4()),
            "occurred_on": "2025-02-20",
            "recorded_at": f"2025-02-20T03:00:0{n}.000Z",
        }
        return parse_event({"type": kind, "envelope": env, "reason": "audit test", **fields})

    return [
        correction(1, birth, target_event_id=str(birth.envelope.event_id)),
        correction(
            2,
            death,
            target_event_id=str(death.envelope.event_id),
            corrected_fields={"place": json.dumps(place)},
        ),
        correction(3, death, target_event_id=str(uuid.uuid4())),
    ]


@contextmanager
def tampered(settings: Settings, table: str, row: tuple[Any, ...]) -> Iterator[None]:
    """`row` added to a ClickHouse table for the block, then cancelled by its negation
    (figures are sums), checked to sum to zero."""
    columns = COLUMNS[table]
    client = writer_client(settings)
    try:
        client.insert(f"{DATABASE}.{table}", [row], column_names=list(columns))
        try:
            yield
        finally:
            negated = (*row[:-1], -row[-1])
            client.insert(f"{DATABASE}.{table}", [negated], column_names=list(columns))
            left = client.query(
                f"SELECT sum({columns[-1]}) FROM {DATABASE}.{table} WHERE event_id = {{id:UUID}}",
                parameters={"id": row[0]},
            ).result_rows[0][0]
            assert left == 0
    finally:
        client.close()


def test_the_age_both_stores_compute_is_age_on(settings: Settings) -> None:
    """The age expressions of the population figures, held to `schemas.models.age_on`
    on birthdays, the day before, 29 February and the turn of the year."""
    pairs = [
        (date(2023, 2, 28), date(2000, 2, 29)),
        (date(2023, 3, 1), date(2000, 2, 29)),
        (date(2024, 2, 28), date(2000, 2, 29)),
        (date(2024, 2, 29), date(2000, 2, 29)),
        (date(2024, 12, 31), date(1990, 12, 31)),
        (date(2024, 12, 31), date(1991, 1, 1)),
        (date(2025, 1, 1), date(1991, 1, 1)),
        (date(2024, 6, 14), date(1990, 6, 15)),
        (date(2024, 6, 15), date(1990, 6, 15)),
        (date(2024, 3, 1), date(2024, 3, 1)),
        (date(2024, 12, 31), date(1905, 7, 4)),
    ]
    expected = [age_on(birth, day) for day, birth in pairs]
    with psycopg.connect(settings.postgres_url) as conn:
        found = conn.execute(
            f"SELECT {pg_age('t.d', 't.b')} FROM unnest(%s::date[], %s::date[])"
            " WITH ORDINALITY AS t(d, b, n) ORDER BY t.n",
            ([d for d, _ in pairs], [b for _, b in pairs]),
        ).fetchall()
    assert [age for (age,) in found] == expected
    client = writer_client(settings)
    try:
        ages = ", ".join(ch_age(f"toDate32('{d}')", f"toDate32('{b}')") for d, b in pairs)
        (row,) = client.query(f"SELECT {ages}").result_rows
    finally:
        client.close()
    assert list(row) == expected


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
