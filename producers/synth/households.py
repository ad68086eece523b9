"""Who lives together at the baseline: household size and composition.

A household's size is drawn first (the province's size distribution), then a
structure that fits it: a person alone, a couple, parents with children, a single
parent, three generations. Ages come from the 2019 census pyramid restricted to
what the role allows, so a mother is 18-44 at each of her children's births.
Structures alone would make the population too young, so `balance` weights a pool
of drawn households (iterative proportional updating, Ye et al. 2009) until their
ages follow the pyramid and their mean size is the province's.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import accumulate, pairwise

import numpy as np

from producers.synth import demography
from producers.synth.population import DIVORCED, MARRIED, NEVER_MARRIED, NOBODY, WIDOWED
from schemas.models import RelationToHead

MOTHER_AGES = (18, 44)  # at each child's birth, inside the legal 15-49 window
MIN_SPACING_DAYS = 300  # closer births of one mother are made twins
_EXTENDED = {3: 0.12, 4: 0.22, 5: 0.38, 6: 0.55}  # three-generation share by size
_EXTENDED_LARGE = 0.7
_WITH_PARENT, _SINGLE_PARENT = 0.10, 0.10
_BALANCING_ROUNDS = 60
# Completed fertility by the woman's age at the baseline (older cohorts had more
# children, many of whom have left home): the GSO TFR fell from about 5 in 1980.
_COHORT_PARITY = ((35, 2.0), (45, 2.4), (55, 3.0), (65, 4.0), (75, 5.0))


@dataclass
class Member:
    relation: RelationToHead
    female: bool
    age: int  # completed years on the composer's reference day
    birth: int  # date ordinal
    marital: int
    family: int  # members with the same number share a family name
    mother: int = NOBODY  # positions in the household's member list
    father: int = NOBODY
    spouse: int = NOBODY


class AgeSampler:
    """Single years of age 0..100 drawn in proportion to the pyramid times a profile."""

    def __init__(self, rng: random.Random, profile: list[float] | None = None) -> None:
        weights = demography.age_weights()
        if profile is not None:
            weights = [w * p for w, p in zip(weights, profile, strict=True)]
        self._rng = rng
        self._cum = [0.0, *accumulate(weights)]

    def draw(self, low: int, high: int) -> int:
        low, high = max(low, 0), min(high, len(self._cum) - 2)
        start, end = self._cum[low], self._cum[high + 1]
        age = bisect_right(self._cum, start + self._rng.random() * (end - start)) - 1
        return min(max(age, low), high)


def _single_profile() -> list[float]:
    """People living alone: mostly the young working away and the old widowed."""
    return [0.0 if a < 18 else 1.0 if a < 30 else 0.35 if a < 60 else 1.5 for a in range(101)]


class Composer:
    """Draws households one at a time, ages counted on a reference day."""

    def __init__(self, rng: random.Random, reference: date, mean_size: float) -> None:
        self._rng = rng
        self._ages = AgeSampler(rng)
        self._single_ages = AgeSampler(rng, _single_profile())
        self._baseline = reference
        self._reference = reference
        self._sizes = list(accumulate(demography.household_size_weights(mean_size)))
        self._families = 0

    def household(self) -> list[Member]:
        """One household, its head first."""
        rng = self._rng
        size = min(bisect_right(self._sizes, rng.random() * self._sizes[-1]) + 1, len(self._sizes))
        if size == 1:
            return self._alone()
        r = rng.random()
        if size == 2:
            if r < 0.45:
                return self._nuclear(0)
            return self._single_parent(1) if r < 0.80 else self._with_parent(0)
        extended = _EXTENDED.get(size, _EXTENDED_LARGE)
        if r < extended:
            built = self._three_generations(size)
            if built is not None:
                return built
        elif r < extended + _WITH_PARENT:
            return self._with_parent(size - 3)
        elif r < extended + _WITH_PARENT + _SINGLE_PARENT:
            return self._single_parent(size - 1)
        return self._nuclear(size - 2)

    def movers(self, kind: str, day: date) -> list[Member]:
        """People arriving from elsewhere on `day`: one adult, a couple, or a family."""
        rng = self._rng
        self._reference = day
        try:
            if kind == "single":
                age = self._ages.draw(18, 35)
                marital = NEVER_MARRIED if rng.random() < 0.9 else DIVORCED
                return [self._person(RelationToHead.HEAD, rng.random() < 0.5, age, marital)]
            if kind == "couple":
                return self._couple(self._ages.draw(20, 35), husband_head=True)
            members = self._couple(self._ages.draw(22, 40), husband_head=True)
            self._children(members, (1, 0), members[1].age, rng.choice((1, 1, 2)), max_age=17)
            return members
        finally:
            self._reference = self._baseline

    def births_before(self, age: int, marital: int, own_children: int) -> int:
        """Live births of a woman of `age`, counting children living elsewhere."""
        target = 0.0
        for start, parity in _COHORT_PARITY:
            if age >= start:
                target = parity
        if marital == NEVER_MARRIED or target == 0.0:
            return own_children
        return max(own_children, round(target + self._rng.gauss(0, 1)))

    def _family(self) -> int:
        self._families += 1
        return self._families

    def _person(
        self, relation: RelationToHead, female: bool, age: int, marital: int, family: int = 0
    ) -> Member:
        """A member whose completed age on the reference day is `age`."""
        reference = self._reference
        day = 28 if (reference.month, reference.day) == (2, 29) else reference.day
        latest = date(reference.year - age, reference.month, day)
        birth = latest.toordinal() - self._rng.randrange(365)
        return Member(relation, female, age, birth, marital, family or self._family())

    def _gap(self) -> int:
        """Husband's age minus wife's: about 3-4 years."""
        return min(15, max(-4, round(self._rng.gauss(3.5, 3.0))))

    def _couple(self, wife_age: int, husband_head: bool) -> list[Member]:
        """A married couple, the head first."""
        husband_age = min(100, max(20, wife_age + self._gap()))
        husband = self._person(RelationToHead.HEAD, False, husband_age, MARRIED)
        wife = self._person(RelationToHead.HEAD, True, wife_age, MARRIED)
        head, spouse = (husband, wife) if husband_head else (wife, husband)
        spouse.relation = RelationToHead.SPOUSE
        head.spouse, spouse.spouse = 1, 0
        return [head, spouse]

    def _children(
        self,
        members: list[Member],
        parents: tuple[int, int],
        mother_age: int,
        count: int,
        relation: RelationToHead = RelationToHead.CHILD,
        max_age: int = 30,
    ) -> bool:
        """Add `count` children of the (mother, father) positions, two years of age
        apart when there is room (twins otherwise). `mother_age` is given apart because
        the mother may not live in the household."""
        if count == 0:
            return True
        rng = self._rng
        low = max(0, mother_age - MOTHER_AGES[1])
        high = min(max_age, mother_age - MOTHER_AGES[0])
        if high < low:
            return False
        ages: list[int] = []
        for _ in range(30):
            ages = sorted((self._ages.draw(low, high) for _ in range(count)), reverse=True)
            if all(a - b >= 2 for a, b in pairwise(ages)):
                break
        mother, father = parents
        family = members[father].family if father != NOBODY else self._family()
        previous: Member | None = None
        for age in ages:
            female = rng.random() >= demography.MALE_BIRTH_SHARE
            child = self._person(relation, female, age, NEVER_MARRIED, family)
            if previous is not None and child.birth - previous.birth < MIN_SPACING_DAYS:
                child.birth = previous.birth  # too little room: twins
                child.age = previous.age
            child.mother, child.father = mother, father
            members.append(child)
            previous = child
        return True

    def _alone(self) -> list[Member]:
        rng = self._rng
        age = self._single_ages.draw(18, 100)
        female = rng.random() < (0.45 if age < 40 else 0.55 if age < 60 else 0.7)
        r = rng.random()
        if age < 30:
            marital = NEVER_MARRIED if r < 0.92 else DIVORCED
        elif age < 60:
            marital = NEVER_MARRIED if r < 0.35 else DIVORCED if r < 0.7 else WIDOWED
        else:
            marital = WIDOWED if r < 0.7 else NEVER_MARRIED if r < 0.82 else DIVORCED
        return [self._person(RelationToHead.HEAD, female, age, marital)]

    def _nuclear(self, children: int) -> list[Member]:
        rng = self._rng
        if children == 0:
            older = rng.random() < 0.55  # an older couple whose children left, or newlyweds
            wife_age = self._ages.draw(50, 90) if older else self._ages.draw(20, 35)
        else:
            wife_age = self._ages.draw(19 + 2 * (children - 1), 70)
        members = self._couple(wife_age, husband_head=rng.random() < 0.8)
        parents = (1, 0) if members[1].female else (0, 1)
        self._children(members, parents, wife_age, children)
        return members

    def _single_parent(self, children: int) -> list[Member]:
        rng = self._rng
        female = rng.random() < 0.75
        age = self._ages.draw(25 + 2 * (children - 1), 75)
        r = rng.random()
        marital = WIDOWED if r < 0.5 else DIVORCED if r < 0.9 or not female else NEVER_MARRIED
        members = [self._person(RelationToHead.HEAD, female, age, marital)]
        # A father's children were born to a (late or former) wife about 3 years younger.
        parents, mother_age = ((0, NOBODY), age) if female else ((NOBODY, 0), age - 3)
        self._children(members, parents, mother_age, children, max_age=40)
        return members

    def _with_parent(self, children: int) -> list[Member]:
        """A head with a widowed parent living in, and a spouse and children if any."""
        rng = self._rng
        if children == 0 and rng.random() < 0.6:
            age = self._ages.draw(22, 50)
            members = [self._person(RelationToHead.HEAD, rng.random() < 0.4, age, NEVER_MARRIED)]
        else:
            wife_age = self._ages.draw(19 + 2 * max(0, children - 1), 52)
            members = self._couple(wife_age, husband_head=rng.random() < 0.85)
            parents = (1, 0) if members[1].female else (0, 1)
            self._children(members, parents, wife_age, children)
        head = members[0]
        parent_female = rng.random() < 0.7
        parent_age = min(100, head.age + rng.randint(MOTHER_AGES[0] + 1, MOTHER_AGES[1]))
        family = 0 if parent_female else head.family
        members.append(
            self._person(RelationToHead.PARENT, parent_female, parent_age, WIDOWED, family)
        )
        return members

    def _three_generations(self, size: int) -> list[Member] | None:
        """Head (and spouse), a married child with spouse, grandchildren, unmarried children."""
        rng = self._rng
        with_spouse = rng.random() < 0.7
        base = 3 + with_spouse
        if size < base:
            return None
        if with_spouse:
            members = self._couple(self._ages.draw(45, 80), husband_head=rng.random() < 0.85)
            parents = (1, 0) if members[1].female else (0, 1)
            mother_age = members[parents[0]].age
        else:
            female = rng.random() < 0.7
            age = self._ages.draw(48, 85)
            members = [self._person(RelationToHead.HEAD, female, age, WIDOWED)]
            parents, mother_age = ((0, NOBODY), age) if female else ((NOBODY, 0), age - 3)
        if not self._children(members, parents, mother_age, 1, max_age=50):
            return None
        child = members[-1]
        if child.age < 20:
            return None
        child.marital = MARRIED
        in_law_age = max(18, child.age + (self._gap() if child.female else -self._gap()))
        in_law = self._person(RelationToHead.OTHER_RELATIVE, not child.female, in_law_age, MARRIED)
        members.append(in_law)
        child.spouse, in_law.spouse = len(members) - 1, len(members) - 2
        young = (len(members) - 2, len(members) - 1)
        young_parents, young_mother = (
            (young, child.age) if child.female else (young[::-1], in_law.age)
        )
        remaining = size - base
        grandchildren = min(remaining, rng.choice((1, 1, 2, 2, 3)))
        siblings = remaining - grandchildren
        if not self._children(
            members, young_parents, young_mother, grandchildren, RelationToHead.GRANDCHILD
        ):
            siblings += grandchildren
        if not self._children(members, parents, mother_age, siblings):
            return None
        return members


def balance(pool: list[list[Member]], day: int, households: int, persons: float) -> list[float]:
    """Weights of the pool's households such that, drawn in proportion to them,
    `households` households hold `persons` people aged like the 2019 pyramid."""
    groups = len(demography.PYRAMID_2019)
    counts = np.zeros((len(pool), 2 * groups + 1))  # men by age group, women, households
    counts[:, -1] = 1.0
    for row, members in enumerate(pool):
        for member in members:
            age = int((day - member.birth) / 365.2425)
            counts[row, min(age // 5, groups - 1) + groups * member.female] += 1
    people = np.asarray(demography.PYRAMID_2019, dtype=np.float64)
    people *= persons / people.sum()
    men = people * np.asarray(demography.MALE_SHARE)
    target = np.concatenate([men, people - men, [households]])
    weights = np.ones(len(pool))
    for _ in range(_BALANCING_ROUNDS):
        for column in range(target.size):
            total = float(weights @ counts[:, column])
            if total > 0:
                weights[counts[:, column] > 0] *= target[column] / total
    return list(weights.tolist())
