"""Giving each event its id, envelope and recorded time.

Recording follows knowledge: an event about a person or household is recorded
after everything the registry must know first (their enumeration, birth or
arrival, their earlier events), so folding the stream in order never meets a
stranger, while unrelated events still arrive out of occurred_on order.
"""

from __future__ import annotations

import random
from uuid import UUID

from producers.synth import events
from producers.synth.events import Json
from producers.synth.places import reporter_id, reporters, stable_hash
from producers.synth.population import Households, People
from producers.synth.registration import Registration

_AFTER_KNOWN_MS = (60_000, 3_600_000)  # recorded 1-60 min after what it depends on
_OWN_REPORTER = 0.85  # share of a household's events reported by its own collaborator


class Recorder:
    def __init__(self, seed: int, people: People, households: Households) -> None:
        self.registration = Registration(random.Random(f"{seed}:registration"))
        self.year = 0  # the year being simulated, for the reporting channel
        self._ids = random.Random(f"{seed}:event-ids")
        self._reporters = random.Random(f"{seed}:reporters")
        self._people = people
        self._households = households

    def new_id(self) -> UUID:
        return UUID(int=self._ids.getrandbits(128), version=4)

    def reporter(self, household: int, commune: str) -> str:
        """Mostly the household's own collaborator, sometimes a colleague."""
        count = reporters(commune)
        if self._reporters.random() < _OWN_REPORTER:
            return reporter_id(commune, 1 + stable_hash(f"{commune}:{household}") % count)
        return reporter_id(commune, self._reporters.randint(1, count))

    def record(self, kind: str, day: int, household: int, involved: list[int]) -> tuple[int, Json]:
        """When an event of `kind` on `day` is recorded, and its envelope; the persons
        `involved` are known to have been recorded then."""
        people, households, registration = self._people, self._households, self.registration
        natural, delay = registration.recorded_ms(kind, day)
        floor = max([households.known_ms[household], *(people.known_ms[p] for p in involved)])
        recorded = natural if natural > floor else floor + registration.pause(*_AFTER_KNOWN_MS)
        for person in involved:
            people.known_ms[person] = recorded
        commune = households.commune_on(household, day)
        envelope = events.envelope(
            self.new_id(),
            day,
            recorded,
            commune,
            households.hid(household),
            self.reporter(household, commune),
            registration.channel(self.year, delay),
        )
        return recorded, envelope
