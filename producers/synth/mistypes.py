"""What a clerk mistypes in each kind of event, and what the amendment corrects.

`Mistyper.mistype` takes a true event's JSON shape and one of its amendable fields
(FIELDS), mistypes that field in it and returns the dotted paths an amendment must
correct, or None when that field cannot be mistyped in that event (no national ID to
mistype, a head's relation, ...). The amendment carries the true values of those
paths, so the amended event is the true one: the registry ends with the history
that happened, and shows the mistyped value only until the amendment arrives.

Dates are mistyped within their month (a wrong day is what a clerk types), and
neither the true nor the typed day is the 1st: the event stays on the same side of
the 2025 reform, so its commune codes stay valid, in the year its citizen ID encodes,
and on the same side of a checkpoint's settled date when that is a month's first or
last day (a checkpoint refuses an amendment that moves a settled event past it).
"""

from __future__ import annotations

import calendar
import random
import re
import unicodedata
from datetime import date
from typing import Any

from producers.synth.population import People
from schemas.models import MaritalStatus, PlaceOfDeath, RelationToHead, age_on

Json = dict[str, Any]

DATE = "date"  # envelope.occurred_on with the event's own date field, and what follows it
FIELDS: dict[str, tuple[str, ...]] = {
    "HouseholdEnumerated": ("address", "member_count"),
    "PersonEnumerated": (
        "person.full_name",
        "person.birth_date",
        "person.sex",
        "person.ethnicity",
        "person.national_id",
        "person.marital_status",
        "relation_to_head",
    ),
    "BirthRegistered": (
        DATE,
        "child.full_name",
        "child.sex",
        "child.ethnicity",
        "child.national_id",
        "birth_order",
        "father_id",
    ),
    "DeathRegistered": (DATE, "place", "age_at_death"),
    "MarriageRegistered": (DATE,),
    "DivorceRegistered": (DATE,),
    "MovedIn": (DATE, "origin"),
    "MovedOut": (DATE, "destination"),
}
_OWN_DATE = {
    "BirthRegistered": "child.birth_date",
    "DeathRegistered": "date_of_death",
    "MarriageRegistered": "marriage_date",
    "DivorceRegistered": "divorce_date",
}
_MARITAL = [
    m.value for m in MaritalStatus if m not in (MaritalStatus.SEPARATED, MaritalStatus.UNKNOWN)
]
_RELATIONS = [
    r.value
    for r in (
        RelationToHead.CHILD,
        RelationToHead.GRANDCHILD,
        RelationToHead.SIBLING,
        RelationToHead.PARENT,
        RelationToHead.OTHER_RELATIVE,
    )
]
_PLACES = [p.value for p in PlaceOfDeath if p is not PlaceOfDeath.UNKNOWN]
_OTHER_ETHNICITIES = ("01", "04", "05")  # Kinh, Hoa, Khmer: what else a clerk picks
_SERIAL = range(6, 12)  # the digits of a citizen ID after province, century-sex and year
_MARRIAGEABLE = 15  # younger persons' marital status is not mistyped


