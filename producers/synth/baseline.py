"""The baseline enumeration: every household and person on 1 January of the first year.

The population is built at once; its events are made only when their turn comes
in the stream (from what was kept of each household as it stood on 1 January),
so 1.6 M enumeration events never sit in memory together.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import accumulate
from uuid import UUID

from producers.synth import demography, events
from producers.synth.households import Composer, Member, balance
from producers.synth.names import Names, NationalIds
from producers.synth.places import REFORM_ORDINAL, Places
from producers.synth.population import MARRIED, NOBODY, Households, People
from producers.synth.registration import Registration
from schemas.models import Channel, Event, RelationToHead

ID_SHARE = ((14, 0.93), (6, 0.25), (0, 0.10))  # share with a citizen ID, by age
BORN_HERE = 0.9  # share whose birth was registered in this province
_SECONDS_PER_PERSON = (40, 240)  # recording one member after another
_COMMUNE_SIZE_SPREAD = 0.5  # log-normal spread of households per commune
_YEARS_MARRIED_BEFORE_FIRST_CHILD = (0.8, 2.5)
# Households are drawn from a balanced pool of composed ones; each use shifts every
# birth date by the same random number of days (up to half a year either way), so
# copies differ while mothers' ages at birth and sibling spacing stay as composed.
# Ages are composed half a year before the baseline, so no shift makes anyone younger
# than composed (a married 18-year-old stays 18) or born after it.
_POOL = (2_000, 40_000)
_SHIFT_DAYS = 182


@dataclass
class Baseline:
    day: int  # 1 January of the first year, as an ordinal
    first_person: list[int] = field(default_factory=list)  # per household; persons are contiguous
    recorded_ms: list[int] = field(default_factory=list)  # per household
    address: list[str] = field(default_factory=list)
    channel: list[Channel] = field(default_factory=list)
    relation: list[RelationToHead] = field(default_factory=list)  # per baseline person
    marital: list[int] = field(default_factory=list)
    spouse: list[int] = field(default_factory=list)  # on the baseline day, or NOBODY
    person_ms: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # households by recorded_ms

    def members(self, household: int) -> range:
        end = (
            self.first_person[household + 1]
            if household + 1 < len(self.first_person)
            else len(self.relation)
        )
        return range(self.first_person[household], end)


def build(
    rng: random.Random,
    count: int,
    year: int,
    places: Places,
    people: People,
    households: Households,
    registration: Registration,
    names: Names,
    ids: NationalIds,
) -> Baseline:
    """Populate `people` and `households`; return what the enumeration events need."""
    day = date(year, 1, 1).toordinal()
    baseline = Baseline(day)
    ethnicities = demography.ethnicity_shares(places.province)
    codes, shares = list(ethnicities), list(accumulate(ethnicities.values()))
    mean_size = demography.mean_household_size(places.province)
    composer = Composer(rng, date.fromordinal(day - _SHIFT_DAYS), mean_size)
    pool = [composer.household() for _ in range(min(max(2 * count, _POOL[0]), _POOL[1]))]
    picks = rng.choices(
        pool, cum_weights=list(accumulate(balance(pool, day, count, count * mean_size))), k=count
    )
    sizes = list(accumulate(rng.lognormvariate(0, _COMMUNE_SIZE_SPREAD) for _ in places.communes))
    communes = sorted(rng.choices(range(len(places.communes)), cum_weights=sizes, k=count))
    starts = registration.enumeration_starts(day, count)
    rng.shuffle(starts)
    for commune_index, template in zip(communes, picks, strict=True):
        commune = places.communes[commune_index]
        household = households.add(commune.code, "")
        hid = households.hid(household)
        households.new_code[household] = places.successor(commune.code, hid)
        ethnicity = rng.choices(codes, cum_weights=shares)[0]
        shift = rng.randint(-_SHIFT_DAYS, _SHIFT_DAYS)
        members = [replace(member, birth=member.birth + shift) for member in template]
        first = len(people)
        baseline.first_person.append(first)
        add_members(rng, people, names, ids, members, household, ethnicity, day, places)
        for member in members:
            baseline.relation.append(member.relation)
            baseline.marital.append(member.marital)
        link(rng, composer, people, members, first, day)
        baseline.spouse.extend(people.spouse[first : first + len(members)])
        recorded = starts[household]
        households.members[household] = list(range(first, first + len(members)))
        households.known_ms[household] = recorded
        baseline.recorded_ms.append(recorded)
        for index in range(first, first + len(members)):
            recorded += 1000 * rng.randint(*_SECONDS_PER_PERSON)
            people.known_ms[index] = recorded
            baseline.person_ms.append(recorded)
        named = (
            places.new_communes[households.new_code[household]]
            if day >= REFORM_ORDINAL
            else commune
        )
        baseline.address.append(places.address(rng, named))
        baseline.channel.append(registration.baseline_channel(year))
    baseline.order = sorted(range(count), key=baseline.recorded_ms.__getitem__)
    return baseline


def add_members(
    rng: random.Random,
    people: People,
    names: Names,
    ids: NationalIds,
    members: list[Member],
    household: int,
    ethnicity: str,
    day: int,
    places: Places,
    born_here: float = BORN_HERE,
) -> None:
    """Add a composed household's members (alive on `day`) with names and IDs;
    `born_here` is the share whose birth was registered in this province."""
    first = len(people)
    families: dict[int, str] = {}
    for member in members:
        family = families.get(member.family)
        if family is None:
            family = families[member.family] = names.family(ethnicity)
        born = date.fromordinal(member.birth).year
        age = int((day - member.birth) / 365.2425)
        national_id = None
        if rng.random() < next(share for least, share in ID_SHARE if age >= least):
            province = places.birth_province(rng, born_here)
            national_id = ids.issue(province, member.female, born)
        people.add(
            birth=member.birth,
            female=member.female,
            marital=member.marital,
            household=household,
            family=family,
            name=names.full(family, member.female, born, ethnicity),
            ethnicity=ethnicity,
            national_id=national_id,
            mother=first + member.mother if member.mother != NOBODY else NOBODY,
            father=first + member.father if member.father != NOBODY else NOBODY,
        )


def link(
    rng: random.Random,
    composer: Composer,
    people: People,
    members: list[Member],
    first: int,
    day: int,
) -> None:
    """Spouses, each woman's live births so far, and when couples married."""
    for position, member in enumerate(members):
        index = first + position
        if member.female:
            own = [m.birth for m in members if m.mother == position]
            age = int((day - member.birth) / 365.2425)
            people.births[index] = composer.births_before(age, member.marital, len(own))
            if own:
                people.last_birth[index] = max(own)
        if member.spouse != NOBODY and member.marital == MARRIED and member.female:
            husband = first + member.spouse
            own = [m.birth for m in members if m.mother == position]
            years = rng.uniform(*_YEARS_MARRIED_BEFORE_FIRST_CHILD)
            wedding = min(own) - round(365 * years) if own else member.birth + 365 * 23
            wedding = max(
                wedding, member.birth + 365 * 18 + 1, people.birth[husband] + 365 * 20 + 1
            )
            people.marry(index, husband, min(wedding, day - 1))


