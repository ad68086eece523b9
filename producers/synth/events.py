"""Event models built from the simulation's plain values.

Models are validated without a `Context` (shape and self-consistency only: cheap,
and it catches generator bugs); the world rules are left to the consumer.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from producers.synth.registration import instant
from schemas.models import (
    BirthRegistered,
    Channel,
    DeathRegistered,
    DivorceRegistered,
    EventAmended,
    EventVoided,
    HouseholdEnumerated,
    MaritalStatus,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    MoveKind,
    PersonEnumerated,
    PlaceOfDeath,
    RelationToHead,
    Sex,
)

SOURCE_SYSTEM = "popreg-synth"
MARITAL = (
    MaritalStatus.NEVER_MARRIED,
    MaritalStatus.MARRIED,
    MaritalStatus.DIVORCED,
    MaritalStatus.WIDOWED,
)

Json = dict[str, Any]


def envelope(
    event_id: UUID,
    day: int,
    recorded_ms: int,
    commune: str,
    household_id: str,
    reporter_id: str,
    channel: Channel,
) -> Json:
    return {
        "event_id": event_id,
        "occurred_on": date.fromordinal(day),
        "recorded_at": instant(recorded_ms),
        "commune_code": commune,
        "household_id": household_id,
        "reporter_id": reporter_id,
        "channel": channel,
        "source_system": SOURCE_SYSTEM,
    }


def person(
    person_id: str,
    full_name: str,
    female: bool,
    birth: int,
    ethnicity: str,
    national_id: str | None,
    marital: int,
) -> Json:
    return {
        "person_id": person_id,
        "full_name": full_name,
        "sex": Sex.FEMALE if female else Sex.MALE,
        "birth_date": date.fromordinal(birth),
        "ethnicity": ethnicity,
        "national_id": national_id,
        "marital_status": MARITAL[marital],
    }


def household_enumerated(env: Json, address: str, head: str, count: int) -> HouseholdEnumerated:
    return HouseholdEnumerated.model_validate(
        {"envelope": env, "address": address, "head_person_id": head, "member_count": count}
    )


def person_enumerated(
    env: Json, member: Json, relation: RelationToHead, spouse: str | None
) -> PersonEnumerated:
    return PersonEnumerated.model_validate(
        {"envelope": env, "person": member, "relation_to_head": relation, "spouse_id": spouse}
    )


def birth(env: Json, child: Json, mother: str, father: str | None, order: int) -> BirthRegistered:
    return BirthRegistered.model_validate(
        {
            "envelope": env,
            "child": child,
            "mother_id": mother,
            "father_id": father,
            "birth_order": order,
        }
    )


def death(env: Json, person_id: str, age: int, place: PlaceOfDeath) -> DeathRegistered:
    return DeathRegistered.model_validate(
        {
            "envelope": env,
            "person_id": person_id,
            "date_of_death": env["occurred_on"],
            "age_at_death": age,
            "place": place,
        }
    )


def marriage(env: Json, a: str, b: str, household_after: str) -> MarriageRegistered:
    return MarriageRegistered.model_validate(
        {
            "envelope": env,
            "spouse_a_id": a,
            "spouse_b_id": b,
            "marriage_date": env["occurred_on"],
            "household_after": household_after,
        }
    )


def divorce(env: Json, a: str, b: str) -> DivorceRegistered:
    return DivorceRegistered.model_validate(
        {"envelope": env, "spouse_a_id": a, "spouse_b_id": b, "divorce_date": env["occurred_on"]}
    )


def moved_out(env: Json, ids: list[str], destination: MoveKind, code: str | None) -> MovedOut:
    return MovedOut.model_validate(
        {
            "envelope": env,
            "person_ids": ids,
            "destination": destination,
            "destination_commune_code": code,
        }
    )


def moved_in(
    env: Json, ids: list[str], persons: list[Json], origin: MoveKind, code: str | None
) -> MovedIn:
    return MovedIn.model_validate(
        {
            "envelope": env,
            "person_ids": ids,
            "persons": persons,
            "origin": origin,
            "origin_commune_code": code,
        }
    )


def voided(env: Json, target: UUID, reason: str) -> EventVoided:
    return EventVoided.model_validate(
        {"envelope": env, "target_event_id": target, "reason": reason}
    )


def amendment(env: Json, target: UUID, reason: str, fields: dict[str, str]) -> EventAmended:
    return EventAmended.model_validate(
        {"envelope": env, "target_event_id": target, "reason": reason, "corrected_fields": fields}
    )
