"""The registry as of a date, as known at a time: what auditors read.

Two time axes: a correction counts iff it was recorded by `known_at` (a void recorded
later has not happened yet, as far as that moment knew), and an event counts iff it
was recorded by `known_at` and occurred on or before `as_of` by its date once those
corrections are applied: an amendment that moves a death from 2021-09-07 to 2021-09-17
takes it out of the registry as of 2021-09-12. The counted events go through the same
fold as the live registry, corrections resolved by `history.effective_events`.

It is plain sorted rows, so its content hash (SHA-256 over each row's `repr`:
strings, integers, dates and None, which print the same on every run) is the same for
the same log and cutoffs, whatever the reading order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from projections.domain import fold
from projections.domain.history import effective_events, is_correction
from projections.domain.state import ALIVE, Registry
from projections.domain.state_rows import current_rows
from schemas.admin_units import AdminUnits
from schemas.models import Event, age_on

AGE_GROUPS = 17  # 0-4 … 75-79, then 80+


@dataclass(frozen=True)
class Cutoffs:
    as_of: date
    known_at: datetime

    def known(self, event: Event) -> bool:
        return event.envelope.recorded_at <= self.known_at

    def counts(self, event: Event) -> bool:
        """Whether the event as recorded passes both cutoffs (what `AsOfRegistry.counted`
        counts; `in_force` decides what is folded)."""
        return self.known(event) and (
            is_correction(event) or event.envelope.occurred_on <= self.as_of
        )

    def in_force(self, events: Iterable[Event]) -> list[Event]:
        """The effective events as of `as_of`, as known at `known_at`, in history order:
        the corrections known by then resolved first, then each event kept iff its
        (amended) date is on or before `as_of`."""
        known = effective_events(e for e in events if self.known(e))
        return [e for e in known if e.envelope.occurred_on <= self.as_of]


@dataclass(frozen=True)
class Scope:
    """The whole registry, a province (2-digit code) or a commune (5-digit code)."""

    code: str | None = None

    def holds(self, commune: str, units: AdminUnits, day: date) -> bool:
        if self.code is None:
            return True
        if len(self.code) == 5:
            return commune == self.code
        found = units.commune_on(commune, day) or units.before.get(commune)
        found = found or units.after.get(commune)
        return found is not None and found.province_code == self.code


@dataclass
class AsOfRegistry:
    tables: dict[str, list[tuple[Any, ...]]]  # each sorted by the rows' repr
    summary: dict[str, Any]
    counted: int  # events that passed the cutoffs (before corrections resolve)
    by_type: dict[str, int] = field(default_factory=dict)  # effective events by type
    content_hash: str = ""


def ordered(
    tables: dict[str, list[tuple[Any, ...]]], summary: dict[str, Any]
) -> tuple[dict[str, list[tuple[Any, ...]]], str]:
    """The tables with their rows sorted by repr, and the content hash over those reprs
    and the summary (each row's repr is made once: a province has millions)."""
    digest = hashlib.sha256()
    found = {}
    for name in sorted(tables):
        keyed = sorted(((repr(row), row) for row in tables[name]), key=itemgetter(0))
        for text, _ in keyed:
            digest.update(f"{name}{text}\n".encode())
        found[name] = [row for _, row in keyed]
    digest.update(json.dumps(summary, sort_keys=True).encode())
    return found, digest.hexdigest()


def take(
    events: Iterable[Event], units: AdminUnits, cutoffs: Cutoffs, scope: Scope
) -> AsOfRegistry:
    events = list(events)
    counted = sum(cutoffs.counts(e) for e in events)
    effective = cutoffs.in_force(events)
    registry = Registry()
    for event in effective:
        fold.apply(registry, event, units)
    by_type = Counter[str](e.type for e in effective)
    return as_of_registry(registry, units, cutoffs, scope, counted, by_type)


def as_of_registry(
    registry: Registry,
    units: AdminUnits,
    cutoffs: Cutoffs,
    scope: Scope,
    counted: int,
    by_type: Counter[str],
) -> AsOfRegistry:
    households = sorted(
        h.household_id
        for h in registry.households.values()
        if scope.holds(h.commune_code, units, cutoffs.as_of)
    )
    inside = set(households)
    persons = sorted(
        {m.person_id for h in households for m in registry.households[h].members}
        | {p.person_id for p in registry.persons.values() if p.household_id in inside}
    )
    residents = summary(registry, inside, cutoffs.as_of)
    tables, content_hash = ordered(current_rows(registry, households, persons), residents)
    return AsOfRegistry(tables, residents, counted, dict(sorted(by_type.items())), content_hash)


def summary(registry: Registry, households: set[str], as_of: date) -> dict[str, Any]:
    """Residents by commune, sex and five-year age group on `as_of`; households in being."""
    population: Counter[tuple[str, str, str]] = Counter()
    for person in registry.persons.values():
        if person.vital_status != ALIVE or person.household_id not in households:
            continue
        commune = registry.households[person.household_id].commune_code
        group = min(age_on(person.birth_date, as_of) // 5, AGE_GROUPS - 1)
        label = f"{5 * group}+" if group == AGE_GROUPS - 1 else f"{5 * group}-{5 * group + 4}"
        population[(commune, person.sex, label)] += 1
    in_being = Counter(
        registry.households[h].commune_code
        for h in households
        if registry.households[h].dissolved_on is None
    )
    return {
        "population": [
            {"commune_code": c, "sex": s, "age_group": a, "persons": n}
            for (c, s, a), n in sorted(population.items())
        ],
        "households": [{"commune_code": c, "households": n} for c, n in sorted(in_being.items())],
    }
