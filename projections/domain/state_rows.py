"""The registry's tables as rows: one column list per table (written by
`postgres_writes`).

Shared by the live projector (`postgres_sink`) and the bulk rebuild (`rebuild`), so
both write the same columns from the same fold state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from operator import attrgetter
from typing import Any

from projections.domain.state import Household, Membership, Person, Registry
from schemas.models import Event

HOUSEHOLDS = (
    "household_id",
    "commune_code",
    "address",
    "head_person_id",
    "enumerated_on",
    "created_on",
    "dissolved_on",
)
PERSONS = (
    "person_id",
    "full_name",
    "sex",
    "birth_date",
    "ethnicity",
    "national_id",
    "marital_status",
    "spouse_id",
    "mother_id",
    "father_id",
    "live_births",
    "vital_status",
    "date_of_death",
    "residence",
    "household_id",
    "commune_code",
    "since",
)
MEMBERS = ("household_id", "person_id", "relation_to_head", "joined_on", "left_on", "left_reason")
EVENTS = (
    "event_id",
    "event_type",
    "household_id",
    "commune_code",
    "occurred_on",
    "recorded_at",
    "topic",
    "partition",
    "offset",
    "payload",
    "outcome",
    "reason",
)
LINKS = ("kind", "entity_id", "occurred_on", "recorded_at", "event_id")
VERSIONS = ("kind", "entity_id", "occurred_on", "recorded_at", "event_id", "state")
REJECTIONS = (
    "topic",
    "partition",
    "offset",
    "event_id",
    "event_type",
    "commune_code",
    "reason",
    "detail",
    "raw",
)


def values(entity: Any, columns: Sequence[str]) -> tuple[Any, ...]:
    return _getter(tuple(columns))(entity)  # type: ignore[no-any-return]


@cache
def _getter(columns: tuple[str, ...]) -> Callable[[Any], Any]:
    """One C-level getter per column list: a province's rows are millions of getattrs."""
    get = attrgetter(*columns)
    return get if len(columns) > 1 else lambda entity: (get(entity),)


def current_rows(
    registry: Registry, households: Iterable[str], persons: Iterable[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of `households`, `household_members` and `persons` for the named entities."""
    found_h: list[Household] = [
        registry.households[h] for h in households if h in registry.households
    ]
    found_p: list[Person] = [registry.persons[p] for p in persons if p in registry.persons]
    return {
        "households": [values(h, HOUSEHOLDS) for h in found_h],
        "household_members": [values(m, MEMBERS) for h in found_h for m in h.members],
        "persons": [values(p, PERSONS) for p in found_p],
    }


COLUMNS = {"households": HOUSEHOLDS, "household_members": MEMBERS, "persons": PERSONS}


def event_row(
    event: Event, topic: str, partition: int, offset: int, outcome: str, reason: str | None
) -> tuple[Any, ...]:
    env = event.envelope
    return (
        env.event_id,
        event.type,
        env.household_id,
        env.commune_code,
        env.occurred_on,
        env.recorded_at,
        topic,
        partition,
        offset,
        event.model_dump_json(),  # COPY's text format takes JSON text for jsonb
        outcome,
        reason,
    )


def registry_of(rows: dict[str, list[dict[str, Any]]]) -> Registry:
    """The registry whose `current_rows` are `rows` (column name to value per row);
    members keep their order, which the fold relies on."""
    registry = Registry()
    for row in rows["households"]:
        registry.households[row["household_id"]] = Household(**row)
    for row in rows["household_members"]:
        registry.households[row["household_id"]].members.append(Membership(**row))
    for row in rows["persons"]:
        registry.persons[row["person_id"]] = Person(**row)
    return registry
