"""`popreg publish`: every bad row listed, nothing invalid published (real broker)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from producers.files import Check, check_file, nest, read_rows
from schemas.admin_units import load
from schemas.models import Context
from schemas.settings import Settings, TopicSettings
from schemas.wire import Codec
from tests.cli_env import popreg
from tests.conftest import StackUnderTest
from tests.kafka_helpers import new_topic, read_to_sentinels
from tests.samples import SAMPLES, fresh

PARTITIONS = 3
BAD_LINES = {18: "unknown_commune", 501: "invalid_json", 902: "future_timestamp"}


@pytest.fixture
def own_topic(test_stack: StackUnderTest) -> Settings:
    """The stack's settings with a fresh events topic, so what is on it is ours alone."""
    topic = new_topic(test_stack.settings, PARTITIONS)
    topics = TopicSettings(events=topic, partitions=PARTITIONS)
    return test_stack.settings.model_copy(update={"topics": topics})


def thousand_rows(path: Path) -> list[dict[str, Any]]:
    """1,000 events of every type, three of them bad (BAD_LINES); returns the good ones."""
    good = []
    with path.open("w", encoding="utf-8") as out:
        for line in range(1, 1001):
            event = fresh(sorted(SAMPLES)[line % len(SAMPLES)], household=f"H-{line % 97}")
            if line == 18:
                event["envelope"]["commune_code"] = "99999"
            elif line == 902:
                event["envelope"]["recorded_at"] = "2099-01-01T00:00:00Z"
            text = '{"type": "DeathRegistered", broken' if line == 501 else json.dumps(event)
            out.write(text + "\n")
            if line not in BAD_LINES:
                good.append(event)
    return good


def listed_lines(stdout: str) -> dict[int, str]:
    found = re.findall(r"^line (\d+): .*\[(\w+)\]$", stdout, re.M)
    return {int(line): reason for line, reason in found}


def published_ids(settings: Settings) -> list[str]:
    codec = Codec()
    records = read_to_sentinels(settings, settings.topics.events, PARTITIONS)
    return [str(codec.decode(m.value()).envelope.event_id) for m in records]


@pytest.mark.stack
def test_three_bad_rows_are_listed_and_nothing_is_published(
    own_topic: Settings, tmp_path: Path
) -> None:
    thousand_rows(tmp_path / "export.jsonl")
    result = popreg(own_topic, "publish", str(tmp_path / "export.jsonl"))
    assert result.returncode == 1, result.stderr
    assert listed_lines(result.stdout) == BAD_LINES
    assert "nothing published: 3 rows rejected" in result.stderr
    assert published_ids(own_topic) == []


@pytest.mark.stack
def test_skip_invalid_publishes_the_valid_rows_and_keeps_the_rejects(
    own_topic: Settings, tmp_path: Path
) -> None:
    good = thousand_rows(tmp_path / "export.jsonl")
    rejects = tmp_path / "rejects.jsonl"
    result = popreg(
        own_topic,
        "publish",
        str(tmp_path / "export.jsonl"),
        "--skip-invalid",
        "--rejects",
        str(rejects),
    )
    assert result.returncode == 1, result.stderr
    assert sorted(published_ids(own_topic)) == sorted(e["envelope"]["event_id"] for e in good)
    kept = [json.loads(line) for line in rejects.read_text("utf-8").splitlines()]
    assert {k["line"]: k["reasons"].rsplit("[", 1)[1].rstrip("]") for k in kept} == BAD_LINES


@pytest.mark.stack
def test_dry_run_publishes_nothing(own_topic: Settings, tmp_path: Path) -> None:
    path = tmp_path / "clean.jsonl"
    path.write_text("\n".join(json.dumps(fresh("DeathRegistered")) for _ in range(5)) + "\n")
    result = popreg(own_topic, "publish", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert published_ids(own_topic) == []


@pytest.mark.stack
def test_a_csv_export_publishes_and_repeated_rows_go_once(
    own_topic: Settings, tmp_path: Path
) -> None:
    births = [fresh("BirthRegistered") for _ in range(3)]
    moves = [fresh("MovedOut"), fresh("MovedOut")]
    path = tmp_path / "export.csv"
    write_csv(path, [*births, births[0], *moves])  # births[0] twice, identical
    result = popreg(own_topic, "publish", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 repeating an earlier row (sent once)" in " ".join(result.stdout.split())
    ids = published_ids(own_topic)
    assert sorted(ids) == sorted(e["envelope"]["event_id"] for e in [*births, *moves])


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    cells: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "corrected_fields":
            cells.update(flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            cells[prefix + key] = ";".join(value)
        elif value is not None:
            cells[prefix + key] = str(value)
    return cells


def write_csv(path: Path, events: list[dict[str, Any]]) -> None:
    rows = [flatten(e) for e in events]
    columns = sorted({c for row in rows for c in row})
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)


# --- pure: reading and checking ---------------------------------------------------------


def check(path: Path) -> Check:
    return check_file(path, Context(load()))


def test_csv_cells_nest_into_the_json_shape() -> None:
    cells = {
        "type": "MovedIn",
        "envelope.event_id": "e",
        "person_ids": "P1; P2",
        "persons": "[]",
        "origin_commune_code": "",
    }
    assert nest(cells) == {
        "type": "MovedIn",
        "envelope": {"event_id": "e"},
        "person_ids": ["P1", "P2"],
        "persons": [],
    }


def test_csv_line_numbers_count_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('type,reason\nEventVoided,"two\nlines"\nEventVoided,x\n', "utf-8")
    assert [row.line for row in read_rows(path)] == [2, 4]


def test_a_repeated_event_id_with_other_content_is_a_conflict(tmp_path: Path) -> None:
    first = fresh("DeathRegistered")
    second = json.loads(json.dumps(first))
    second["age_at_death"] = 82
    path = tmp_path / "export.jsonl"
    path.write_text(f"{json.dumps(first)}\n\n{json.dumps(second)}\n", "utf-8")
    found = check(path)
    assert [(row.line, row.problems[0].rule) for row in found.bad] == [(3, "event_id_conflict")]
    assert "line 1" in found.bad[0].problems[0].message


def test_rows_that_are_not_objects_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('[1, 2]\n"text"\n', "utf-8")
    assert [(r.line, r.problems[0].rule) for r in check(path).bad] == [
        (1, "not_an_object"),
        (2, "not_an_object"),
    ]


def test_an_unknown_file_type_is_refused(test_stack: StackUnderTest, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"PK")
    result = popreg(test_stack.settings, "publish", str(path))
    assert result.returncode == 2
    assert "use .jsonl" in result.stderr