def household_events(
    baseline: Baseline,
    household: int,
    people: People,
    households: Households,
    new_id: Callable[[], UUID],
    reporter: Callable[[int, str], str],
) -> list[tuple[int, Event]]:
    """The enumeration events of one household, with their recorded times.

    They are made when the visit is recorded, weeks after the baseline day, but
    describe the household as it stood on that day: marital status and spouse come
    from the baseline snapshot, not from the simulation, which may have moved on."""
    day = baseline.day
    commune = households.commune_on(household, day)
    hid = households.hid(household)
    channel = baseline.channel[household]
    members = baseline.members(household)

    def envelope(recorded: int) -> events.Json:
        return events.envelope(
            new_id(), day, recorded, commune, hid, reporter(household, commune), channel
        )

    recorded = baseline.recorded_ms[household]
    found: list[tuple[int, Event]] = [
        (
            recorded,
            events.household_enumerated(
                envelope(recorded),
                baseline.address[household],
                people.pid(members[0]),
                len(members),
            ),
        )
    ]

    def spouse_of(index: int) -> str | None:
        spouse = baseline.spouse[index]
        married = baseline.marital[index] == MARRIED
        return people.pid(spouse) if married and spouse != NOBODY else None

    for index in members:
        recorded = baseline.person_ms[index]
        person = events.person(
            people.pid(index),
            people.name[index],
            people.female[index],
            people.birth[index],
            people.ethnicity[index],
            people.national_id[index],
            baseline.marital[index],
        )
        found.append(
            (
                recorded,
                events.person_enumerated(
                    envelope(recorded), person, baseline.relation[index], spouse_of(index)
                ),
            )
        )
    return found
