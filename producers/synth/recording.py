"""Giving each event its id, envelope and recorded time.

Recording follows knowledge: an event about a person or household is recorded
after everything the registry must know first (their enumeration, birth or
arrival, their earlier events), so folding the stream in order never meets a
stranger, while unrelated events still arrive out of occurred_on order. The
exceptions are the crossings (crossings.py): a later event that does not wait for a
pending registration, and a registration made late on purpose. Neither ever crosses
an event of the same day, so the history order (occurred_on, recorded_at, event_id)
stays the order in which things happened.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from uuid import UUID

from producers.synth import events
from producers.synth.crossings import Crossings, Late, Later
from producers.synth.events import Json
from producers.synth.places import reporter_id, reporters, stable_hash
from producers.synth.population import Households, People
from producers.synth.registration import Registration, day_start_ms, vietnam_day

_AFTER_KNOWN_MS = (60_000, 3_600_000)  # recorded 1-60 min after what it depends on
_OWN_REPORTER = 0.85  # share of a household's events reported by its own collaborator
_DELAY_KIND = {
    "BirthRegistered": "birth",
    "DeathRegistered": "death",
    "MarriageRegistered": "marriage",
    "DivorceRegistered": "divorce",
    "MovedIn": "move",
    "MovedOut": "move",
}


class Recorder:
    def __init__(
        self,
        seed: int,
        people: People,
        households: Households,
        crossings: Crossings,
        first_day: int,
        now_ms: int,
    ) -> None:
        self.registration = Registration(random.Random(f"{seed}:registration"))
        self.year = 0  # the year being simulated, for the reporting channel
        self._ids = random.Random(f"{seed}:event-ids")
        self._reporters = random.Random(f"{seed}:reporters")
        self._people = people
        self._households = households
        self._crossings = crossings
        self._first_day = first_day  # the baseline day: nothing of it is crossed
        # Only what is recorded by then is published: a registration recorded later
        # is neither made late nor crossed, or what crosses it would refer to nothing.
        self._now_ms = now_ms
        # What was recorded today (the day being simulated) about each person, and which
        # households the registry learnt of today: a same-day event waits for these,
        # late or not, and never crosses them.
        self._today = 0
        self._today_people: dict[int, int] = {}
        self._today_households: dict[int, int] = {}

    def new_id(self) -> UUID:
        return UUID(int=self._ids.getrandbits(128), version=4)

    def reporter(self, household: int, commune: str) -> str:
        """Mostly the household's own collaborator, sometimes a colleague."""
        count = reporters(commune)
        if self._reporters.random() < _OWN_REPORTER:
            return reporter_id(commune, 1 + stable_hash(f"{commune}:{household}") % count)
        return reporter_id(commune, self._reporters.randint(1, count))

    def record(
        self,
        type_name: str,
        day: int,
        household: int,
        involved: list[int],
        late: Late | None = None,
    ) -> tuple[int, Json]:
        """When an event of `type_name` on `day` is recorded, and its envelope; the
        persons `involved` are known to have been recorded then. With `late` it is
        recorded on or after `late.after` (if that is by `now`), and the registry's
        knowledge of the persons involved does not wait for it: later events may be
        recorded first."""
        people, households, registration = self._people, self._households, self.registration
        if day != self._today:
            self._new_day(day)
        today_people, today_households = self._today_people, self._today_households
        natural, delay = registration.recorded_ms(_DELAY_KIND[type_name], day)
        floor = max(
            [
                households.known_ms[household],
                today_households.get(household, 0),
                *(people.known_ms[p] for p in involved),
                *(today_people.get(p, 0) for p in involved),
            ]
        )
        event_id = self.new_id()
        crossable = (
            day > self._first_day
            and floor <= self._now_ms
            and household not in today_households
            and not any(p in today_people for p in involved)
        )
        late_ms = None
        if late is not None:
            late_ms = max(natural, registration.office_time(late.after))
            late_ms = late_ms if late_ms > floor else floor + registration.pause(*_AFTER_KNOWN_MS)
            if late_ms > self._now_ms:
                late = late_ms = None
        early = self._partner_early(type_name, day, involved) if crossable and not late else None
        if late_ms is not None:
            recorded = late_ms
            delay = vietnam_day(recorded) - day
        elif early is not None:
            recorded, delay = early, 0
            self._cross(type_name, event_id, early, household, involved)
        elif natural > floor:
            recorded = natural
        elif crossable and self._crossings.may_cross():
            recorded = natural
            self._cross(type_name, event_id, natural, household, involved)
        else:
            recorded = floor + registration.pause(*_AFTER_KNOWN_MS)
        for person in involved:
            if late is None and people.known_ms[person] < recorded:
                people.known_ms[person] = recorded
            if today_people.get(person, 0) < recorded:
                today_people[person] = recorded
        self._crossings.observe(type_name, event_id, day, recorded, household, involved)
        if late is not None:
            self._crossings.expect(late, event_id, day, recorded)
        commune = households.commune_on(household, day)
        envelope = events.envelope(
            event_id,
            day,
            recorded,
            commune,
            households.hid(household),
            self.reporter(household, commune),
            registration.channel(self.year, delay),
        )
        return recorded, envelope

    def learn(self, persons: Iterable[int], household: int | None, recorded: int) -> None:
        """The registry hears of new persons (born, arrived) or of a household (moved
        into) at `recorded`: what is recorded about them later waits for it."""
        people, households = self._people, self._households
        for person in persons:
            people.known_ms[person] = recorded
            self._today_people[person] = max(self._today_people.get(person, 0), recorded)
        if household is not None:
            households.known_ms[household] = max(households.known_ms[household], recorded)
            self._today_households[household] = max(
                self._today_households.get(household, 0), recorded
            )

    def _partner_early(self, type_name: str, day: int, involved: list[int]) -> int | None:
        """A wedding during the baseline enumeration registered on its day, before a
        spouse's enumeration is recorded, if one is still to come."""
        crossings = self._crossings
        if type_name != "MarriageRegistered" or not crossings.in_enumeration(day):
            return None
        pending = max(self._people.known_ms[p] for p in involved)
        if pending <= day_start_ms(day + 1) or not crossings.partner_crosses():
            return None
        early = self.registration.office_time(day)
        return early if early < pending else None

    def _cross(
        self, type_name: str, event_id: UUID, natural: int, household: int, involved: list[int]
    ) -> None:
        """Note each pending registration the event, recorded at `natural`, crosses."""
        people, households, crossings = self._people, self._households, self._crossings
        hid = households.hid(household)
        subject = people.pid(involved[0]) if involved else None
        if households.known_ms[household] > natural:
            later = Later(event_id, type_name, hid, subject, None, hid)
            crossings.crossed(households.known_ms[household], later)
        for person in involved:
            if people.known_ms[person] > natural:
                later = Later(event_id, type_name, hid, subject, people.pid(person))
                crossings.crossed(people.known_ms[person], later)

    def _new_day(self, day: int) -> None:
        self._today = day
        self._today_people.clear()
        self._today_households.clear()
        self._crossings.sweep(day_start_ms(day))
