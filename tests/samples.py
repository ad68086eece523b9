"""One valid event of every type, as JSON, for tests of the contract and the producers."""

from __future__ import annotations

import copy
import uuid
from typing import Any

COMMUNE = "32014"  # a Cà Mau commune before the 2025-07-01 reform
HOUSEHOLD = "H96-000001"


def envelope(n: int, occurred_on: str = "2024-03-01", **overrides: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=n, version=4)),
        "occurred_on": occurred_on,
        "recorded_at": f"{occurred_on}T09:30:00.250Z",
        "commune_code": COMMUNE,
        "household_id": HOUSEHOLD,
        "reporter_id": "CTV-32014-01",
        "channel": "MOBILE",
        "source_system": "popreg-tests",
        "schema_version": 1,
    }
    env.update(overrides)
    return env


def person(pid: str, **overrides: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "person_id": pid,
        "full_name": "Nguyễn Thị Lan",
        "sex": "FEMALE",
        "birth_date": "1990-05-17",
        "ethnicity": "01",
        "national_id": "096190012345",
        "marital_status": "MARRIED",
    }
    found.update(overrides)
    return found


SAMPLES: dict[str, dict[str, Any]] = {
    "HouseholdEnumerated": {
        "type": "HouseholdEnumerated",
        "envelope": envelope(1, "2024-01-01"),
        "address": "Ấp 3, xã Tân Hưng",
        "head_person_id": "P96-0000001",
        "member_count": 3,
    },
    "PersonEnumerated": {
        "type": "PersonEnumerated",
        "envelope": envelope(2, "2024-01-01"),
        "person": person("P96-0000002"),
        "relation_to_head": "SPOUSE",
        "spouse_id": "P96-0000001",
    },
    "BirthRegistered": {
        "type": "BirthRegistered",
        "envelope": envelope(3, "2024-03-01"),
        "child": person(
            "P96-0000004",
            full_name="Trần Văn An",
            sex="MALE",
            birth_date="2024-03-01",
            national_id=None,
            marital_status="NEVER_MARRIED",
        ),
        "mother_id": "P96-0000002",
        "father_id": "P96-0000001",
        "birth_order": 2,
    },
    "DeathRegistered": {
        "type": "DeathRegistered",
        "envelope": envelope(4, "2024-04-02"),
        "person_id": "P96-0000003",
        "date_of_death": "2024-04-02",
        "age_at_death": 81,
        "place": "HOME",
    },
    "MarriageRegistered": {
        "type": "MarriageRegistered",
        "envelope": envelope(5, "2024-05-10"),
        "spouse_a_id": "P96-0000010",
        "spouse_b_id": "P96-0000020",
        "marriage_date": "2024-05-10",
        "household_after": HOUSEHOLD,
    },
    "DivorceRegistered": {
        "type": "DivorceRegistered",
        "envelope": envelope(6, "2024-06-11"),
        "spouse_a_id": "P96-0000010",
        "spouse_b_id": "P96-0000020",
        "divorce_date": "2024-06-11",
    },
    "MovedIn": {
        "type": "MovedIn",
        "envelope": envelope(7, "2024-07-01"),
        "person_ids": ["P96-0000030", "P96-0000031"],
        "persons": [person("P96-0000031", national_id=None, marital_status="UNKNOWN")],
        "origin": "ANOTHER_COMMUNE",
        "origin_commune_code": "00004",
    },
    "MovedOut": {
        "type": "MovedOut",
        "envelope": envelope(8, "2024-08-01"),
        "person_ids": ["P96-0000030"],
        "destination": "ABROAD",
        "destination_commune_code": None,
    },
    "EventVoided": {
        "type": "EventVoided",
        "envelope": envelope(9, "2024-09-01"),
        "target_event_id": str(uuid.UUID(int=4, version=4)),
        "reason": "registered for the wrong person",
    },
    "EventAmended": {
        "type": "EventAmended",
        "envelope": envelope(10, "2024-09-02"),
        "target_event_id": str(uuid.UUID(int=3, version=4)),
        "reason": "birth date mistyped",
        "corrected_fields": {
            "child.birth_date": '"2024-02-29"',
            "envelope.occurred_on": '"2024-02-29"',
        },
    },
}


def fresh(name: str, household: str = HOUSEHOLD) -> dict[str, Any]:
    """A sample with a new random event id (and correction target), for tests on a topic."""
    found = sample(name)
    found["envelope"]["event_id"] = str(uuid.uuid4())
    found["envelope"]["household_id"] = household
    if "target_event_id" in found:
        found["target_event_id"] = str(uuid.uuid4())
    return found


def sample(name: str, **changes: Any) -> dict[str, Any]:
    """A deep copy of one sample with top-level fields changed."""
    found = copy.deepcopy(SAMPLES[name])
    found.update(changes)
    return found
