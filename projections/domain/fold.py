"""The fold: one event applied to the registry, or the reason it cannot be.

`apply(registry, event, units)` is the only code that changes state; the live
projector, `popreg rebuild state` and replay all call it, in history order, so they
agree by construction. Every handler checks everything before it changes anything,
so a rejected event leaves the registry exactly as it was.

`touched(event, registry)` names every household and person the event reads or
writes, given what is known so far; callers that load state on demand (the live
projector) call it until it names nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.domain.state import (
    ABROAD,
    DEAD,
    MOVED_AWAY,
    RESIDENT,
    Household,
    Membership,
    Person,
    Registry,
)
from schemas.admin_units import AdminUnits
from schemas.models import (
    BirthRegistered,
    DeathRegistered,
    DivorceRegistered,
    Event,
    EventAmended,
    EventVoided,
    HouseholdEnumerated,
    MaritalStatus,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    MoveKind,
    PersonEnumerated,
    RelationToHead,
    Sex,
    age_on,
)
from schemas.models import Person as PersonRecord

HOUSEHOLD, PERSON = "H", "P"
Entity = tuple[str, str]
FERTILE_AGES = (15, 49)
MARRIED = MaritalStatus.MARRIED.value


@dataclass(frozen=True)
class Rejection:
    """Why an event did not change the registry: a stable code and a sentence."""

    reason: str
    detail: str


class Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.rejection = Rejection(reason, detail)


def apply(registry: Registry, event: Event, units: AdminUnits) -> Rejection | None:
    """Apply one state event; corrections are resolved before folding (`history`)."""
    env = event.envelope
    try:
        if not units.exists_on(env.commune_code, env.occurred_on):
            raise Rejected(
                "unknown_commune",
                f"commune {env.commune_code} does not exist on {env.occurred_on}",
            )
        _HANDLERS[type(event)](registry, event)
    except Rejected as rejected:
        return rejected.rejection
    return None


def touched(event: Event, registry: Registry) -> set[Entity]:
    """Households and persons the event reads or writes, as far as `registry` knows."""
    env = event.envelope
    households = {env.household_id}
    persons: set[str] = set()
    match event:
        case EventVoided() | EventAmended():
            return set()
        case HouseholdEnumerated():  # it may place its members in another commune
            found = registry.households.get(env.household_id)
            if found is not None:
                persons |= {m.person_id for m in found.current()}
        case PersonEnumerated():
            persons |= {event.person.person_id, *filter(None, [event.spouse_id])}
        case BirthRegistered():
            persons |= {event.child.person_id, event.mother_id, *filter(None, [event.father_id])}
        case DeathRegistered():
            persons.add(event.person_id)
            dead = registry.persons.get(event.person_id)
            if dead is not None and dead.spouse_id is not None:
                persons.add(dead.spouse_id)
        case MarriageRegistered():
            persons |= {event.spouse_a_id, event.spouse_b_id}
            households.add(event.household_after)
        case DivorceRegistered():
            persons |= {event.spouse_a_id, event.spouse_b_id}
        case MovedIn() | MovedOut():
            persons |= set(event.person_ids)
    for pid in persons:
        person = registry.persons.get(pid)
        if person is not None and person.household_id is not None:
            households.add(person.household_id)
    return {(HOUSEHOLD, h) for h in households} | {(PERSON, p) for p in persons}


# --- checks ---------------------------------------------------------------------------


def _known(registry: Registry, pid: str, role: str = "person") -> Person:
    person = registry.persons.get(pid)
    if person is None:
        raise Rejected(f"unknown_{role}", f"{role} {pid} is not in the registry")
    return person


def _alive(person: Person) -> Person:
    if person.vital_status == DEAD:
        raise Rejected("dead_person", f"person {person.person_id} died on {person.date_of_death}")
    return person


def _new_id(registry: Registry, pid: str, reason: str = "duplicate_person") -> None:
    if pid in registry.persons:
        raise Rejected(reason, f"person {pid} is already in the registry")


def _existing_household(registry: Registry, hid: str) -> Household:
    household = registry.households.get(hid)
    if household is None:
        raise Rejected("unknown_household", f"household {hid} is not in the registry")
    return household


# --- changes --------------------------------------------------------------------------


def _household(registry: Registry, hid: str, commune: str, day: date) -> Household:
    household = registry.households.get(hid)
    if household is None:
        household = registry.households[hid] = Household(hid, commune, day)
    return household


def _new_person(record: PersonRecord, day: date, **links: Any) -> Person:
    return Person(
        person_id=record.person_id,
        full_name=record.full_name,
        sex=record.sex.value,
        birth_date=record.birth_date,
        ethnicity=record.ethnicity,
        marital_status=record.marital_status.value,
        since=day,
        national_id=record.national_id,
        **links,
    )


def _join(household: Household, person: Person, relation: str, day: date) -> None:
    if not household.current() and household.head_person_id is None:
        relation = RelationToHead.HEAD.value
    household.members.append(Membership(household.household_id, person.person_id, relation, day))
    if relation == RelationToHead.HEAD.value:
        household.head_person_id = person.person_id
    household.dissolved_on = None
    person.household_id, person.commune_code = household.household_id, household.commune_code
    person.residence, person.since = RESIDENT, day


def _leave(registry: Registry, person: Person, day: date, reason: str) -> None:
    if person.household_id is None:
        return
    household = registry.households[person.household_id]
    membership = household.membership(person.person_id)
    if membership is not None:
        membership.left_on, membership.left_reason = day, reason
    if household.head_person_id == person.person_id:
        household.head_person_id = None
    if not household.current():
        household.dissolved_on = day
    person.household_id, person.since = None, day


def _relation_to(household: Household, *relatives: str | None) -> str:
    """A newborn's or an in-marrying spouse's relation, from their relatives in the household."""
    roles = {m.person_id: m.relation_to_head for m in household.current()}
    found = {roles.get(r) for r in relatives if r is not None}
    if RelationToHead.HEAD.value in found or RelationToHead.SPOUSE.value in found:
        return RelationToHead.CHILD.value
    if RelationToHead.CHILD.value in found:
        return RelationToHead.GRANDCHILD.value
    return RelationToHead.OTHER_RELATIVE.value


# --- handlers -------------------------------------------------------------------------


def _household_enumerated(registry: Registry, event: HouseholdEnumerated) -> None:
    env = event.envelope
    found = registry.households.get(env.household_id)
    if found is not None and found.enumerated_on is not None:
        raise Rejected(
            "duplicate_enumeration",
            f"household {env.household_id} was enumerated on {found.enumerated_on}",
        )
    household = _household(registry, env.household_id, env.commune_code, env.occurred_on)
    household.address, household.enumerated_on = event.address, env.occurred_on
    household.commune_code = env.commune_code
    for membership in household.current():
        registry.persons[membership.person_id].commune_code = env.commune_code
    household.created_on = min(household.created_on, env.occurred_on)
    if household.head_person_id is None:
        household.head_person_id = event.head_person_id


def _person_enumerated(registry: Registry, event: PersonEnumerated) -> None:
    env, record = event.envelope, event.person
    _new_id(registry, record.person_id, "duplicate_enumeration")
    person = _new_person(record, env.occurred_on, spouse_id=event.spouse_id)
    registry.persons[person.person_id] = person
    household = _household(registry, env.household_id, env.commune_code, env.occurred_on)
    _join(household, person, event.relation_to_head.value, env.occurred_on)
    spouse = registry.persons.get(event.spouse_id or "")
    if spouse is not None and spouse.spouse_id is None and spouse.marital_status == MARRIED:
        spouse.spouse_id = person.person_id


def _birth(registry: Registry, event: BirthRegistered) -> None:
    env, day = event.envelope, event.envelope.occurred_on
    _new_id(registry, event.child.person_id)
    mother = _alive(_known(registry, event.mother_id, "mother"))
    if mother.sex != Sex.FEMALE.value:
        raise Rejected(
            "mother_not_female", f"mother {mother.person_id} is recorded as {mother.sex}"
        )
    age = age_on(mother.birth_date, day)
    if not FERTILE_AGES[0] <= age <= FERTILE_AGES[1]:
        raise Rejected(
            "mother_age", f"mother {mother.person_id} was {age} at the birth (15-49 expected)"
        )
    household = _existing_household(registry, env.household_id)
    child = _new_person(event.child, day, mother_id=event.mother_id, father_id=event.father_id)
    registry.persons[child.person_id] = child
    _join(household, child, _relation_to(household, event.mother_id, event.father_id), day)
    mother.live_births += 1


def _death(registry: Registry, event: DeathRegistered) -> None:
    day = event.envelope.occurred_on
    person = _alive(_known(registry, event.person_id))
    _leave(registry, person, day, "DIED")
    person.vital_status, person.date_of_death = DEAD, day
    spouse = registry.persons.get(person.spouse_id or "")
    if spouse is not None and spouse.spouse_id == person.person_id:
        spouse.marital_status, spouse.spouse_id = MaritalStatus.WIDOWED.value, None


def _marriage(registry: Registry, event: MarriageRegistered) -> None:
    env, day = event.envelope, event.envelope.occurred_on
    a = _alive(_known(registry, event.spouse_a_id))
    b = _alive(_known(registry, event.spouse_b_id))
    for person in (a, b):
        if person.marital_status == MARRIED:
            raise Rejected(
                "already_married", f"person {person.person_id} is married to {person.spouse_id}"
            )
    household = _household(registry, event.household_after, env.commune_code, day)
    for person, other in ((a, b), (b, a)):
        person.marital_status, person.spouse_id = MARRIED, other.person_id
    for person, other in ((a, b), (b, a)):
        if person.household_id != household.household_id:
            _leave(registry, person, day, "MARRIAGE")
            relation = (
                RelationToHead.SPOUSE.value
                if household.head_person_id == other.person_id
                else RelationToHead.OTHER_RELATIVE.value
            )
            _join(household, person, relation, day)


def _divorce(registry: Registry, event: DivorceRegistered) -> None:
    a = _alive(_known(registry, event.spouse_a_id))
    b = _alive(_known(registry, event.spouse_b_id))
    if a.spouse_id != b.person_id or b.spouse_id != a.person_id:
        raise Rejected("not_married", f"persons {a.person_id} and {b.person_id} are not married")
    for person in (a, b):
        person.marital_status, person.spouse_id = MaritalStatus.DIVORCED.value, None


def _moved_in(registry: Registry, event: MovedIn) -> None:
    env, day = event.envelope, event.envelope.occurred_on
    records = {p.person_id: p for p in event.persons}
    for pid in event.person_ids:
        found = registry.persons.get(pid)
        if found is None and pid not in records:
            raise Rejected("unknown_person", f"person {pid} is not in the registry")
        if found is not None:
            _alive(found)
            if found.household_id == env.household_id:
                raise Rejected(
                    "already_member", f"person {pid} already lives in {found.household_id}"
                )
    household = _household(registry, env.household_id, env.commune_code, day)
    arriving = [pid for pid in event.person_ids if pid not in registry.persons]
    for pid in event.person_ids:
        person = registry.persons.get(pid)
        if person is None:
            person = registry.persons[pid] = _new_person(records[pid], day)
        _leave(registry, person, day, "MOVED_OUT")
        _join(household, person, RelationToHead.UNKNOWN.value, day)
    # The contract names no spouses in a move: two married newcomers are a couple.
    couple = [
        registry.persons[p] for p in arriving if registry.persons[p].marital_status == MARRIED
    ]
    if len(couple) == 2:
        couple[0].spouse_id, couple[1].spouse_id = couple[1].person_id, couple[0].person_id


def _moved_out(registry: Registry, event: MovedOut) -> None:
    env, day = event.envelope, event.envelope.occurred_on
    household = _existing_household(registry, env.household_id)
    leaving = []
    for pid in event.person_ids:
        person = _alive(_known(registry, pid))
        if household.membership(pid) is not None:
            leaving.append(person)
        elif not any(m.person_id == pid and m.left_on == day for m in household.members):
            raise Rejected("not_member", f"person {pid} does not live in {env.household_id}")
    for person in leaving:
        _leave(registry, person, day, "MOVED_OUT")
        person.residence = ABROAD if event.destination is MoveKind.ABROAD else MOVED_AWAY
        person.commune_code = event.destination_commune_code


def _corrections(registry: Registry, event: EventVoided | EventAmended) -> None:
    """Corrections change which events count (`history`), not the state directly."""


_HANDLERS: dict[type[Any], Callable[[Registry, Any], None]] = {
    HouseholdEnumerated: _household_enumerated,
    PersonEnumerated: _person_enumerated,
    BirthRegistered: _birth,
    DeathRegistered: _death,
    MarriageRegistered: _marriage,
    DivorceRegistered: _divorce,
    MovedIn: _moved_in,
    MovedOut: _moved_out,
    EventVoided: _corrections,
    EventAmended: _corrections,
}
