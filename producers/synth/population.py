"""The simulated people and households, in memory, one list per attribute.

Plain lists keep per-event updates cheap; the yearly draws turn the few columns
they need into numpy arrays. Persons and households are numbered from 0; their
ids are derived from the number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from producers.synth.places import REFORM_ORDINAL

PRESENT, DEAD, AWAY = 0, 1, 2
NEVER_MARRIED, MARRIED, DIVORCED, WIDOWED = 0, 1, 2, 3
NOBODY = -1
NO_BIRTH = -(10**7)  # a last-birth day long before any fertile age


@dataclass
class People:
    id_prefix: str
    birth: list[int] = field(default_factory=list)  # date ordinal
    female: list[bool] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    marital: list[int] = field(default_factory=list)
    spouse: list[int] = field(default_factory=list)
    household: list[int] = field(default_factory=list)
    mother: list[int] = field(default_factory=list)
    father: list[int] = field(default_factory=list)
    births: list[int] = field(default_factory=list)  # live births so far (women)
    last_birth: list[int] = field(default_factory=list)
    married_on: list[int] = field(default_factory=list)
    doomed: list[bool] = field(default_factory=list)  # a death is already scheduled
    known_ms: list[int] = field(default_factory=list)  # last time the registry heard of them
    name: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    ethnicity: list[str] = field(default_factory=list)
    national_id: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.birth)

    def add(
        self,
        *,
        birth: int,
        female: bool,
        marital: int,
        household: int,
        family: str,
        name: str,
        ethnicity: str,
        national_id: str | None,
        mother: int = NOBODY,
        father: int = NOBODY,
    ) -> int:
        index = len(self.birth)
        self.birth.append(birth)
        self.female.append(female)
        self.status.append(PRESENT)
        self.marital.append(marital)
        self.spouse.append(NOBODY)
        self.household.append(household)
        self.mother.append(mother)
        self.father.append(father)
        self.births.append(0)
        self.last_birth.append(NO_BIRTH)
        self.married_on.append(0)
        self.doomed.append(False)
        self.known_ms.append(0)
        self.name.append(name)
        self.family.append(family)
        self.ethnicity.append(ethnicity)
        self.national_id.append(national_id)
        return index

    def pid(self, index: int) -> str:
        return f"{self.id_prefix}{index + 1:07d}"

    def index_of(self, pid: str) -> int:
        return int(pid.removeprefix(self.id_prefix)) - 1

    def marry(self, a: int, b: int, day: int) -> None:
        for me, other in ((a, b), (b, a)):
            self.marital[me] = MARRIED
            self.spouse[me] = other
            self.married_on[me] = day

    def unmarry(self, a: int, status: int) -> None:
        """End a's marriage: both become `status` (divorced), or a's spouse widowed."""
        b = self.spouse[a]
        self.spouse[a] = NOBODY
        if status == DIVORCED:
            self.marital[a] = DIVORCED
        if b != NOBODY:
            self.spouse[b] = NOBODY
            self.marital[b] = status


@dataclass
class Households:
    id_prefix: str
    old_code: list[str | None] = field(default_factory=list)  # commune before the reform
    new_code: list[str] = field(default_factory=list)  # commune from the reform on
    members: list[list[int]] = field(default_factory=list)
    known_ms: list[int] = field(default_factory=list)  # when the registry learnt of it

    def __len__(self) -> int:
        return len(self.members)

    def add(self, old_code: str | None, new_code: str) -> int:
        self.old_code.append(old_code)
        self.new_code.append(new_code)
        self.members.append([])
        self.known_ms.append(0)
        return len(self.members) - 1

    def hid(self, index: int) -> str:
        return f"{self.id_prefix}{index + 1:06d}"

    def index_of(self, hid: str) -> int:
        return int(hid.removeprefix(self.id_prefix)) - 1

    def commune_on(self, index: int, day: int) -> str:
        old = self.old_code[index]
        return old if old is not None and day < REFORM_ORDINAL else self.new_code[index]
