"""A test's own ids on the shared stack, and events in them.

The stack's stores are shared by every test of a session, so each test gives its
events ids of its own (`Ids`): `synthetic` generates a province and `retag`s it into
them; a `Story` is built by hand in them. A test then compares only the rows of its
own households and persons.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from producers.synth import Synth, SynthConfig
from schemas.admin_units import load
from schemas.models import Event
from schemas.validation import event_json, parse_event

UNITS = load()
COMMUNE = "32014"  # Cà Mau, before the 2025-07-01 reform


@dataclass(frozen=True)
class Ids:
    """One test's own id space: households `H<tag>-…`, persons `P<tag>-…`."""

    tag: str

    @classmethod
    def new(cls) -> Ids:
        return cls("t" + uuid.uuid4().hex[:10])

    def household(self, n: int | str) -> str:
        return f"H{self.tag}-{n}"

    def person(self, n: int | str) -> str:
        return f"P{self.tag}-{n}"

    def event(self, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.tag}/{name}"))


_SYNTH_ID = re.compile(r"^([HP])\d{2}-(\d+)$")


_EVENT_ID_FIELDS = {"event_id", "target_event_id"}


def retag(events: Iterable[Event], ids: Ids) -> list[Event]:
    """The events with every household, person and event id moved into `ids`' space.

    Equal ids stay equal (a synthetic duplicate keeps its twin's event id), so the
    story told is unchanged."""

    def move(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            if key == "corrected_fields":
                return {k: json.dumps(move(json.loads(v))) for k, v in value.items()}
            return {k: move(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v, key) for v in value]
        if isinstance(value, str):
            if key in _EVENT_ID_FIELDS:
                return ids.event(value)
            found = _SYNTH_ID.match(value)
            if found is not None:
                kind, number = found.groups()
                return ids.household(number) if kind == "H" else ids.person(number)
        return value

    return [parse_event(move(event_json(e))) for e in events]


def synthetic(
    ids: Ids, households: int, years: tuple[int, int], seed: int, error_rate: float
) -> list[Event]:
    """A synthetic province's events in publication order, in `ids`' space."""
    config = SynthConfig(
        "96",
        households,
        years[0],
        years[1],
        seed,
        datetime(years[1] + 1, 3, 1, tzinfo=UTC),
        error_rate=error_rate,
    )
    return retag(Synth(config, UNITS).events(), ids)


class Story:
    """Hand-built events of two households, named, in this test's id space."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.events: dict[str, Event] = {}

    def add(self, name: str, body: dict[str, Any], on: str, at: str | None = None, h: int = 1):
        envelope = {
            "event_id": self.ids.event(name),
            "occurred_on": on,
            "recorded_at": at or f"{on}T09:30:00.250Z",
            "commune_code": COMMUNE,
            "household_id": self.ids.household(h),
            "reporter_id": "CTV-32014-01",
            "channel": "MOBILE",
            "source_system": "popreg-tests",
            "schema_version": 1,
        }
        self.events[name] = parse_event({**body, "envelope": envelope})

    def person(self, n: int, sex: str, born: str, status: str = "NEVER_MARRIED") -> dict[str, Any]:
        return {
            "person_id": self.ids.person(n),
            "full_name": f"Người {n}",
            "sex": sex,
            "birth_date": born,
            "ethnicity": "01",
            "national_id": None,
            "marital_status": status,
        }

    def enumerate(self, n: int, relation: str, person: dict[str, Any], spouse: int | None = None,
                  h: int = 1) -> None:  # fmt: skip
        body = {
            "type": "PersonEnumerated",
            "person": person,
            "relation_to_head": relation,
            "spouse_id": None if spouse is None else self.ids.person(spouse),
        }
        self.add(f"enum-p{n}", body, "2024-01-01", h=h)

    def birth(
        self, name: str, child: int, on: str, at: str, parents: tuple[int, int | None] = (2, 1)
    ) -> None:
        mother, father = parents
        body = {
            "type": "BirthRegistered",
            "child": self.person(child, "MALE", on),
            "mother_id": self.ids.person(mother),
            "father_id": None if father is None else self.ids.person(father),
            "birth_order": 1,
        }
        self.add(name, body, on, at, h=1 if mother < 6 else 2)

    def correction(
        self, name: str, kind: str, target: str, on: str, h: int = 1, **fields: str
    ) -> None:
        body: dict[str, Any] = {
            "type": kind,
            "target_event_id": self.ids.event(target),
            "reason": "correction in a test",
        }
        if fields:
            body["corrected_fields"] = {k.replace("__", "."): v for k, v in fields.items()}
        self.add(name, body, on, h=h)
