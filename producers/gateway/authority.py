"""Who may publish what about whom: a commune's credential acts on its own commune.

The envelope's `commune_code` says where an event was recorded; it does not say whose
households and persons the event changes. So before publishing, the gateway looks up
what the event names, as the registry knows it at that moment, and refuses (403, with
the reason) an event about another commune's household, person or event:

| event | what must be the token's commune's (where the registry knows it) |
|---|---|
| HouseholdEnumerated, BirthRegistered, MovedIn | the household (`envelope.household_id`) |
| PersonEnumerated | the household, and the person if enumerated elsewhere already |
| DeathRegistered | the household and the person |
| MovedOut | the household and every person moving out |
| MarriageRegistered | the household, `household_after`, and at least one spouse |
| DivorceRegistered | the household, and at least one spouse |
| EventVoided, EventAmended | the target event: recorded by one of the token's codes |

A move between communes is two events, each published by its own commune: the commune
of departure publishes MovedOut about its residents, the commune of arrival MovedIn into
its household (the persons come from elsewhere by definition). A marriage joins two
communes' residents: either spouse's commune may register it into its own household.
What the registry does not know yet (a household enumerated in the same request, a late
registration) is not refused here: the fold judges it when it is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import psycopg

from schemas.models import (
    BirthRegistered,
    DeathRegistered,
    DivorceRegistered,
    Event,
    EventAmended,
    EventVoided,
    HouseholdEnumerated,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    PersonEnumerated,
)


@dataclass(frozen=True)
class Known:
    """Where the registry has what a request names: commune codes by id."""

    households: dict[str, str] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)
    events: dict[UUID, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Names:
    """What a batch of events names, to look up in one round trip."""

    households: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)
    events: set[UUID] = field(default_factory=set)


class NotPermitted(Exception):
    """Events of a request the credential may not publish: (index, reason) each."""

    def __init__(self, refused: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"event {index}: {reason}" for index, reason in refused))
        self.refused = refused


class RegistryUnavailable(RuntimeError):
    """The registry could not be read to check authority (server down, login missing)."""


class Registry(Protocol):
    def known(self, names: Names) -> Known: ...


def names_of(events: Iterable[Event]) -> Names:
    found = Names()
    for event in events:
        found.households.add(event.envelope.household_id)
        match event:
            case PersonEnumerated():
                found.persons.add(event.person.person_id)
            case DeathRegistered():
                found.persons.add(event.person_id)
            case MovedOut():
                found.persons.update(event.person_ids)
            case MarriageRegistered():
                found.households.add(event.household_after)
                found.persons.update((event.spouse_a_id, event.spouse_b_id))
            case DivorceRegistered():
                found.persons.update((event.spouse_a_id, event.spouse_b_id))
            case EventVoided() | EventAmended():
                found.events.add(event.target_event_id)
    return found


def refusal(event: Event, holds: Callable[[str], bool], known: Known) -> str | None:
    """Why a credential holding the codes `holds` accepts may not publish `event`, or
    None if it may."""

    def foreign_household(household_id: str) -> str | None:
        code = known.households.get(household_id)
        if code is None or holds(code):
            return None
        return f"household {household_id} belongs to commune {code}"

    def foreign_person(person_id: str) -> str | None:
        code = known.persons.get(person_id)
        if code is None or holds(code):
            return None
        return f"person {person_id} lives in commune {code}"

    reasons: list[str | None] = []
    if not isinstance(event, EventVoided | EventAmended):
        reasons.append(foreign_household(event.envelope.household_id))
    match event:
        case PersonEnumerated():
            reasons.append(foreign_person(event.person.person_id))
        case DeathRegistered():
            reasons.append(foreign_person(event.person_id))
        case MovedOut():
            reasons += [foreign_person(p) for p in event.person_ids]
        case MarriageRegistered():
            reasons.append(foreign_household(event.household_after))
            reasons.append(_one_spouse(event.spouse_a_id, event.spouse_b_id, holds, known))
        case DivorceRegistered():
            reasons.append(_one_spouse(event.spouse_a_id, event.spouse_b_id, holds, known))
        case EventVoided() | EventAmended():
            code = known.events.get(event.target_event_id)
            if code is not None and not holds(code):
                reasons.append(
                    f"event {event.target_event_id} was recorded by commune {code}:"
                    " only that commune may correct it"
                )
        case HouseholdEnumerated() | BirthRegistered() | MovedIn():
            pass
    found = [reason for reason in reasons if reason is not None]
    return "; ".join(found) if found else None


def _one_spouse(a: str, b: str, holds: Callable[[str], bool], known: Known) -> str | None:
    codes = [known.persons.get(a), known.persons.get(b)]
    if any(code is None or holds(code) for code in codes):
        return None
    return f"neither spouse lives in this commune ({a}: {codes[0]}, {b}: {codes[1]})"


class PostgresRegistry:
    """The registry's answer, read from PostgreSQL with a role that may read only the
    ids and commune codes this needs (`popreg_gateway`)."""

    def __init__(self, url: Callable[[], str]) -> None:
        self._url = url

    def known(self, names: Names) -> Known:
        if not (names.households or names.persons or names.events):
            return Known()
        try:
            return self._read(names)
        except (psycopg.Error, OSError) as error:  # OSError: the login's password file
            raise RegistryUnavailable(type(error).__name__) from error

    def _read(self, names: Names) -> Known:
        with psycopg.connect(self._url(), connect_timeout=5) as conn:
            households: Any = conn.execute(
                "SELECT household_id, commune_code FROM households WHERE household_id = ANY(%s)",
                (sorted(names.households),),
            ).fetchall()
            persons: Any = conn.execute(
                "SELECT person_id, commune_code FROM persons"
                " WHERE person_id = ANY(%s) AND commune_code IS NOT NULL",
                (sorted(names.persons),),
            ).fetchall()
            events: Any = conn.execute(
                "SELECT event_id, commune_code FROM events WHERE event_id = ANY(%s)",
                (sorted(names.events),),
            ).fetchall()
        return Known(dict(households), dict(persons), dict(events))
