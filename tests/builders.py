"""Hand-written events for tests of the fold, history, indicators and replay.

Each builder gives one parsed event of a small registry written by hand: household
and person ids are the caller's ("H1", "P1"), event ids count up from 1,000 (or `n`),
every event is recorded on its `day` at 09:30:00.250Z unless told otherwise. `family`
is a whole household's short history.
"""

from __future__ import annotations

import itertools
from typing import Any

from schemas.admin_units import load
from schemas.models import Event
from schemas.validation import parse_event
from tests.samples import envelope, person

UNITS = load()
DAY = "2024-01-01"
OTHER_COMMUNE = "00004"  # exists before the reform, like samples.COMMUNE
_ids = itertools.count(1_000)


def event(
    kind: str,
    household: str,
    day: str = DAY,
    *,
    at: str | None = None,
    recorded: str | None = None,
    n: int | None = None,
    **fields: Any,
) -> Event:
    """An event of type `kind` for `household` on `day`, recorded at `at` that day
    (default 09:30:00.250Z) or at the instant `recorded`."""
    env = envelope(next(_ids) if n is None else n, day, household_id=household)
    if at is not None:
        env["recorded_at"] = f"{day}T{at}Z"
    if recorded is not None:
        env["recorded_at"] = recorded
    return parse_event({"type": kind, "envelope": env, **fields})


def record(
    pid: str, sex: str = "FEMALE", born: str = "1990-05-17", marital: str = "MARRIED"
) -> dict[str, Any]:
    return person(pid, sex=sex, birth_date=born, marital_status=marital, national_id=None)


def enumerated_household(hid: str, head: str, size: int = 1, day: str = DAY) -> Event:
    return event(
        "HouseholdEnumerated", hid, day, address="Ấp 1", head_person_id=head, member_count=size
    )


def enumerated(
    pid: str,
    hid: str,
    relation: str,
    sex: str = "FEMALE",
    born: str = "1990-05-17",
    marital: str = "NEVER_MARRIED",
    spouse: str | None = None,
    day: str = DAY,
) -> Event:
    return event(
        "PersonEnumerated",
        hid,
        day,
        person=record(pid, sex, born, marital),
        relation_to_head=relation,
        spouse_id=spouse,
    )


def birth(
    child: str, mother: str, hid: str = "H1", day: str = "2024-03-01", father: str | None = None
) -> Event:
    return event(
        "BirthRegistered",
        hid,
        day,
        child=record(child, "MALE", day, "NEVER_MARRIED"),
        mother_id=mother,
        father_id=father,
        birth_order=1,
    )


def death(pid: str, hid: str = "H1", day: str = "2024-04-01") -> Event:
    return event(
        "DeathRegistered", hid, day, person_id=pid, date_of_death=day, age_at_death=50, place="HOME"
    )


def marriage(a: str, b: str, after: str, day: str = "2024-05-01") -> Event:
    return event(
        "MarriageRegistered",
        after,
        day,
        spouse_a_id=a,
        spouse_b_id=b,
        marriage_date=day,
        household_after=after,
    )


def divorce(a: str, b: str, hid: str = "H1", day: str = "2024-06-01") -> Event:
    return event("DivorceRegistered", hid, day, spouse_a_id=a, spouse_b_id=b, divorce_date=day)


def moved_in(
    hid: str,
    ids: list[str],
    records: list[dict[str, Any]] | None = None,
    day: str = "2024-07-01",
    at: str | None = None,
) -> Event:
    return event(
        "MovedIn",
        hid,
        day,
        at=at,
        person_ids=ids,
        persons=records or [],
        origin="ANOTHER_COMMUNE",
        origin_commune_code=OTHER_COMMUNE,
    )


def moved_out(
    hid: str,
    ids: list[str],
    day: str = "2024-07-01",
    abroad: bool = False,
    at: str | None = None,
) -> Event:
    return event(
        "MovedOut",
        hid,
        day,
        at=at,
        person_ids=ids,
        destination="ABROAD" if abroad else "ANOTHER_COMMUNE",
        destination_commune_code=None if abroad else OTHER_COMMUNE,
    )


def family(h: str = "H1", tag: str = "") -> list[Event]:
    """A household of a married couple, their baby, and the grandmother who dies;
    person ids carry `tag`, so that tests sharing a database keep apart."""
    p1, p2, p3, c1 = (f"{tag}{n}" for n in ("P1", "P2", "P3", "C1"))
    return [
        enumerated_household(h, p1, 3),
        enumerated(p1, h, "HEAD", "MALE", "1988-02-01", "MARRIED", spouse=p2),
        enumerated(p2, h, "SPOUSE", "FEMALE", "1990-05-17", "MARRIED", spouse=p1),
        enumerated(p3, h, "PARENT", "FEMALE", "1950-01-01", "WIDOWED"),
        birth(c1, p2, hid=h, day="2024-03-01"),
        death(p3, hid=h, day="2024-04-01"),
    ]
