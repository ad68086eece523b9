"""`popreg synth` as an operator runs it: to a file, to Kafka, and into `popreg publish`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers.synth import Synth, SynthConfig
from producers.synth.config import (
    CROSSING,
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from schemas.admin_units import load
from schemas.settings import Settings, TopicSettings
from schemas.wire import Codec
from tests.cli_env import popreg
from tests.conftest import StackUnderTest
from tests.kafka_helpers import new_topic, read_to_sentinels

NOW = "2026-01-01T00:00:00"
ARGS = ["--households", "300", "--years", "2023-2025", "--seed", "3", "--now", NOW]


def expected() -> Synth:
    """What `popreg synth ARGS` generates: its default rates are the realistic ones."""
    config = SynthConfig(
        "96",
        300,
        2023,
        2025,
        3,
        datetime(2026, 1, 1, tzinfo=UTC),
        0.005,
        void_rate=REALISTIC_VOID_RATE,
        amend_rate=REALISTIC_AMEND_RATE,
        crossing_rate=REALISTIC_CROSSING_RATE,
    )
    synth = Synth(config, load())
    for _ in synth.events():
        pass
    return synth


@pytest.mark.stack
def test_synth_publishes_what_it_writes(test_stack: StackUnderTest, tmp_path: Path) -> None:
    topic = new_topic(test_stack.settings, 3)
    settings: Settings = test_stack.settings.model_copy(
        update={"topics": TopicSettings(events=topic, partitions=3)}
    )
    out = tmp_path / "events.jsonl"
    result = popreg(settings, "synth", *ARGS, "--output", str(out), "--publish")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    records = read_to_sentinels(settings, topic, 3)
    codec = Codec()
    on_topic = sorted(str(codec.decode(m.value()).envelope.event_id) for m in records)
    assert on_topic == sorted(line["envelope"]["event_id"] for line in lines)
    table = dict(re.findall(r"^\s+(\w+)\s+([\d,]+)\s+[\d,]+\s*$", result.stdout, re.M))
    assert int(table["PersonEnumerated"].replace(",", "")) == sum(
        line["type"] == "PersonEnumerated" for line in lines
    )


def test_publish_rejects_exactly_the_unknown_codes_synth_planted(
    test_stack: StackUnderTest, tmp_path: Path
) -> None:
    """Contradictions pass the producer (only the registry's state reveals them);
    unknown commune codes do not. Corrections and crossing late registrations are
    valid events: they pass too."""
    out = tmp_path / "events.jsonl"
    made = popreg(test_stack.settings, "synth", *ARGS, "-o", str(out))
    assert made.returncode == 0, made.stderr
    synth = expected()
    kinds = [m.kind for m in synth.mistakes]
    printed = " ".join(made.stdout.split())
    voids = sum(k.startswith("void:") for k in kinds)
    amendments = sum(k.startswith("amend:") for k in kinds)
    crossings = sum(m.category == CROSSING for m in synth.mistakes)
    assert voids and amendments and crossings
    assert f"corrections: {voids:,} voids" in printed
    assert f"; {amendments:,} amendments" in printed
    assert f"{crossings:,} late registrations recorded after a later event" in printed
    result = popreg(test_stack.settings, "publish", str(out), "--dry-run")
    lines = out.read_text("utf-8").splitlines()
    rejected = {
        json.loads(lines[int(n) - 1])["envelope"]["event_id"]
        for n in re.findall(r"^line (\d+):", result.stdout, re.M)
    }
    planted = {str(m.event_id) for m in synth.mistakes if m.kind == "unknown_commune"}
    assert planted and rejected == planted
    assert result.returncode == 1


def test_synth_needs_a_destination(test_stack: StackUnderTest) -> None:
    result = popreg(test_stack.settings, "synth", "--households", "10")
    assert result.returncode == 1
    assert "--output FILE, --publish, or both" in result.stderr
