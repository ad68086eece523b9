"""Late registrations that cross later events about the same persons or household.

Recording follows knowledge (recording.py) except here, where a registration is
recorded after a later-occurring event about the same persons was, as real registries
see. It happens in two ways:

- a later event does not wait (`may_cross`): it is recorded when it would naturally
  be, before the still pending registration of an earlier event about its persons (a
  birth registered weeks late, ...); a wedding during the baseline enumeration is
  registered on its day, before a spouse's enumeration (`partner_crosses`);
- a registration is made late on purpose (`plan`) together with the later event it
  will cross: a mother's death weeks after a birth registered months late; another
  member leaving a household after a move-out registered months late; a widow moving
  after a death registered months late; a couple's first child after a marriage
  registered months late; a divorced spouse leaving after a divorce registered late.

History order stays valid because nothing crosses an event of the same day (same-day
events are applied in recorded order, so an event waits for each same-day event it
follows) nor an event of the baseline day. A late registration is labelled, when it
is delivered, only if a later event about its persons was really recorded before it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from uuid import UUID

from producers.synth.config import Mistake
from producers.synth.quota import Delivered, Quota
from schemas.models import (
    BirthRegistered,
    DeathRegistered,
    DivorceRegistered,
    Event,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    PersonEnumerated,
)

BIRTH_AFTER_MOTHER_DEATH = "crossing:birth_after_mother_death"
MOVE_OUTS_OUT_OF_ORDER = "crossing:move_outs_out_of_order"
PARTNER_AFTER_MARRIAGE = "crossing:partner_enumerated_after_marriage"
DEATH_AFTER_LATER_MOVE = "crossing:death_after_later_move"
MARRIAGE_AFTER_BIRTH = "crossing:marriage_after_birth"
DIVORCE_AFTER_MOVE_OUT = "crossing:divorce_after_move_out"
LATE = "crossing:late:"  # + the late event's type: any other crossing registration
NAMED = (
    BIRTH_AFTER_MOTHER_DEATH,
    MOVE_OUTS_OUT_OF_ORDER,
    PARTNER_AFTER_MARRIAGE,
    DEATH_AFTER_LATER_MOVE,
    MARRIAGE_AFTER_BIRTH,
    DIVORCE_AFTER_MOVE_OUT,
)
_GENERIC = "generic"
# The type of the registration each kind makes late: each earns from that type's
# events; a later event that does not wait, from every event. Marriages during the
# baseline enumeration cross their partners' enumerations whenever they can (few can).
_KINDS: dict[str, str | None] = {
    BIRTH_AFTER_MOTHER_DEATH: "BirthRegistered",
    MOVE_OUTS_OUT_OF_ORDER: "MovedOut",
    DEATH_AFTER_LATER_MOVE: "DeathRegistered",
    MARRIAGE_AFTER_BIRTH: "MarriageRegistered",
    DIVORCE_AFTER_MOVE_OUT: "DivorceRegistered",
    _GENERIC: None,
}
_PARTNER_CHANCE_PER_RATE = 200.0
_LATER_EVENT_DAYS = (14, 90)  # when the crossed event occurs, after the late one
_RECORDED_AFTER_DAYS = (61, 240)  # how long after the crossed event the late one is recorded
_SWEEP_DAYS = 32


@dataclass(frozen=True)
class Later:
    """A later-occurring event recorded before a late registration about its persons."""

    event_id: UUID
    type: str
    household: str  # the later event's household
    subject: str | None  # its first person (the dead, the first mover), if any
    person: str | None  # the person it shares with the late registration
    dependency_household: str | None = None  # or the household it shares


@dataclass(frozen=True)
class Late:
    """A registration to make late: recorded on or after the day `after`, so that a
    later event of type `expects` about `people` or `households` (True: one that
    makes it `kind`) is recorded before it."""

    kind: str
    after: int
    expects: str
    people: dict[int, bool] = field(default_factory=dict)
    households: dict[int, bool] = field(default_factory=dict)


@dataclass
class _Plan:
    """A registration made late on purpose, and what it has crossed so far."""

    event_id: UUID
    day: int
    recorded: int
    late: Late
    crossed: Later | None = None
    named: bool = False


def persons_of(event: Event) -> tuple[str, ...]:
    """The persons an event is about."""
    match event:
        case PersonEnumerated():
            return (event.person.person_id,)
        case BirthRegistered():
            return (event.child.person_id, event.mother_id, *filter(None, [event.father_id]))
        case DeathRegistered():
            return (event.person_id,)
        case MarriageRegistered() | DivorceRegistered():
            return (event.spouse_a_id, event.spouse_b_id)
        case MovedIn() | MovedOut():
            return tuple(event.person_ids)
    return ()


def kind_of(late: Event, later: Later) -> str:
    """The name of a crossing: one of NAMED when it is one of those, else LATE + type."""
    if isinstance(late, PersonEnumerated) and later.type == "MarriageRegistered":
        return PARTNER_AFTER_MARRIAGE
    if (
        isinstance(late, BirthRegistered)
        and later.type == "DeathRegistered"
        and later.subject == late.mother_id
    ):
        return BIRTH_AFTER_MOTHER_DEATH
    if isinstance(late, DeathRegistered) and later.type in ("MovedOut", "MovedIn"):
        return DEATH_AFTER_LATER_MOVE
    if (
        isinstance(late, MovedOut)
        and later.type == "MovedOut"
        and later.household == late.envelope.household_id
    ):
        return MOVE_OUTS_OUT_OF_ORDER
    spouses = (late.spouse_a_id, late.spouse_b_id) if isinstance(late, MarriageRegistered) else ()
    if later.type == "BirthRegistered" and later.subject in spouses:
        return MARRIAGE_AFTER_BIRTH
    spouses = (late.spouse_a_id, late.spouse_b_id) if isinstance(late, DivorceRegistered) else ()
    if later.type == "MovedOut" and later.subject in spouses:
        return DIVORCE_AFTER_MOVE_OUT
    return LATE + late.type


class Crossings:
    def __init__(
        self,
        rng: random.Random,
        rate: float,
        delivered: Delivered,
        window_end: int,
        pid: Callable[[int], str],
        hid: Callable[[int], str],
    ) -> None:
        self._rng = rng
        self._pid, self._hid = pid, hid
        self.quota = Quota(rate, _KINDS, delivered)
        self._partner_chance = min(1.0, rate * _PARTNER_CHANCE_PER_RATE)
        self._window_end = window_end  # marriages before it may cross enumerations
        self._by_ms: dict[int, list[Later]] = {}  # pending registration's recorded ms
        self._plans: dict[int, list[_Plan]] = {}  # by the late registration's recorded ms
        self._people: dict[int, list[_Plan]] = {}
        self._households: dict[int, list[_Plan]] = {}
        self._swept = 0

    # -- a later event that does not wait ---------------------------------------------

    def in_enumeration(self, day: int) -> bool:
        """Whether `day` is within the baseline enumeration's months."""
        return day < self._window_end

    def partner_crosses(self) -> bool:
        """Whether a wedding during the enumeration is registered before a spouse's
        enumeration still to come (as often as the rate allows: there are few)."""
        chance = self._partner_chance
        return chance > 0 and (chance >= 1 or self._rng.random() < chance)

    def may_cross(self) -> bool:
        """Whether an event that would wait for a pending registration does not."""
        return self.quota.take(_GENERIC)

    def crossed(self, pending_ms: int, later: Later) -> None:
        """`later` was recorded before the registration recorded at `pending_ms`."""
        self._by_ms.setdefault(pending_ms, []).append(later)

    # -- a registration made late on purpose ------------------------------------------

    def due(self, kind: str) -> bool:
        """Whether a registration of `kind` is due to be made late (see `plan`)."""
        return self.quota.ready(kind)

    def plan(self, kind: str) -> None:
        """One registration of `kind` is made late."""
        self.quota.spend(kind)

    def choice(self, options: list[int]) -> int:
        return self._rng.choice(options)

    def later_day(self, day: int) -> int:
        return day + self._rng.randint(*_LATER_EVENT_DAYS)

    def late(
        self,
        kind: str,
        later_day: int,
        expects: str,
        people: dict[int, bool],
        households: dict[int, bool],
    ) -> Late:
        """A registration of `kind` recorded months after the event of `later_day`."""
        after = later_day + self._rng.randint(*_RECORDED_AFTER_DAYS)
        return Late(kind, after, expects, people, households)

    def expect(self, late: Late, event_id: UUID, day: int, recorded: int) -> None:
        """Watch for the later events about the persons and households of `late`
        recorded before it (at `recorded`)."""
        plan = _Plan(event_id, day, recorded, late)
        self._plans.setdefault(recorded, []).append(plan)
        for person in late.people:
            self._people.setdefault(person, []).append(plan)
        for household in late.households:
            self._households.setdefault(household, []).append(plan)

    def observe(
        self,
        type_name: str,
        event_id: UUID,
        day: int,
        recorded: int,
        household: int,
        involved: list[int],
    ) -> None:
        """An event was recorded: does it cross a registration made late on purpose?"""
        if not (self._people or self._households):
            return
        for person in involved:
            for plan in self._people.get(person, ()):
                if day > plan.day and recorded < plan.recorded:
                    named = plan.late.people[person] and person == involved[0]
                    later = self._later(event_id, type_name, household, involved)
                    self._confirm(plan, type_name, named, replace(later, person=self._pid(person)))
        for plan in self._households.get(household, ()):
            if day > plan.day and recorded < plan.recorded:
                later = self._later(event_id, type_name, household, involved)
                named = plan.late.households[household]
                self._confirm(
                    plan, type_name, named, replace(later, dependency_household=later.household)
                )

    def _later(self, event_id: UUID, type_name: str, household: int, involved: list[int]) -> Later:
        subject = self._pid(involved[0]) if involved else None
        return Later(event_id, type_name, self._hid(household), subject, None)

    def _confirm(self, plan: _Plan, type_name: str, named: bool, later: Later) -> None:
        named = named and type_name == plan.late.expects
        if plan.crossed is None or (named and not plan.named):
            plan.crossed, plan.named = later, named

    def sweep(self, day_start_ms: int) -> None:
        """Forget the plans whose registration is recorded before `day_start_ms`: no
        event recorded from then on can cross them."""
        self._swept += 1
        if self._swept % _SWEEP_DAYS:
            return
        for index in (self._people, self._households):
            for key in list(index):
                kept = [plan for plan in index[key] if plan.recorded >= day_start_ms]
                if kept:
                    index[key] = kept
                else:
                    del index[key]

    # -- at delivery ------------------------------------------------------------------

    def label(self, recorded: int, event: Event) -> Mistake | None:
        """The crossing this delivered registration made, if it made one. Both indexes
        are keyed by the recorded time, so most events cost two failed lookups."""
        plans = self._plans.get(recorded)
        if plans is not None:
            found = self._planned(recorded, plans, event)
            if found is not None:
                return found
        crossed = self._by_ms.get(recorded)
        return None if crossed is None else self._crossed(recorded, crossed, event)

    def _planned(self, recorded: int, plans: list[_Plan], event: Event) -> Mistake | None:
        event_id = event.envelope.event_id
        plan = next((p for p in plans if p.event_id == event_id), None)
        if plan is None:
            return None
        plans.remove(plan)
        if not plans:
            del self._plans[recorded]
        if plan.crossed is None:
            self.quota.refund(plan.late.kind)  # it crossed nothing: the next one may
            return None
        kind = plan.late.kind if plan.named else kind_of(event, plan.crossed)
        return Mistake(event_id, kind, plan.crossed.event_id)

    def _crossed(self, recorded: int, found: list[Later], event: Event) -> Mistake | None:
        persons = persons_of(event)
        mine = [
            later
            for later in found
            if (later.person is not None and later.person in persons)
            or later.dependency_household == event.envelope.household_id
        ]
        if not mine:
            return None  # another registration recorded in the same millisecond
        others = [later for later in found if later not in mine]
        if others:
            self._by_ms[recorded] = others
        else:
            del self._by_ms[recorded]
        kinds = [(kind_of(event, later), later) for later in mine]
        kind, later = min(kinds, key=lambda pair: pair[0].startswith(LATE))
        return Mistake(event.envelope.event_id, kind, later.event_id)
