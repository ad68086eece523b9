"""The registry's state as the fold keeps it: households, persons and memberships.

Plain dataclasses, one field per column of the PostgreSQL tables of the same name
(`projections/sql/postgres/001_registry.sql`), so the live projector, the bulk
rebuild and replay all write exactly what the fold holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ALIVE, DEAD = "ALIVE", "DEAD"
RESIDENT, MOVED_AWAY, ABROAD = "RESIDENT", "MOVED_AWAY", "ABROAD"


@dataclass
class Membership:
    household_id: str
    person_id: str
    relation_to_head: str
    joined_on: date
    left_on: date | None = None
    left_reason: str | None = None


@dataclass
class Household:
    household_id: str
    commune_code: str
    created_on: date
    address: str | None = None
    head_person_id: str | None = None
    enumerated_on: date | None = None
    dissolved_on: date | None = None
    members: list[Membership] = field(default_factory=list)

    def current(self) -> list[Membership]:
        return [m for m in self.members if m.left_on is None]

    def membership(self, person_id: str) -> Membership | None:
        return next((m for m in self.current() if m.person_id == person_id), None)


@dataclass
class Person:
    person_id: str
    full_name: str
    sex: str
    birth_date: date
    ethnicity: str
    marital_status: str
    since: date
    national_id: str | None = None
    spouse_id: str | None = None
    mother_id: str | None = None
    father_id: str | None = None
    live_births: int = 0
    vital_status: str = ALIVE
    date_of_death: date | None = None
    residence: str = RESIDENT
    household_id: str | None = None
    commune_code: str | None = None


@dataclass
class Registry:
    households: dict[str, Household] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
