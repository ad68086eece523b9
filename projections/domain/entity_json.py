"""State entities to JSON and back, for `entity_versions` (dates as ISO strings).

Written out field by field: the live projector converts every entity an event
touches, so this is on its hot path. PostgreSQL builds the same JSON from the tables
in `popreg rebuild state` (`to_jsonb(row)`), so the keys are the column names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.domain.state import Household, Membership, Person

Json = dict[str, Any]
_PERSON_DATES = ("birth_date", "since", "date_of_death")
_HOUSEHOLD_DATES = ("created_on", "enumerated_on", "dissolved_on")
_MEMBER_DATES = ("joined_on", "left_on")


def _dump(fields: dict[str, Any], dates: tuple[str, ...]) -> Json:
    found = dict(fields)
    for name in dates:
        if found[name] is not None:
            found[name] = found[name].isoformat()
    return found


def _load(data: Json, dates: tuple[str, ...]) -> Json:
    found = dict(data)
    for name in dates:
        if found.get(name) is not None:
            found[name] = date.fromisoformat(found[name])
    return found


def person_json(person: Person) -> Json:
    return _dump(vars(person), _PERSON_DATES)


def household_json(household: Household) -> Json:
    found = _dump(vars(household), _HOUSEHOLD_DATES)
    found["members"] = [_dump(vars(m), _MEMBER_DATES) for m in household.members]
    return found


def person_from(data: Json) -> Person:
    return Person(**_load(data, _PERSON_DATES))


def household_from(data: Json) -> Household:
    found = _load(data, _HOUSEHOLD_DATES)
    found["members"] = [Membership(**_load(m, _MEMBER_DATES)) for m in data["members"]]
    return Household(**found)
