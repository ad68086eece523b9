"""The programme's collaborator figures on the real stack: accounts from the gateway's
roster, events recorded from a phone, `popreg indicators` and ClickHouse de-identified."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime

import pytest

from infra.clickhouse import writer_client
from infra.roster import sync_roster
from producers.gateway.collaborators import (
    add_collaborator,
    list_collaborators,
    revoke_collaborator,
)
from schemas.admin_units import REFORM_DATE, load
from schemas.models import VIETNAM, Event
from schemas.settings import Settings
from schemas.validation import parse_event
from tests.cli_env import popreg
from tests.id_space import Ids
from tests.producing import publish

pytestmark = pytest.mark.stack


def a_commune_of_its_own(ids: Ids) -> str:
    """A commune of today no other test enrols collaborators in: chosen by the test's tag
    among Điện Biên's (province 11)."""
    codes = [c.code for c in load().communes_of_province("11", REFORM_DATE)]
    return codes[int(ids.tag[1:], 16) % len(codes)]


def household(ids: Ids, commune: str, reporter: str, channel: str) -> Event:
    """A household enumerated today, recorded now by `reporter` through `channel`."""
    now = datetime.now(UTC)
    hid = ids.household(uuid.uuid4().hex[:6])
    return parse_event(
        {
            "type": "HouseholdEnumerated",
            "envelope": {
                "event_id": str(uuid.uuid4()),
                "occurred_on": now.astimezone(VIETNAM).date().isoformat(),
                "recorded_at": now.isoformat(),
                "commune_code": commune,
                "household_id": hid,
                "reporter_id": reporter,
                "channel": channel,
                "source_system": "popreg-tests",
            },
            "address": "Bản 1",
            "head_person_id": ids.person(hid),
            "member_count": 1,
        }
    )


def figures(settings: Settings, commune: str, period: str) -> dict[str, float | None]:
    shown = popreg(
        settings,
        "indicators",
        "--level",
        "commune",
        "--code",
        commune,
        "--period",
        period,
        "--units",
        "current",
        "--format",
        "json",
    )
    assert shown.returncode == 0, shown.stderr
    return {row["indicator"]: row["value"] for row in json.loads(shown.stdout)}


def test_active_collaborators_and_who_recorded_from_a_phone(settings: Settings) -> None:
    ids = Ids.new()
    commune = a_commune_of_its_own(ids)
    enrolled = [add_collaborator(settings, commune, f"Lò Văn {n}")[0] for n in "ABCD"]
    phone, web, _idle, gone = (c.id for c in enrolled)
    revoke_collaborator(settings, gone)
    assert sync_roster(settings) == len(list_collaborators(settings))
    status = popreg(settings, "status", "--json")
    told = json.loads(status.stdout)["collaborators"]
    roster = list_collaborators(settings)
    assert told == {
        "active": sum(c.active for c in roster),
        "revoked": sum(not c.active for c in roster),
    }
    assert told["revoked"] >= 1
    publish(
        settings,
        [
            household(ids, commune, phone, "MOBILE"),
            household(ids, commune, phone, "MOBILE"),
            household(ids, commune, web, "WEB"),
            household(ids, commune, gone, "MOBILE"),  # revoked: no longer counts
        ],
    )
    assert popreg(settings, "wait", "--timeout", "120").returncode == 0
    month = datetime.now(VIETNAM).strftime("%Y-%m")
    found = figures(settings, commune, month)
    assert found["collaborators_active"] == 3  # phone, web and idle
    assert found["collaborators_mobile_share"] == pytest.approx(100 / 3)
    # before anyone was enrolled there was no collaborator: no share either
    before = figures(settings, commune, "2025-12")
    share = before["collaborators_mobile_share"]
    assert before["collaborators_active"] == 0 and share is not None and math.isnan(share)


def test_the_command_hands_the_roster_to_clickhouse_without_ids_or_names(
    settings: Settings,
) -> None:
    """`popreg gateway collaborator add` and `revoke` reach the figures at once."""
    commune = a_commune_of_its_own(Ids.new())
    added = popreg(
        settings, "gateway", "collaborator", "add", "--commune", commune, "--name", "Quàng Thị E"
    )
    assert added.returncode == 0, added.stderr
    assert "next `popreg up`" not in added.stdout
    roster = list_collaborators(settings)
    client = writer_client(settings)
    try:
        held = " ".join(
            str(value)
            for table in ("collaborators", "recordings")
            for row in client.query(f"SELECT * FROM popreg.{table}").result_rows
            for value in row
        )
        assert client.command("SELECT count() FROM popreg.collaborators") == len(roster)
    finally:
        client.close()
    for account in roster:
        assert account.id not in held and account.name not in held
    assert "ctv-" not in held.lower()