def get(data: Json, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[part]
    return node


def _set(data: Json, path: str, value: Any) -> None:
    *parents, name = path.split(".")
    node: Any = data
    for part in parents:
        node = node[part]
    node[name] = value


def without_marks(text: str) -> str:
    """Vietnamese typed without its diacritics: 'Nguyễn Đức' -> 'Nguyen Duc'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


class Mistyper:
    def __init__(self, rng: random.Random, people: People, ethnicities: list[str]) -> None:
        self._rng = rng
        self._people = people
        self._ethnicities = sorted({*ethnicities, *_OTHER_ETHNICITIES})

    def mistype(
        self, wrong: Json, type_name: str, field: str, recorded_day: int
    ) -> list[str] | None:
        """Mistype `field` in `wrong` (a true event's shape, changed in place); the
        paths to correct, or None if the field cannot be mistyped in this event."""
        if field == DATE:
            paths = self._date(wrong, type_name, recorded_day)
        elif field.endswith("full_name"):
            paths = self._name(wrong, field)
        elif field.endswith(".sex"):
            paths = self._sex(wrong, field)
        elif field.endswith("ethnicity"):
            paths = self._pick(wrong, field, self._ethnicities)
        elif field.endswith("national_id"):
            paths = self._national_id(wrong, field)
        elif field == "person.birth_date":
            paths = self._birth_date(wrong)
        elif field == "person.marital_status":
            paths = self._marital(wrong)
        elif field == "relation_to_head":
            current = wrong["relation_to_head"]
            keep = current in (RelationToHead.HEAD.value, RelationToHead.SPOUSE.value)
            paths = None if keep else self._pick(wrong, field, _RELATIONS)
        elif field == "address":
            paths = self._address(wrong)
        elif field in ("member_count", "birth_order", "age_at_death"):
            paths = self._count(wrong, field)
        elif field == "father_id":
            paths = None if wrong["father_id"] is None else self._clear(wrong, field)
        elif field == "place":
            paths = self._pick(wrong, field, _PLACES)
        elif field in ("origin", "destination"):
            paths = self._place_unknown(wrong, field)
        else:
            raise ValueError(f"{type_name} has no amendable field {field}")
        return paths

    def _pick(self, wrong: Json, path: str, options: list[str]) -> list[str] | None:
        others = [option for option in options if option != get(wrong, path)]
        if not others:
            return None
        _set(wrong, path, self._rng.choice(others))
        return [path]

    def _clear(self, wrong: Json, path: str) -> list[str]:
        """Left out, filled in later."""
        _set(wrong, path, None)
        return [path]

    def _date(self, wrong: Json, type_name: str, recorded_day: int) -> list[str] | None:
        """Another day of the same month, not after the event was recorded, nor before
        the birth of whoever it is about."""
        true = date.fromisoformat(wrong["envelope"]["occurred_on"])
        born = date.min
        if type_name == "DeathRegistered":
            born = date.fromordinal(self._people.birth[self._people.index_of(wrong["person_id"])])
        elif type_name == "MovedIn" and wrong["persons"]:
            born = max(date.fromisoformat(p["birth_date"]) for p in wrong["persons"])
        if true.day == 1:
            return None
        last = calendar.monthrange(true.year, true.month)[1]
        earliest = born.day if (born.year, born.month) == (true.year, true.month) else 2
        earliest = max(earliest, 2)
        recorded = date.fromordinal(recorded_day)
        latest = last if true.replace(day=last) <= recorded else recorded.day
        days = [d for d in range(earliest, latest + 1) if d != true.day]
        if not days:
            return None
        day = true.replace(day=self._rng.choice(days))
        paths = ["envelope.occurred_on"]
        wrong["envelope"]["occurred_on"] = day.isoformat()
        own = _OWN_DATE.get(type_name)
        if own is not None:
            _set(wrong, own, day.isoformat())
            paths.append(own)
        if type_name == "DeathRegistered":
            age = age_on(born, day)
            if age != wrong["age_at_death"]:
                wrong["age_at_death"] = age
                paths.append("age_at_death")
        return paths

    def _name(self, wrong: Json, path: str) -> list[str] | None:
        words = get(wrong, path).split(" ")
        marked = [i for i, word in enumerate(words) if without_marks(word) != word]
        if not marked:
            return None
        i = self._rng.choice(marked)
        words[i] = without_marks(words[i])
        _set(wrong, path, " ".join(words))
        return [path]

    def _sex(self, wrong: Json, path: str) -> list[str]:
        """The other sex, or unknown when a citizen ID (which encodes it) is given."""
        person = get(wrong, path.rsplit(".", 1)[0])
        if person["national_id"] is not None:
            _set(wrong, path, "UNKNOWN")
        else:
            _set(wrong, path, "MALE" if get(wrong, path) == "FEMALE" else "FEMALE")
        return [path]

    def _national_id(self, wrong: Json, path: str) -> list[str] | None:
        """A serial digit typed wrong, or the ID left out and added later."""
        nid = get(wrong, path)
        if nid is None:
            return None
        if self._rng.random() < 0.5:
            return self._clear(wrong, path)
        i = self._rng.choice(_SERIAL)
        digit = self._rng.choice([d for d in "0123456789" if d != nid[i]])
        _set(wrong, path, nid[:i] + digit + nid[i + 1 :])
        return [path]

    def _birth_date(self, wrong: Json) -> list[str] | None:
        true = date.fromisoformat(wrong["person"]["birth_date"])
        enumerated = date.fromisoformat(wrong["envelope"]["occurred_on"])
        last = calendar.monthrange(true.year, true.month)[1]
        days = [
            d for d in range(1, last + 1) if d != true.day and true.replace(day=d) <= enumerated
        ]
        if not days:
            return None
        wrong["person"]["birth_date"] = true.replace(day=self._rng.choice(days)).isoformat()
        return ["person.birth_date"]

    def _marital(self, wrong: Json) -> list[str] | None:
        born = date.fromisoformat(wrong["person"]["birth_date"])
        young = age_on(born, date.fromisoformat(wrong["envelope"]["occurred_on"])) < _MARRIAGEABLE
        if wrong["spouse_id"] is not None or young:
            return None
        return self._pick(wrong, "person.marital_status", _MARITAL)

    def _address(self, wrong: Json) -> list[str] | None:
        address = wrong["address"]
        found = re.search(r"\d+", address)
        if found is None:
            return None
        number = int(found.group())
        typed = max(1, number + self._rng.choice((-2, -1, 1, 2, 10)))
        if typed == number:
            typed = number + 1
        wrong["address"] = f"{address[: found.start()]}{typed}{address[found.end() :]}"
        return ["address"]

    def _count(self, wrong: Json, path: str) -> list[str] | None:
        value = get(wrong, path)
        low = 0 if path == "age_at_death" else 1
        high = {"member_count": 50, "birth_order": 20, "age_at_death": 120}[path]
        options = [v for v in (value - 1, value + 1) if low <= v <= high]
        if not options:
            return None
        _set(wrong, path, self._rng.choice(options))
        return [path]

    def _place_unknown(self, wrong: Json, path: str) -> list[str] | None:
        """Where a mover came from or went, left unknown and completed later."""
        if wrong[path] == "UNKNOWN":
            return None
        code = f"{path}_commune_code"
        wrong[path], wrong[code] = "UNKNOWN", None
        return [path, code]
