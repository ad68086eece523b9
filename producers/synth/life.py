"""Life in the province: the year's drawn happenings, applied day by day.

Each happening is checked again on its day (earlier ones may have changed things:
a mother who died, a bride who married someone else) and, if it still can happen,
changes the population and emits its event. When a registration is to cross a later
event (crossings.py), that later event is scheduled here with it: a mother's death
after a birth, a member's move-out after another's, a widow's move after a death,
a couple's first child after their wedding, a divorced spouse's move-out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from heapq import heappop, heappush

import numpy as np

from producers.synth import baseline, demography, draws
from producers.synth import events as make
from producers.synth.crossings import (
    BIRTH_AFTER_MOTHER_DEATH,
    DEATH_AFTER_LATER_MOVE,
    DIVORCE_AFTER_MOVE_OUT,
    MARRIAGE_AFTER_BIRTH,
    MOVE_OUTS_OUT_OF_ORDER,
    Crossings,
    Late,
)
from producers.synth.households import Composer
from producers.synth.names import Names, NationalIds
from producers.synth.places import REFORM_ORDINAL, Places
from producers.synth.population import (
    AWAY,
    DEAD,
    DIVORCED,
    MARRIED,
    NEVER_MARRIED,
    NOBODY,
    PRESENT,
    WIDOWED,
    Households,
    People,
)
from producers.synth.recording import Recorder
from producers.synth.stats import YearStats
from schemas.models import Event, MoveKind, PlaceOfDeath, age_on

_DEATH, _BIRTH, _MARRIAGE, _DIVORCE, _HOUSEHOLD_MOVE, _PERSON_MOVE, _ARRIVAL = range(7)
_DIVORCE_LEAVES = (20, 150)  # days after a divorce when one spouse moves out
_CHILD_MOVES_UNDER = 15  # children younger than this move with their parents
_ADULT = 18  # who may be the member leaving after a move-out registered late
_TRIES = 20
_INFANT_DEATH = {female: demography.death_table(female)[0] for female in (False, True)}
_INFANT_TIMING_WEIGHTS = [share for share, _, _ in demography.INFANT_DEATH_TIMING]

Payload = tuple[int, ...]
Emit = Callable[[int, Event], None]


def _age(birth: int, day: int) -> int:
    return age_on(date.fromordinal(birth), date.fromordinal(day))


def _birthday(birth: int, years: int) -> int:
    """The ordinal of the day someone born on `birth` turns `years` (28 Feb -> 1 Mar)."""
    born = date.fromordinal(birth)
    try:
        return born.replace(year=born.year + years).toordinal()
    except ValueError:
        return date(born.year + years, 3, 1).toordinal()


class Life:
    """The population between baseline and `now`: schedules and applies happenings."""

    def __init__(
        self,
        rng: random.Random,
        people: People,
        households: Households,
        places: Places,
        recorder: Recorder,
        names: Names,
        national_ids: NationalIds,
        composer: Composer,
        emit: Emit,
        crossings: Crossings,
    ) -> None:
        self.stats = YearStats(0, 1)  # the current year's, replaced each year
        self._rng = rng
        self._people = people
        self._households = households
        self._places = places
        self._record = recorder.record
        self._learn = recorder.learn
        self._crossings = crossings
        self._names = names
        self._national_ids = national_ids
        self._composer = composer
        self._emit = emit
        self._happenings: list[tuple[int, int, int, Payload]] = []  # (day, order, kind, who)
        self._order = 0

    def next_day(self) -> int | None:
        return self._happenings[0][0] if self._happenings else None

    def apply_next(self) -> None:
        day, _, kind, payload = heappop(self._happenings)
        if kind == _DEATH:
            self._die(day, payload[0])
        elif kind == _BIRTH:
            self._give_birth(day, payload[0])
        elif kind == _MARRIAGE:
            self._marry(day, payload[0], payload[1], bool(payload[2]))
        elif kind == _DIVORCE:
            self._divorce(day, payload[0])
        elif kind == _HOUSEHOLD_MOVE:
            self._move_household(day, payload[0])
        elif kind == _PERSON_MOVE:
            self._move_person(day, payload[0], bool(payload[1]))
        else:
            self._arrive(day)

    def _push(self, day: int, kind: int, payload: Payload) -> None:
        heappush(self._happenings, (day, self._order, kind, payload))
        self._order += 1

    def infant_risk(self, child: int, alive_on: int) -> None:
        """Draw whether a child alive on `alive_on` dies before turning one (the yearly
        draws leave infants out): at birth, or for babies already born at the baseline."""
        people, rng = self._people, self._rng
        if rng.random() >= _INFANT_DEATH[people.female[child]]:
            return
        _, low, high = rng.choices(demography.INFANT_DEATH_TIMING, _INFANT_TIMING_WEIGHTS)[0]
        day = people.birth[child] + rng.randint(low, high)
        if day >= alive_on:
            people.doomed[child] = True
            self._push(day, _DEATH, (child,))

    def schedule(self, drawn: draws.YearDraws, span: draws.Year) -> None:
        people = self._people
        for day, person in drawn.deaths:
            people.doomed[person] = True
            self._push(day, _DEATH, (person,))
        for mother in drawn.mothers:
            low = max(
                span.start,
                people.last_birth[mother] + demography.MIN_BIRTH_INTERVAL_DAYS,
                _birthday(people.birth[mother], demography.FERTILE_AGES[0]),
            )
            high = min(
                span.end, _birthday(people.birth[mother], demography.FERTILE_AGES[1] + 1) - 1
            )
            if low <= high:
                self._push(self._rng.randint(low, high), _BIRTH, (mother,))
        for day, bride, groom, patrilocal in drawn.marriages:
            self._push(day, _MARRIAGE, (bride, groom, int(patrilocal)))
        for day, wife in drawn.divorces:
            self._push(day, _DIVORCE, (wife,))
        for day, household in drawn.household_moves:
            self._push(day, _HOUSEHOLD_MOVE, (household,))
        for day, person, family in drawn.person_moves:
            self._push(day, _PERSON_MOVE, (person, int(family)))
        for day in drawn.arrivals:
            self._push(day, _ARRIVAL, ())

    def census(self, day: int) -> None:
        """The population present on `day` (1 July), and women by fertile age group."""
        people, stats = self._people, self.stats
        present = np.asarray(people.status, dtype=np.int8) == PRESENT
        stats.population = int(present.sum())
        birth = np.asarray(people.birth, dtype=np.int64)[present]
        female = np.asarray(people.female, dtype=bool)[present]
        age = ((day - birth[female]) / 365.2425).astype(np.int64)
        low, high = demography.FERTILE_AGES
        groups = (age[(age >= low) & (age <= high)] - low) // 5
        stats.women = np.bincount(groups, minlength=len(demography.ASFR)).tolist()

    def _die(self, day: int, person: int) -> None:
        people, households = self._people, self._households
        if people.status[person] != PRESENT:
            return
        household, spouse = people.household[person], people.spouse[person]
        involved = [person] if spouse == NOBODY else [person, spouse]
        late = self._plan_move_after_death(day, person, spouse, household)
        recorded, envelope = self._record("DeathRegistered", day, household, involved, late)
        age = _age(people.birth[person], day)
        self._emit(recorded, make.death(envelope, people.pid(person), age, self._place(age)))
        people.status[person] = DEAD
        households.members[household].remove(person)
        if spouse != NOBODY:
            people.unmarry(person, WIDOWED)
        self.stats.deaths += 1
        self.stats.infant_deaths += age == 0

    def _plan_move_after_death(
        self, day: int, person: int, spouse: int, household: int
    ) -> Late | None:
        """If a death is due to be registered after a later move of the widowed spouse
        (or of the household) was recorded: schedule that move; how the death is late."""
        crossings, people = self._crossings, self._people
        if not crossings.due(DEATH_AFTER_LATER_MOVE):
            return None
        others = [m for m in self._households.members[household] if m != person]
        alone = spouse == NOBODY or people.status[spouse] != PRESENT
        if alone and not others:
            return None
        crossings.plan(DEATH_AFTER_LATER_MOVE)
        moves = crossings.later_day(day)
        if alone:
            self._push(moves, _HOUSEHOLD_MOVE, (household,))
        else:
            self._push(moves, _PERSON_MOVE, (spouse, 0))
        watched = {} if alone else {spouse: True}
        return crossings.late(DEATH_AFTER_LATER_MOVE, moves, "MovedOut", watched, {household: True})

    def _place(self, age: int) -> PlaceOfDeath:
        r = self._rng.random()
        facility, home = (0.7, 0.25) if age == 0 else (0.35, 0.6) if age >= 60 else (0.5, 0.35)
        if r < facility:
            return PlaceOfDeath.HEALTH_FACILITY
        return PlaceOfDeath.HOME if r < facility + home else PlaceOfDeath.OTHER

    def _give_birth(self, day: int, mother: int) -> None:
        people, rng, stats = self._people, self._rng, self.stats
        if people.status[mother] != PRESENT:
            return
        father = people.spouse[mother] if people.marital[mother] == MARRIED else NOBODY
        parent = mother if father == NOBODY else father
        household = people.household[mother]
        female = rng.random() >= demography.MALE_BIRTH_SHARE
        year = date.fromordinal(day).year
        national_id = None
        if rng.random() < demography.newborn_id_share(year):
            province = self._places.new_province if day >= REFORM_ORDINAL else self._places.province
            national_id = self._national_ids.issue(province, female, year)
        family, ethnicity = people.family[parent], people.ethnicity[parent]
        parents = [mother] if father == NOBODY else [mother, father]
        late = None
        crossings = self._crossings
        if crossings.due(BIRTH_AFTER_MOTHER_DEATH):
            # The mother dies weeks later; the birth is registered months after that.
            crossings.plan(BIRTH_AFTER_MOTHER_DEATH)
            dies = crossings.later_day(day)
            people.doomed[mother] = True
            self._push(dies, _DEATH, (mother,))
            watched = {parent: parent == mother for parent in parents}
            late = crossings.late(BIRTH_AFTER_MOTHER_DEATH, dies, "DeathRegistered", watched, {})
        recorded, envelope = self._record("BirthRegistered", day, household, parents, late)
        child = people.add(
            birth=day,
            female=female,
            marital=NEVER_MARRIED,
            household=household,
            family=family,
            name=self._names.full(family, female, year, ethnicity),
            ethnicity=ethnicity,
            national_id=national_id,
            mother=mother,
            father=father,
        )
        self._learn([child], None, recorded)
        self._households.members[household].append(child)
        people.births[mother] += 1
        people.last_birth[mother] = day
        record = make.person(
            people.pid(child),
            people.name[child],
            female,
            day,
            ethnicity,
            national_id,
            NEVER_MARRIED,
        )
        father_id = None if father == NOBODY else people.pid(father)
        order = min(people.births[mother], 20)
        self._emit(recorded, make.birth(envelope, record, people.pid(mother), father_id, order))
        stats.births += 1
        stats.male_births += not female
        stats.births_by_age[
            (_age(people.birth[mother], day) - demography.FERTILE_AGES[0]) // 5
        ] += 1
        self.infant_risk(child, day)

    def _related(self, a: int, b: int) -> bool:
        people = self._people
        parents_a = {people.mother[a], people.father[a]} - {NOBODY}
        parents_b = {people.mother[b], people.father[b]} - {NOBODY}
        return bool(parents_a & parents_b) or a in parents_b or b in parents_a

    def _marry(self, day: int, bride: int, groom: int, patrilocal: bool) -> None:
        people, households = self._people, self._households
        if people.status[bride] != PRESENT or people.status[groom] != PRESENT:
            return
        if MARRIED in (people.marital[bride], people.marital[groom]):
            return
        if _age(people.birth[bride], day) < demography.MIN_MARRIAGE_AGE["F"]:
            return
        if _age(people.birth[groom], day) < demography.MIN_MARRIAGE_AGE["M"]:
            return
        if people.household[bride] == people.household[groom] or self._related(bride, groom):
            return
        home, mover = (groom, bride) if patrilocal else (bride, groom)
        household = people.household[home]
        late = self._plan_birth_after_marriage(day, bride, groom)
        recorded, envelope = self._record(
            "MarriageRegistered", day, household, [groom, bride], late
        )
        self._emit(
            recorded,
            make.marriage(
                envelope, people.pid(groom), people.pid(bride), households.hid(household)
            ),
        )
        households.members[people.household[mover]].remove(mover)
        households.members[household].append(mover)
        people.household[mover] = household
        people.marry(bride, groom, day)
        self.stats.marriages += 1

    def _plan_birth_after_marriage(self, day: int, bride: int, groom: int) -> Late | None:
        """If a marriage is due to be registered after the couple's first child was:
        schedule the birth; how the marriage is late."""
        crossings, people = self._crossings, self._people
        if not crossings.due(MARRIAGE_AFTER_BIRTH) or crossings.in_enumeration(day):
            return None  # a wedding during the enumeration crosses it instead
        born = crossings.later_day(day)
        ready = people.last_birth[bride] + demography.MIN_BIRTH_INTERVAL_DAYS
        last_fertile = _birthday(people.birth[bride], demography.FERTILE_AGES[1] + 1) - 1
        if people.doomed[bride] or born < ready or born > last_fertile:
            return None
        crossings.plan(MARRIAGE_AFTER_BIRTH)
        self._push(born, _BIRTH, (bride,))
        watched = {bride: True, groom: False}
        return crossings.late(MARRIAGE_AFTER_BIRTH, born, "BirthRegistered", watched, {})

    def _divorce(self, day: int, wife: int) -> None:
        people, rng, crossings = self._people, self._rng, self._crossings
        husband = people.spouse[wife]
        if people.status[wife] != PRESENT or husband == NOBODY:
            return
        if people.status[husband] != PRESENT:
            return
        household = people.household[wife]
        late = None
        if crossings.due(DIVORCE_AFTER_MOVE_OUT):
            # One of them leaves weeks later; the divorce is registered after that.
            crossings.plan(DIVORCE_AFTER_MOVE_OUT)
            leaver = crossings.choice([wife, husband])
            leaves = crossings.later_day(day)
            self._push(leaves, _PERSON_MOVE, (leaver, 0))
            watched = {leaver: True, wife if leaver == husband else husband: False}
            late = crossings.late(DIVORCE_AFTER_MOVE_OUT, leaves, "MovedOut", watched, {})
        couple = [husband, wife]
        recorded, envelope = self._record("DivorceRegistered", day, household, couple, late)
        self._emit(recorded, make.divorce(envelope, people.pid(husband), people.pid(wife)))
        people.unmarry(wife, DIVORCED)
        self.stats.divorces += 1
        if late is None and rng.random() < demography.DIVORCE_MOVES_OUT:
            leaver = wife if rng.random() < 0.7 else husband
            self._push(day + rng.randint(*_DIVORCE_LEAVES), _PERSON_MOVE, (leaver, 0))

    def _move_household(self, day: int, household: int) -> None:
        unit = list(self._households.members[household])
        if unit:
            self._relocate(day, household, unit)

    def _move_person(self, day: int, person: int, family: bool) -> None:
        """A person leaves; a married one with the spouse and their young children."""
        people = self._people
        if people.status[person] != PRESENT:
            return
        household = people.household[person]
        unit = [person]
        if people.marital[person] == MARRIED:
            unit.append(people.spouse[person])
            family = True
        if family:
            unit += [
                child
                for child in self._households.members[household]
                if child not in unit
                and (people.mother[child] in unit or people.father[child] in unit)
                and _age(people.birth[child], day) < _CHILD_MOVES_UNDER
            ]
        self._relocate(day, household, unit)

    def _relocate(self, day: int, household: int, unit: list[int]) -> None:
        people, households, rng = self._people, self._households, self._rng
        here = households.commune_on(household, day)
        ids = [people.pid(p) for p in unit]
        late = self._plan_later_move_out(day, household, unit)
        within, elsewhere, _ = demography.MOVE_DESTINATIONS
        r = rng.random()
        target = self._household_elsewhere(day, here) if r < within else None
        if target is not None:
            if (
                len(unit) > 1
                or rng.random() >= demography.JOIN_EXISTING
                or not households.members[target]
            ):
                target = self._new_household(day, target)
            there = households.commune_on(target, day)
            recorded, envelope = self._record("MovedOut", day, household, unit, late)
            self._emit(recorded, make.moved_out(envelope, ids, MoveKind.ANOTHER_COMMUNE, there))
            for person in unit:
                households.members[household].remove(person)
                households.members[target].append(person)
                people.household[person] = target
            recorded, envelope = self._record("MovedIn", day, target, unit)
            self._emit(recorded, make.moved_in(envelope, ids, [], MoveKind.ANOTHER_COMMUNE, here))
            self._learn((), target, recorded)
            self.stats.moved_in += len(unit)
        else:
            abroad = r >= within + elsewhere
            code = None if abroad else self._places.elsewhere(rng, day, demography.TO_METROPOLIS)
            kind = MoveKind.ABROAD if abroad else MoveKind.ANOTHER_COMMUNE
            recorded, envelope = self._record("MovedOut", day, household, unit, late)
            self._emit(recorded, make.moved_out(envelope, ids, kind, code))
            for person in unit:
                households.members[household].remove(person)
                people.status[person] = AWAY
        self.stats.moved_out += len(unit)

    def _plan_later_move_out(self, day: int, household: int, unit: list[int]) -> Late | None:
        """If a move-out is due to be registered after a later one from the same
        household was recorded: schedule a remaining adult's move; how this one is late."""
        crossings, people = self._crossings, self._people
        if not crossings.due(MOVE_OUTS_OUT_OF_ORDER):
            return None
        adults = [
            m
            for m in self._households.members[household]
            if m not in unit and _age(people.birth[m], day) >= _ADULT
        ]
        if not adults:
            return None
        crossings.plan(MOVE_OUTS_OUT_OF_ORDER)
        moves = crossings.later_day(day)
        self._push(moves, _PERSON_MOVE, (crossings.choice(adults), 0))
        watched = dict.fromkeys(unit, False)
        return crossings.late(MOVE_OUTS_OUT_OF_ORDER, moves, "MovedOut", watched, {household: True})

    def _household_elsewhere(self, day: int, commune: str) -> int | None:
        """A household of another commune of the province (chosen by households)."""
        households = self._households
        for _ in range(_TRIES):
            candidate = self._rng.randrange(len(households))
            if households.commune_on(candidate, day) != commune:
                return candidate
        return None

    def _new_household(self, day: int, like: int) -> int:
        """A new household in the commune of household `like`."""
        households = self._households
        if day >= REFORM_ORDINAL:
            return households.add(None, households.commune_on(like, day))
        old = households.old_code[like]
        assert old is not None  # households made before the reform have a pre-reform commune
        household = households.add(old, "")
        households.new_code[household] = self._places.successor(old, households.hid(household))
        return household

    def _arrive(self, day: int) -> None:
        """People moving in from another province or from abroad."""
        people, households, rng, places = self._people, self._households, self._rng, self._places
        if not len(households):
            return
        shares = demography.IN_UNIT_TYPES
        kind = rng.choices([k for _, k in shares], [s for s, _ in shares])[0]
        ethnicities = demography.ethnicity_shares(places.province)
        ethnicity = rng.choices(list(ethnicities), list(ethnicities.values()))[0]
        members = self._composer.movers(kind, date.fromordinal(day))
        like = rng.randrange(len(households))
        if (
            kind == "single"
            and rng.random() < demography.JOIN_EXISTING
            and households.members[like]
        ):
            target = like
        else:
            target = self._new_household(day, like)
        first = len(people)
        names, ids = self._names, self._national_ids
        baseline.add_members(rng, people, names, ids, members, target, ethnicity, day, places, 0.0)
        baseline.link(rng, self._composer, people, members, first, day)
        unit = list(range(first, first + len(members)))
        abroad = rng.random() < demography.IN_FROM_ABROAD
        code = None if abroad else places.elsewhere(rng, day, demography.TO_METROPOLIS)
        origin = MoveKind.ABROAD if abroad else MoveKind.ANOTHER_COMMUNE
        recorded, envelope = self._record("MovedIn", day, target, [])
        records = [
            make.person(
                people.pid(p),
                people.name[p],
                people.female[p],
                people.birth[p],
                people.ethnicity[p],
                people.national_id[p],
                people.marital[p],
            )
            for p in unit
        ]
        person_ids = [people.pid(p) for p in unit]
        self._emit(recorded, make.moved_in(envelope, person_ids, records, origin, code))
        self._learn(unit, target, recorded)
        households.members[target].extend(unit)
        self.stats.moved_in += len(unit)
