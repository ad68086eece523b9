"""Registrations made in error, which a clerk voids later.

Each is a valid event about real households and persons that did not happen: a
household or a person enumerated twice under a second number, a birth registered
twice, a death registered for the wrong member of the household, a marriage or a
divorce registered for the wrong couple, a move-in into the wrong household, a
move-out of someone who stayed. The simulation never applies them, and each is
voided, so the history the registry ends with is the one that happened; until the
void arrives the live registry shows the error (a living person dead, a bride moved
into a stranger's household), and the void must undo it.

They are made from what the simulation holds when the registration is recorded:
persons alive and present then, whom the registry already knew of.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from datetime import date
from uuid import UUID

from producers.synth import demography, events
from producers.synth.events import Json
from producers.synth.places import REFORM_ORDINAL, Places, reporter_id, reporters
from producers.synth.population import MARRIED, NOBODY, PRESENT, Households, People
from producers.synth.registration import vietnam_day
from schemas.models import (
    BirthRegistered,
    Channel,
    DeathRegistered,
    Event,
    MovedIn,
    MoveKind,
    RelationToHead,
    age_on,
)

_TRIES = 40  # random draws to find a person or household that fits
_REMEMBERED = 200  # recent births, deaths and move-ins to register again in error
_DEATHS_TRIED = 10  # remembered deaths looked at for a household with someone left
_ADULT = 18
_ABROAD = 0.2  # share of move-outs in error said to go abroad
_WEB = 0.6  # share registered at the commune office rather than by phone
REASONS = {
    "HouseholdEnumerated": "household enumerated twice under two numbers",
    "PersonEnumerated": "person enumerated twice under two ids",
    "BirthRegistered": "birth registered twice",
    "DeathRegistered": "death registered for the wrong member of the household",
    "MarriageRegistered": "marriage registered for the wrong couple",
    "DivorceRegistered": "divorce registered for the wrong couple",
    "MovedIn": "move-in registered into the wrong household",
    "MovedOut": "move-out registered, but the person did not leave",
}


class InError:
    def __init__(
        self,
        rng: random.Random,
        people: People,
        households: Households,
        places: Places,
        new_id: Callable[[], UUID],
    ) -> None:
        self._rng = rng
        self._people = people
        self._households = households
        self._places = places
        self._new_id = new_id
        self._communes = {c.code: c for c in places.communes} | places.new_communes
        self._recent: dict[type, deque[Event]] = {
            kind: deque(maxlen=_REMEMBERED) for kind in (BirthRegistered, DeathRegistered, MovedIn)
        }
        self._numbers = 0
        self.like: dict[str, int] = {}  # household ids made here -> the household they copy

    def remember(self, event: Event) -> None:
        """Keep recent true births, deaths and move-ins: they are registered again in error."""
        recent = self._recent.get(type(event))
        if recent is not None:
            recent.append(event)

    def make(self, type_name: str, at: int) -> Event | None:
        """A registration of `type_name` made in error, recorded at `at`, if one fits."""
        day = vietnam_day(at)
        match type_name:
            case "HouseholdEnumerated":
                return self._household(at, day)
            case "PersonEnumerated":
                return self._person(at, day)
            case "BirthRegistered":
                return self._birth(at)
            case "DeathRegistered":
                return self._death(at)
            case "MarriageRegistered":
                return self._marriage(at, day)
            case "DivorceRegistered":
                return self._divorce(at, day)
            case "MovedIn":
                return self._moved_in(at)
            case "MovedOut":
                return self._moved_out(at, day)
        raise ValueError(f"no registration in error of type {type_name}")

    def household_index(self, household_id: str) -> int:
        """The simulated household a household id names (or that one made here copies)."""
        like = self.like.get(household_id)
        return like if like is not None else self._households.index_of(household_id)

    # -- finding who it is about ------------------------------------------------------

    def _person_present(self, at: int, day: int, least_age: int = 0) -> int | None:
        people = self._people
        if not len(people):
            return None
        for _ in range(_TRIES):
            p = self._rng.randrange(len(people))
            if (
                people.status[p] == PRESENT
                and people.known_ms[p] < at
                and people.birth[p] <= day
                and age_on(date.fromordinal(people.birth[p]), date.fromordinal(day)) >= least_age
            ):
                return p
        return None

    def _envelope(self, day: int, at: int, household: int, household_id: str | None = None) -> Json:
        commune = self._households.commune_on(household, day)
        reporter = reporter_id(commune, self._rng.randint(1, reporters(commune)))
        channel = Channel.WEB if self._rng.random() < _WEB else Channel.MOBILE
        hid = household_id or self._households.hid(household)
        return events.envelope(self._new_id(), day, at, commune, hid, reporter, channel)

    def _person_json(self, p: int, pid: str | None = None) -> Json:
        people = self._people
        return events.person(
            pid or people.pid(p),
            people.name[p],
            people.female[p],
            people.birth[p],
            people.ethnicity[p],
            people.national_id[p],
            people.marital[p],
        )

    def _number(self) -> int:
        self._numbers += 1
        return self._numbers

    # -- the registrations ------------------------------------------------------------

    def _household(self, at: int, day: int) -> Event | None:
        p = self._person_present(at, day)
        if p is None:
            return None
        household = self._people.household[p]
        members = self._households.members[household]
        if not members or self._households.known_ms[household] >= at:
            return None
        hid = f"{self._households.id_prefix}V{self._number():05d}"
        self.like[hid] = household
        envelope = self._envelope(day, at, household, hid)
        commune = self._communes[envelope["commune_code"]]
        address = self._places.address(self._rng, commune)
        return events.household_enumerated(
            envelope, address, self._people.pid(members[0]), len(members)
        )

    def _person(self, at: int, day: int) -> Event | None:
        p = self._person_present(at, day)
        if p is None:
            return None
        pid = f"{self._people.id_prefix}V{self._number():06d}"
        envelope = self._envelope(day, at, self._people.household[p])
        return events.person_enumerated(
            envelope, self._person_json(p, pid), RelationToHead.UNKNOWN, None
        )

    def _birth(self, at: int) -> Event | None:
        """The same birth registered again, by another collaborator, under a new child id."""
        recent = self._recent[BirthRegistered]
        if not recent:
            return None
        birth = recent[self._rng.randrange(len(recent))]
        assert isinstance(birth, BirthRegistered)
        mother = self._people.index_of(birth.mother_id)
        if self._people.status[mother] != PRESENT:
            return None
        day = birth.envelope.occurred_on.toordinal()
        envelope = self._envelope(day, at, self._households.index_of(birth.envelope.household_id))
        child = birth.child.model_dump(mode="json") | {
            "person_id": f"{self._people.id_prefix}V{self._number():06d}",
            "national_id": None,
        }
        return events.birth(envelope, child, birth.mother_id, birth.father_id, birth.birth_order)

    def _death(self, at: int) -> Event | None:
        """A true death registered again against another member of the household."""
        recent = self._recent[DeathRegistered]
        people = self._people
        for _ in range(min(len(recent), _DEATHS_TRIED)):
            death = recent[self._rng.randrange(len(recent))]
            assert isinstance(death, DeathRegistered)
            household = self._households.index_of(death.envelope.household_id)
            day = death.envelope.occurred_on.toordinal()
            members = [
                m
                for m in self._households.members[household]
                if people.known_ms[m] < at and people.birth[m] <= day
            ]
            if members:
                wrong = self._rng.choice(members)
                age = age_on(date.fromordinal(people.birth[wrong]), death.envelope.occurred_on)
                envelope = self._envelope(day, at, household)
                return events.death(envelope, people.pid(wrong), age, death.place)
        return None

    def _marriage(self, at: int, day: int) -> Event | None:
        people = self._people
        found: dict[bool, int] = {}  # by female
        for _ in range(_TRIES):
            p = self._person_present(at, day, _ADULT)
            if p is None or people.marital[p] == MARRIED or people.female[p] in found:
                continue
            least = demography.MIN_MARRIAGE_AGE["F" if people.female[p] else "M"]
            if age_on(date.fromordinal(people.birth[p]), date.fromordinal(day)) >= least:
                found[people.female[p]] = p
            if len(found) == 2:
                break
        bride, groom = found.get(True), found.get(False)
        if bride is None or groom is None or people.household[bride] == people.household[groom]:
            return None
        household = people.household[groom]
        envelope = self._envelope(day, at, household)
        return events.marriage(
            envelope, people.pid(groom), people.pid(bride), self._households.hid(household)
        )

    def _divorce(self, at: int, day: int) -> Event | None:
        people = self._people
        for _ in range(_TRIES):
            wife = self._person_present(at, day, _ADULT)
            if wife is None or not people.female[wife] or people.marital[wife] != MARRIED:
                continue
            husband = people.spouse[wife]
            if husband == NOBODY or people.status[husband] != PRESENT:
                continue
            if people.known_ms[husband] >= at:
                continue
            envelope = self._envelope(day, at, people.household[wife])
            return events.divorce(envelope, people.pid(husband), people.pid(wife))
        return None

    def _moved_in(self, at: int) -> Event | None:
        """A true move-in registered again into another household."""
        recent = self._recent[MovedIn]
        households = self._households
        if not recent or len(households) < 2:
            return None
        moved = recent[self._rng.randrange(len(recent))]
        assert isinstance(moved, MovedIn)
        target = households.index_of(moved.envelope.household_id)
        wrong = (target + self._rng.randrange(1, len(households))) % len(households)
        day = moved.envelope.occurred_on.toordinal()
        if not 0 < households.known_ms[wrong] < at:
            return None  # a household the registry does not know yet
        if households.old_code[wrong] is None and day < REFORM_ORDINAL:
            return None  # made after the reform: it had no commune code then
        envelope = self._envelope(day, at, wrong)
        return events.moved_in(
            envelope, moved.person_ids, [], moved.origin, moved.origin_commune_code
        )

    def _moved_out(self, at: int, day: int) -> Event | None:
        p = self._person_present(at, day, demography.FERTILE_AGES[0])
        if p is None:
            return None
        envelope = self._envelope(day, at, self._people.household[p])
        if self._rng.random() < _ABROAD:
            return events.moved_out(envelope, [self._people.pid(p)], MoveKind.ABROAD, None)
        code = self._places.elsewhere(self._rng, day, demography.TO_METROPOLIS)
        return events.moved_out(envelope, [self._people.pid(p)], MoveKind.ANOTHER_COMMUNE, code)
