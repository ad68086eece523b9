"""The registrars' and operators' commands against the real stack: `popreg wait`,
`household`, `person` and `rejections`, as an operator types them."""

from __future__ import annotations

import json

import pytest

from schemas.settings import Settings
from tests.cli_env import popreg
from tests.id_space import Ids, synthetic
from tests.producing import publish
from tests.state_store import folded

pytestmark = pytest.mark.stack


def test_wait_then_read_a_household_a_person_and_the_rejections(settings: Settings) -> None:
    ids = Ids.new()
    events = synthetic(ids, households=30, years=(2022, 2024), seed=3, error_rate=0.1)
    publish(settings, events)
    waited = popreg(settings, "wait", "--timeout", "120")
    assert waited.returncode == 0, waited.stderr
    assert "has applied all" in waited.stdout

    expected = folded(events).rows
    household_id = expected["households"][0][0]
    shown = popreg(settings, "household", household_id, "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["current"]["household_id"] == household_id
    members = {(m["person_id"], m["joined_on"]) for m in doc["members"]}
    assert members == {
        (row[1], row[3].isoformat())
        for row in expected["household_members"]
        if row[0] == household_id
    }
    assert doc["history"] and all(e["outcome"] for e in doc["history"])

    person_id = expected["persons"][0][0]
    person = json.loads(popreg(settings, "person", person_id, "--json").stdout)
    assert person["current"]["person_id"] == person_id

    table = popreg(settings, "household", household_id)
    assert table.returncode == 0 and household_id in table.stdout

    rejections = json.loads(popreg(settings, "rejections", "--json").stdout)
    reasons = {row["reason"]: row["messages"] for row in rejections}
    assert reasons.get("unknown_commune", 0) >= 1  # the synthetic mistakes include some


def test_an_unknown_household_is_a_clear_error(settings: Settings) -> None:
    result = popreg(settings, "household", "H-NOT-THERE")
    assert result.returncode == 1
    assert "no household H-NOT-THERE in the registry" in result.stderr
