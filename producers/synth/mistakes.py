"""Deliberate mistakes, so that validation, deduplication and the fold can be tested.

Each mistake is an extra event derived from one just published; none changes the
simulated population. Duplicates repeat the event (same event_id); unknown-commune
copies carry a commune code that does not exist on occurred_on (rejected by
validation); contradictions are valid events that contradict the registry's state
(caught by the fold): a second death, a birth to a dead or a male mother, a second
marriage of a married person, a move-out from a household the person is not in.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from producers.synth import events
from producers.synth.events import Json
from producers.synth.population import NEVER_MARRIED, Households, People
from producers.synth.registration import HOUR_MS, instant, vietnam_day
from schemas.admin_units import AdminUnits
from schemas.models import (
    BirthRegistered,
    DeathRegistered,
    Envelope,
    Event,
    MarriageRegistered,
    MovedIn,
    MoveKind,
    PersonEnumerated,
    PlaceOfDeath,
    age_on,
)

DUPLICATE = "duplicate"
UNKNOWN_COMMUNE = "unknown_commune"
DEAD_PERSON = "contradiction:dead_person"
DEAD_MOTHER = "contradiction:dead_mother"
MALE_MOTHER = "contradiction:male_mother"
MARRIED_PERSON = "contradiction:married_person"
NOT_IN_HOUSEHOLD = "contradiction:not_in_household"
# How often each kind is chosen when an event can give it: the kinds that only rarer
# events (births, marriages) can give are favoured, so that all occur; the dead are
# remembered, so the kinds about them can follow any event.
_WEIGHT = {
    DUPLICATE: 1.0,
    UNKNOWN_COMMUNE: 1.0,
    NOT_IN_HOUSEHOLD: 1.0,
    MALE_MOTHER: 4.0,
    MARRIED_PERSON: 6.0,
    DEAD_PERSON: 0.4,
    DEAD_MOTHER: 0.4,
}
_REMEMBERED = 500  # recent deaths kept to contradict


@dataclass(frozen=True)
class _Death:
    person_id: str
    household_id: str
    day: int
    place: PlaceOfDeath


class MistakeMaker:
    def __init__(
        self, rng: random.Random, units: AdminUnits, people: People, households: Households
    ) -> None:
        self._rng = rng
        self._units = units
        self._people = people
        self._households = households
        self._children = 0
        self._dead: deque[_Death] = deque(maxlen=_REMEMBERED)
        self._dead_women: deque[_Death] = deque(maxlen=_REMEMBERED)
        self._makers: dict[str, Callable[[Event, int], Event | None]] = {
            UNKNOWN_COMMUNE: self._unknown_commune,
            DEAD_PERSON: self._dead_person,
            DEAD_MOTHER: self._dead_mother,
            MALE_MOTHER: self._male_mother,
            MARRIED_PERSON: self._married_person,
            NOT_IN_HOUSEHOLD: self._not_in_household,
        }

    def observe(self, event: Event) -> None:
        """Remember the deaths the registry has been told of (true events only)."""
        if isinstance(event, DeathRegistered):
            envelope = event.envelope
            day = envelope.occurred_on.toordinal()
            death = _Death(event.person_id, envelope.household_id, day, event.place)
            self._dead.append(death)
            if self._people.female[self._people.index_of(event.person_id)]:
                self._dead_women.append(death)

    def derive(self, event: Event, recorded_ms: int) -> tuple[str, int, Event] | None:
        """A mistake derived from `event`: its kind, when it is recorded, the event."""
        rng = self._rng
        options = self._options(event)
        kind = rng.choices(options, [_WEIGHT[kind] for kind in options])[0]
        if kind == DUPLICATE:
            return kind, recorded_ms, event
        at = recorded_ms + rng.randrange(60_000, 3 * HOUR_MS)
        built = self._makers[kind](event, at)
        return None if built is None else (kind, at, built)

    def _options(self, event: Event) -> list[str]:
        options = [DUPLICATE, UNKNOWN_COMMUNE]
        if isinstance(event, PersonEnumerated | MovedIn):
            options.append(NOT_IN_HOUSEHOLD)
        elif isinstance(event, BirthRegistered):
            options.append(NOT_IN_HOUSEHOLD)
            if event.father_id is not None:
                options.append(MALE_MOTHER)
        elif isinstance(event, MarriageRegistered):
            options.append(MARRIED_PERSON)
        if self._dead:
            options.append(DEAD_PERSON)
        if self._dead_women:
            options.append(DEAD_MOTHER)
        return options

    def _envelope(self, source: Envelope, at: int, day: int, household: str | None = None) -> Json:
        """A new envelope like `source`'s, for `household` (default the same) on `day`."""
        hid = household or source.household_id
        commune = self._households.commune_on(self._households.index_of(hid), day)
        event_id = UUID(int=self._rng.getrandbits(128), version=4)
        return events.envelope(event_id, day, at, commune, hid, source.reporter_id, source.channel)

    def _unknown_commune(self, event: Event, at: int) -> Event:
        source = event.envelope
        day = source.occurred_on
        old = self._households.old_code[self._households.index_of(source.household_id)]
        code = old if old is not None and not self._units.exists_on(old, day) else None
        while code is None or self._units.exists_on(code, day):
            code = f"{self._rng.randrange(40_000, 100_000)}"
        copy = source.model_copy(
            update={
                "event_id": UUID(int=self._rng.getrandbits(128), version=4),
                "recorded_at": instant(at),
                "commune_code": code,
            }
        )
        return event.model_copy(update={"envelope": copy})

    def _remembered(self, deaths: deque[_Death], at: int) -> tuple[_Death, int]:
        """A remembered death, and the day (that of `at`) of the mistake about it."""
        return deaths[self._rng.randrange(len(deaths))], vietnam_day(at)

    def _dead_person(self, event: Event, at: int) -> Event:
        """The same person dies again: a second death with a new event id."""
        death, day = self._remembered(self._dead, at)
        birth = self._people.birth[self._people.index_of(death.person_id)]
        age = age_on(date.fromordinal(birth), date.fromordinal(day))
        envelope = self._envelope(event.envelope, at, day, death.household_id)
        return events.death(envelope, death.person_id, age, death.place)

    def _dead_mother(self, event: Event, at: int) -> Event | None:
        """A woman gives birth after her registered death."""
        death, day = self._remembered(self._dead_women, at)
        if day <= death.day:
            return None
        mother = self._people.index_of(death.person_id)
        order = min(20, self._people.births[mother] + 1)
        child = self._child(self._people.family[mother], self._people.ethnicity[mother], day)
        envelope = self._envelope(event.envelope, at, day, death.household_id)
        return events.birth(envelope, child, death.person_id, None, order)

    def _male_mother(self, event: Event, at: int) -> Event | None:
        assert isinstance(event, BirthRegistered)
        if event.father_id is None:
            return None
        day = event.envelope.occurred_on.toordinal()
        child = self._child(event.child.full_name.split()[0], event.child.ethnicity, day)
        return events.birth(
            self._envelope(event.envelope, at, day), child, event.father_id, None, 1
        )

    def _married_person(self, event: Event, at: int) -> Event | None:
        assert isinstance(event, MarriageRegistered)
        people = self._people
        married = people.index_of(event.spouse_a_id)
        for _ in range(100):
            partner = self._rng.randrange(len(people))
            if (
                people.female[partner] != people.female[married]
                and people.pid(partner) != event.spouse_b_id
            ):
                break
        else:
            return None
        day = event.envelope.occurred_on.toordinal()
        env = self._envelope(event.envelope, at, day, event.household_after)
        return events.marriage(env, event.spouse_a_id, people.pid(partner), event.household_after)

    def _not_in_household(self, event: Event, at: int) -> Event | None:
        if isinstance(event, PersonEnumerated):
            pid = event.person.person_id
        elif isinstance(event, BirthRegistered):
            pid = event.mother_id
        else:
            assert isinstance(event, MovedIn)
            pid = event.person_ids[0]
        households = self._households
        if len(households) < 2:
            return None
        home = households.index_of(event.envelope.household_id)
        other = (home + self._rng.randrange(1, len(households))) % len(households)
        day = event.envelope.occurred_on.toordinal()
        env = self._envelope(event.envelope, at, day, households.hid(other))
        return events.moved_out(env, [pid], MoveKind.UNKNOWN, None)

    def _child(self, family: str, ethnicity: str, day: int) -> Json:
        """A child who exists only in this mistake (ids outside the population's range)."""
        self._children += 1
        female = self._rng.random() < 0.5
        name = f"{family} {'Thị' if female else 'Văn'} {'Hoa' if female else 'Nam'}"
        pid = f"{self._people.id_prefix}M{self._children:06d}"
        return events.person(pid, name, female, day, ethnicity, None, NEVER_MARRIED)
