"""The gateway's authority matrix, row by row (pure: the registry's answer is given).

Each row: what a token of commune OWN may publish about records the registry places
in OWN, in ANOTHER, or does not know yet."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from producers.gateway import issue_province_token, lookup
from producers.gateway.authority import Known, names_of, refusal
from schemas.models import Event
from schemas.settings import Settings
from schemas.validation import parse_event
from tests.samples import SAMPLES, sample

OWN, OTHER = "32014", "32002"
HOUSEHOLD, PERSON, SPOUSE = "H96-000001", "P96-0000002", "P96-0000001"
TARGET = uuid.UUID(SAMPLES["EventVoided"]["target_event_id"])


def event(name: str, **changes: Any) -> Event:
    return parse_event(sample(name, **changes))


def holds(code: str) -> bool:
    return code == OWN


def known(households: str | None = None, person: str | None = None, spouse: str | None = None,
          target: str | None = None, after: str | None = None) -> Known:  # fmt: skip
    found = Known()
    if households:
        found.households[HOUSEHOLD] = households
    if after:
        found.households["H96-000002"] = after
    if person:
        found.persons[PERSON] = person
    if spouse:
        found.persons[SPOUSE] = spouse
    if target:
        found.events[TARGET] = target
    return found


def death() -> Event:
    return event("DeathRegistered", person_id=PERSON)


def moved_out() -> Event:
    return event("MovedOut", person_ids=[PERSON])


def marriage() -> Event:
    return event(
        "MarriageRegistered", spouse_a_id=PERSON, spouse_b_id=SPOUSE, household_after="H96-000002"
    )


def divorce() -> Event:
    return event("DivorceRegistered", spouse_a_id=PERSON, spouse_b_id=SPOUSE)


def person() -> Event:
    return event("PersonEnumerated")


MATRIX: list[tuple[str, Event, Known, str | None]] = [
    # household events: the household must be the commune's own, or unknown
    ("enumerate own household", event("HouseholdEnumerated"), known(OWN), None),
    ("enumerate new household", event("HouseholdEnumerated"), known(), None),
    ("enumerate other's household", event("HouseholdEnumerated"), known(OTHER), "household"),
    ("birth in own household", event("BirthRegistered"), known(OWN), None),
    ("birth in other's household", event("BirthRegistered"), known(OTHER), "household"),
    ("move into own household", event("MovedIn"), known(OWN), None),
    ("move into other's household", event("MovedIn"), known(OTHER), "household"),
    # persons: a person placed elsewhere is another commune's
    ("enumerate own person", person(), known(OWN, OWN), None),
    ("enumerate other's person", person(), known(OWN, OTHER), "person"),
    ("death of own resident", death(), known(OWN, OWN), None),
    ("death of unknown person", death(), known(OWN), None),
    ("death of other's resident", death(), known(OWN, OTHER), "person"),
    ("death in other's household", death(), known(OTHER, OTHER), "household"),
    ("move out of own resident", moved_out(), known(OWN, OWN), None),
    ("move out of other's resident", moved_out(), known(OWN, OTHER), "person"),
    # marriages and divorces: either spouse's commune, into its own household
    ("marriage, both own", marriage(), known(OWN, OWN, OWN, after=OWN), None),
    ("marriage, one spouse own", marriage(), known(OWN, OTHER, OWN, after=OWN), None),
    ("marriage, neither own", marriage(), known(OWN, OTHER, OTHER, after=OWN), "neither spouse"),
    ("marriage into other's household", marriage(), known(OWN, OWN, OWN, after=OTHER), "household"),
    ("divorce, one spouse own", divorce(), known(OWN, OWN, OTHER), None),
    ("divorce, neither own", divorce(), known(OWN, OTHER, OTHER), "neither spouse"),
    # corrections: only the commune that recorded the target
    ("void own event", event("EventVoided"), known(target=OWN), None),
    ("void unknown event", event("EventVoided"), known(), None),
    ("void other's event", event("EventVoided"), known(OTHER, target=OTHER), "only that commune"),
    (
        "amend other's event",
        event("EventAmended", target_event_id=str(TARGET)),
        known(target=OTHER),
        "only that commune",
    ),
    (
        "amend own event",
        event("EventAmended", target_event_id=str(TARGET)),
        known(OTHER, target=OWN),
        None,
    ),
]


@pytest.mark.parametrize(
    ("event", "registry", "refused"), [row[1:] for row in MATRIX], ids=[row[0] for row in MATRIX]
)
def test_the_authority_matrix(event: Event, registry: Known, refused: str | None) -> None:
    reason = refusal(event, holds, registry)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


def test_every_event_type_is_in_the_matrix() -> None:
    assert {row[1].type for row in MATRIX} == set(SAMPLES)


def test_a_request_is_looked_up_in_one_pass() -> None:
    names = names_of([death(), marriage(), event("EventVoided")])
    assert names.households == {HOUSEHOLD, "H96-000002"}
    assert names.persons == {PERSON, SPOUSE}
    assert names.events == {TARGET}


def test_a_province_token_may_correct_its_communes_records(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    secret = issue_province_token(settings, "96")
    grant = lookup(settings, secret)
    assert grant is not None and grant.holder == "province 96"
    assert grant.holds(OWN) and grant.holds(OTHER) and not grant.holds("00001")
    void = event("EventVoided")
    assert refusal(void, grant.holds, known(target=OTHER)) is None
    assert refusal(void, grant.holds, known(target="00001")) is not None
    with pytest.raises(ValueError, match="no commune has province code"):
        issue_province_token(settings, "99")
