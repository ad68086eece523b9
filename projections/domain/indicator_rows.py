"""The de-identified rows the indicators are sums over, derived by the same fold.

Every row belongs to one table of ClickHouse (`projections/sql/clickhouse/`) and ends
with a signed count (`sign` or `delta`), so figures are sums and a correction is
written as the difference between the rows before and after it: negative rows
cancel what no longer counts. No row holds a name, a national ID, an address or a
raw person id: persons are pseudonymous keys (a keyed hash, `pseudonym`).

Indicators count events in history order (`history.key_of`: `occurred_on`,
`recorded_at`, `event_id`), each judged by the same fold as the registry against what
happened before it, so both stores apply or refuse every event alike, with the same
reason (docs/decisions/0007). An event recorded late takes its place in the past:
the events after it that share a household or person with it are taken back and
applied again, and the rows change by the difference. `fold_all` is that order
applied from scratch: the reference the live processor converges to whenever it
re-folds (corrections, restarts, rebuilds).
"""

from __future__ import annotations

import hashlib
import hmac
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID

from projections.domain import fold, history
from projections.domain.fold import Entity
from projections.domain.record import Record
from projections.domain.state import ALIVE, Household, Person, Registry
from schemas.admin_units import AdminUnits
from schemas.codec import SINGLE_OBJECT_MAGIC, decode_single_object, encode_single_object
from schemas.models import (
    VIETNAM,
    BirthRegistered,
    DeathRegistered,
    DivorceRegistered,
    Event,
    EventAmended,
    EventVoided,
    HouseholdEnumerated,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    PersonEnumerated,
    age_on,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "vital_events": (
        "event_id",
        "event_type",
        "commune_code",
        "occurred_on",
        "recorded_at",
        "channel",
        "delay_days",
        "subject_key",
        "sex",
        "age",
        "mother_age",
        "persons",
        "detail",
        "other_commune",
        "sign",
    ),
    "population_deltas": (
        "event_id",
        "commune_code",
        "sex",
        "birth_date",
        "marital_status",
        "on_date",
        "delta",
    ),
    "household_deltas": ("event_id", "commune_code", "on_date", "delta"),
    "rejections": (
        "event_id",
        "event_type",
        "commune_code",
        "reason",
        "occurred_on",
        "recorded_at",
        "channel",
        "sign",
    ),
}
NO_EVENT = UUID(int=0)  # the event id of a rejection of bytes that are not an event

Row = tuple[str, tuple[Any, ...]]  # (table, values); the last value is the signed count
Undo = dict[fold.Entity, tuple["Household | Person | None", "history.Key | None"]]
# How far back in history (days before the newest event's) events can be taken back to
# let a late one in: past the latest of the usual late registrations (births up to
# about three years late). A late event that meets an event older than that about
# the same household or person makes the whole log fold again. Each event in the
# window costs about 1.8 KB; at Cà Mau's scale (about 130,000 events a year) the
# window holds about 400,000.
WINDOW_DAYS = 1100


def pseudonym(secret: bytes, person_id: str) -> int:
    """A stable UInt64 per person that cannot be reversed without the secret."""
    digest = hmac.new(secret, person_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def negated(row: Row) -> Row:
    table, values = row
    return table, (*values[:-1], -values[-1])


def difference(old: Iterable[Row], new: Iterable[Row]) -> list[Row]:
    """Rows that turn the sums of `old` into the sums of `new`."""
    net: Counter[Row] = Counter()
    for sign, rows in ((-1, old), (1, new)):
        for table, values in rows:
            net[(table, values[:-1])] += sign * values[-1]
    return [(table, (*values, count)) for (table, values), count in net.items() if count]


def rejection_row(event: Event | None, reason: str) -> Row:
    """A rejection; `event` is None for bytes that are not an event."""
    if event is None:
        return "rejections", (NO_EVENT, "", "", reason, None, None, "", 1)
    env = event.envelope
    return "rejections", (
        env.event_id,
        event.type,
        env.commune_code,
        reason,
        env.occurred_on,
        env.recorded_at,
        env.channel.value,
        1,
    )


@dataclass
class IndicatorFold:
    """The registry the fold keeps, and the rows each event adds to the indicators."""

    units: AdminUnits
    secret: bytes
    registry: Registry = field(default_factory=Registry)
    last: dict[fold.Entity, history.Key] = field(default_factory=dict)
    out_of_order: bool = False  # an event came after a later one touching the same entity

    def apply(self, event: Event, undo: Undo | None = None) -> list[Row]:
        """Rows of one state event (not a correction), judged against the registry;
        `undo` receives what `restore` needs to take the event back."""
        touched = fold.touched(event, self.registry)
        if undo is not None:
            undo.update({e: (self._copy(e), self.last.get(e)) for e in touched})
        key = history.key_of(event)
        for entity in touched:
            if self.last.setdefault(entity, key) > key:
                self.out_of_order = True
            self.last[entity] = max(key, self.last[entity])
        before = self._stock(touched)
        rejection = fold.apply(self.registry, event, self.units)
        if rejection is not None:
            return [rejection_row(event, rejection.reason)]
        after = self._stock(touched | fold.touched(event, self.registry))
        day = event.envelope.occurred_on
        rows = [self._fact(event)]
        for entity in sorted(set(before) | set(after)):
            old, new = before.get(entity), after.get(entity)
            if old != new:
                table = "household_deltas" if entity[0] == fold.HOUSEHOLD else "population_deltas"
                rows += [(table, (*s, day, d)) for s, d in ((old, -1), (new, 1)) if s]
        return [(t, (event.envelope.event_id, *v)) for t, v in rows]

    def restore(self, undo: Undo) -> None:
        """The touched entities as they were before the event `undo` was taken for."""
        for (kind, entity_id), (state, last) in undo.items():
            table: dict[str, Any] = (
                self.registry.households if kind == fold.HOUSEHOLD else self.registry.persons
            )
            if state is None:
                table.pop(entity_id, None)
            else:
                table[entity_id] = state
            if last is None:
                self.last.pop((kind, entity_id), None)
            else:
                self.last[(kind, entity_id)] = last

    def _copy(self, entity: fold.Entity) -> Household | Person | None:
        kind, entity_id = entity
        if kind == fold.HOUSEHOLD:
            household = self.registry.households.get(entity_id)
            if household is None:
                return None
            copied = _shallow(household)
            copied.members = [_shallow(m) for m in household.members]
            return copied
        person = self.registry.persons.get(entity_id)
        return None if person is None else _shallow(person)

    def correction(self, event: EventVoided | EventAmended, target: Event | None) -> list[Row]:
        rejection = history.correction_verdict(event, target)
        if rejection is not None:
            return [rejection_row(event, rejection.reason)]
        fact = (*_envelope_fact(event, 0), "", None, None, 0, "", "", 1)
        return [("vital_events", (event.envelope.event_id, *fact))]

    def _stock(self, entities: set[fold.Entity]) -> dict[fold.Entity, tuple[Any, ...]]:
        """What each entity adds to the stock: a resident person or a household in being."""
        found: dict[fold.Entity, tuple[Any, ...]] = {}
        for entity in entities:
            kind, entity_id = entity
            if kind == fold.HOUSEHOLD:
                household = self.registry.households.get(entity_id)
                if household is not None and household.dissolved_on is None:
                    found[entity] = (household.commune_code,)
                continue
            person = self.registry.persons.get(entity_id)
            if person is None or person.vital_status != ALIVE or person.household_id is None:
                continue
            home = self.registry.households[person.household_id]
            found[entity] = (
                home.commune_code,
                person.sex,
                person.birth_date,
                person.marital_status,
            )
        return found

    def _fact(self, event: Event) -> tuple[str, tuple[Any, ...]]:
        day = event.envelope.occurred_on
        persons = self.registry.persons
        subject: str | None = None
        mother_age: int | None = None
        count, detail, other = 1, "", ""
        match event:
            case HouseholdEnumerated():
                subject = event.head_person_id
            case PersonEnumerated():
                subject = event.person.person_id
                detail = event.relation_to_head.value
            case BirthRegistered():
                subject = event.child.person_id
                mother_age = age_on(persons[event.mother_id].birth_date, day)
                detail = str(event.birth_order)
            case DeathRegistered():
                subject, detail = event.person_id, event.place.value
            case MarriageRegistered() | DivorceRegistered():
                subject, count = event.spouse_a_id, 2
            case MovedIn():
                subject, count = event.person_ids[0], len(event.person_ids)
                detail, other = event.origin.value, event.origin_commune_code or ""
            case MovedOut():
                subject, count = event.person_ids[0], len(event.person_ids)
                detail, other = event.destination.value, event.destination_commune_code or ""
        person = persons.get(subject or "")
        sex = "" if person is None else person.sex
        age = None if person is None else age_on(person.birth_date, day)
        key = pseudonym(self.secret, subject) if subject else 0
        fact = (sex, age, mother_age, count, detail, other, 1)
        return "vital_events", (*_envelope_fact(event, key), *fact)


def _envelope_fact(event: Event, key: int) -> tuple[Any, ...]:
    """Type, place, dates, channel and registration delay (days, in Vietnam's calendar)."""
    env = event.envelope
    delay = (env.recorded_at.astimezone(VIETNAM).date() - env.occurred_on).days
    return (
        event.type,
        env.commune_code,
        env.occurred_on,
        env.recorded_at,
        env.channel.value,
        delay,
        key,
    )


Copied = TypeVar("Copied")


def _shallow(record: Copied) -> Copied:
    """A copy sharing the field values. The undo window copies every entity each live
    event touches; `dataclasses.replace` runs `__init__` and costs ~5x as much a copy
    (5.8 against 1.2 µs for a person)."""
    copied = object.__new__(type(record))
    copied.__dict__.update(record.__dict__)
    return copied


def single_object(record: Record) -> bytes:
    """The event's bytes in single-object encoding: as read if they are, else encoded."""
    value = record.value
    if value is not None and value[:2] == SINGLE_OBJECT_MAGIC:
        return value
    assert record.event is not None
    return encode_single_object(record.event)


def fold_all(records: Iterable[Record], units: AdminUnits, secret: bytes) -> IndicatorState:
    """Every record from scratch, in history order: the rows the indicators should hold."""
    state = IndicatorState(IndicatorFold(units, secret))
    state.load(records)
    return state


@dataclass
class Taken:
    """What one batch changed: the rows to write and what happened to its records."""

    rows: list[Row]
    new: int = 0
    duplicates: int = 0
    undecodable: int = 0
    taken_back: int = 0  # events taken before, taken back to be judged again in order
    refolded: bool = False


@dataclass(frozen=True)
class Applied:
    key: history.Key  # where the event counts: its own key, or its amended one
    event_id: UUID  # its bytes are in `IndicatorState.events`; corrections apply each time
    undo: Undo


def _key(applied: Applied) -> history.Key:
    return applied.key


@dataclass
class IndicatorState:
    """The fold, every distinct event taken so far, and the rows each contributes.

    State events are kept as Avro bytes (a province's ten years are millions of
    events; decoded models would take gigabytes), corrections decoded: they are few."""

    fold: IndicatorFold
    events: dict[UUID, tuple[history.Key, bytes]] = field(default_factory=dict)
    corrections: dict[UUID, EventVoided | EventAmended] = field(default_factory=dict)
    fixes: dict[UUID, list[EventVoided | EventAmended]] = field(default_factory=dict)
    rows: dict[UUID, list[Row]] = field(default_factory=dict)
    undecodable: list[Row] = field(default_factory=list)
    recent: list[Applied] = field(default_factory=list)  # history order, WINDOW_DAYS
    moved: dict[UUID, history.Key] = field(default_factory=dict)  # amended to another day
    # The window's events by the household or person they touched, in history order.
    touching: dict[Entity, list[Applied]] = field(default_factory=dict)

    def take(self, records: list[Record], caught_up: bool = True) -> Taken:
        """A batch of records; the rows that bring the indicators up to date with it.

        New state events take their place in history order (`_place`): an event that
        occurred before events already taken (recorded late, or read from a partition
        behind the others) takes back the recent events after it that share a household
        or person with it (and, in turn, with those). A correction changes what counts
        from its target on (or from the day it moves the target to), so it takes back
        its target and what shares with it. Only when that reaches beyond the window (a
        correction of an old event, or a late event touching what an event beyond the
        window touched after it: `out_of_order`) is the whole history folded again, and
        only the difference written; while the reader has not `caught_up` (a backlog),
        that is done once, at the backlog's end."""
        taken = Taken([])
        new = self._remember(records, taken)
        fixes = [e for e in new if isinstance(e, EventVoided | EventAmended)]
        states: list[Event] = [e for e in new if not history.is_correction(e)]
        arrived = {e.envelope.event_id for e in states}
        redo = {  # the targets of new corrections that were folded before, where they were
            f.target_event_id: self._where(t)
            for f in fixes
            if (t := f.target_event_id) in self.events and t not in arrived
        }
        if not all(self._in_window(key) for key in redo.values()):
            taken.rows += self.refold()
            taken.refolded = True
            return taken
        rows, taken.taken_back = self._place(states, redo)
        taken.rows += rows
        waiting = [  # earlier corrections whose target has just arrived
            f for e in states for f in self.fixes.get(e.envelope.event_id, []) if f not in fixes
        ]
        for fix in [*fixes, *waiting]:
            old = self.rows.get(fix.envelope.event_id, [])
            self.rows[fix.envelope.event_id] = now = self._correction_rows(fix)
            taken.rows += difference(old, now)
        if self.fold.out_of_order and caught_up:
            taken.rows = difference([], [*taken.rows, *self.refold()])
            taken.refolded = True
        self._trim()
        return taken

    def _in_window(self, key: history.Key) -> bool:
        """Whether the event placed at `key` can be taken back."""
        at = self._position(key)
        return at < len(self.recent) and self.recent[at].key == key

    def _apply(self, event: Event, keep: bool = True) -> list[Row]:
        """The event with its corrections applied; `keep` it in the window to take back."""
        event_id = event.envelope.event_id
        undo: Undo = {}
        counted = self._effective(event)
        key = history.key_of(event if counted is None else counted)
        if key != history.key_of(event):
            self.moved[event_id] = key
        else:
            self.moved.pop(event_id, None)
        if counted is None:
            self.rows.pop(event_id, None)
            rows: list[Row] = []
        else:
            self.rows[event_id] = rows = self.fold.apply(counted, undo if keep else None)
        if keep:
            self._keep(Applied(key, event_id, undo))
        return rows

    def _effective(self, event: Event) -> Event | None:
        """What counts of the event once its corrections are applied; None if voided."""
        fixes = self.fixes.get(event.envelope.event_id)
        if not fixes:
            return event
        effective = history.effective_events([event, *fixes])
        return effective[0] if effective else None

    def _placed(self, event: Event) -> history.Key:
        """Where the event counts in history order once its corrections are applied."""
        counted = self._effective(event)
        return history.key_of(event if counted is None else counted)

    def _decoded(self, event_id: UUID) -> Event:
        return decode_single_object(self.events[event_id][1])

    def _correction_rows(self, fix: EventVoided | EventAmended) -> list[Row]:
        target = self.events.get(fix.target_event_id)
        return self.fold.correction(
            fix, None if target is None else decode_single_object(target[1])
        )

    def _place(self, events: list[Event], redo: dict[UUID, history.Key]) -> tuple[list[Row], int]:
        """Events in their place in history order, with the corrected events that were
        at `redo` (event id: where it was) placed again where they now count; the rows,
        and how many events were taken back.

        Of the recent events, those after one of them sharing a household or person
        with it (or with one taken back before: `_reached`) are taken back, newest
        first, and taken again among them in order (rows: the difference). Others commute with
        them and stay. Events that left the window are not taken back; if one placed
        later touches what a new event touches, the fold notices (`out_of_order`) and
        `take` folds everything again."""
        registry = self.fold.registry
        targets = {event_id: self._decoded(event_id) for event_id in redo}
        placed = {e.envelope.event_id: self._placed(e) for e in [*events, *targets.values()]}
        shared: dict[fold.Entity, history.Key] = {}  # each entity from where it is shared

        def share(entities: Iterable[fold.Entity], key: history.Key) -> None:
            for entity in entities:
                if entity not in shared or key < shared[entity]:
                    shared[entity] = key

        for event in events:
            share(fold.touched(event, registry), placed[event.envelope.event_id])
        since = {event_id: min(key, placed[event_id]) for event_id, key in redo.items()}
        for event_id, key in redo.items():
            share(self.recent[self._position(key)].undo.keys(), since[event_id])
            if (counted := self._effective(targets[event_id])) is not None:
                share(fold.touched(counted, registry), since[event_id])
        back = self._reached(shared, since)
        for applied in reversed(back):
            self.fold.restore(applied.undo)
        for applied in back:
            self._drop(applied)
        old = [row for a in back for row in self.rows.get(a.event_id, [])]
        again = {e.envelope.event_id: e for e in events}
        for applied in back:
            again[applied.event_id] = targets.get(applied.event_id) or self._decoded(
                applied.event_id
            )
            placed.setdefault(applied.event_id, applied.key)
        order = sorted(again.values(), key=lambda e: placed[e.envelope.event_id])
        new = [row for event in order for row in self._apply(event)]
        return (difference(old, new) if back else new), len(back)

    def _reached(
        self, shared: dict[Entity, history.Key], redo: dict[UUID, history.Key]
    ) -> list[Applied]:
        """The window's events that must be taken back, in history order.

        Those are the corrected ones (`redo`: from where each counted or now counts,
        whichever is earlier), every one touching an entity `shared` from a key at or
        before its own, and, in turn, every one touching an entity that one of those
        touched, from the same key on. Why from the same key and not from the event
        taken back: a new event is judged against the registry as it was on its own
        day, where a person may still belong to the household a later event took them
        from; that household's events since the new event's day must be judged again.
        Found through the entities' own events (`touching`), so the cost is what is
        reached, not the window's length."""
        joined: dict[fold.Entity, history.Key] = {}
        since: dict[UUID, history.Key] = {}  # the earliest key each one was reached from
        back: dict[UUID, Applied] = {}
        due: list[tuple[Applied, history.Key]] = []

        def join(entity: fold.Entity, key: history.Key) -> None:
            if entity in joined and joined[entity] <= key:
                return
            joined[entity] = key
            found = self.touching.get(entity, [])
            due.extend((a, key) for a in found[bisect_left(found, key, key=_key) :])

        for entity, key in shared.items():
            join(entity, key)
        for event_id, key in redo.items():
            due.append((self.recent[self._position(self._where(event_id))], key))
        while due:
            applied, key = due.pop()
            if applied.event_id in since and since[applied.event_id] <= key:
                continue
            since[applied.event_id] = key
            back[applied.event_id] = applied
            for entity in applied.undo:
                join(entity, key)
        return sorted(back.values(), key=_key)

    def _where(self, event_id: UUID) -> history.Key:
        """Where an event taken before counts now."""
        return self.moved.get(event_id, self.events[event_id][0])

    def _keep(self, applied: Applied) -> None:
        """Into the window, and into the events of each entity it touched."""
        insort(self.recent, applied, key=_key)
        for entity in applied.undo:
            insort(self.touching.setdefault(entity, []), applied, key=_key)

    def _drop(self, applied: Applied) -> None:
        del self.recent[self._position(applied.key)]
        for entity in applied.undo:
            found = self.touching[entity]
            del found[bisect_left(found, applied.key, key=_key)]
            if not found:
                del self.touching[entity]

    def _trim(self) -> None:
        """Events older than the window leave it."""
        if not self.recent:
            return
        cut = self._position_on(self._window_start(self.recent[-1].key[0]))
        for applied in self.recent[:cut]:
            for entity in applied.undo:
                found = self.touching[entity]
                del found[: bisect_right(found, applied.key, key=_key)]
                if not found:
                    del self.touching[entity]
        del self.recent[:cut]

    def _position(self, key: history.Key) -> int:
        return bisect_left(self.recent, key, key=lambda a: a.key)

    def _position_on(self, day: date) -> int:
        return bisect_left(self.recent, day, key=lambda a: a.key[0])

    @staticmethod
    def _window_start(newest: date) -> date:
        return newest - timedelta(days=WINDOW_DAYS)

    def load(self, records: Iterable[Record]) -> None:
        """Many records at once (a restart, a rebuild): one fold at the end."""
        self.remember(records)
        self.refold()

    def remember(self, records: Iterable[Record]) -> Taken:
        """Keep the records' events without judging them (`refold` does)."""
        taken = Taken([])
        self._remember(records, taken)
        return taken

    def all_rows(self) -> Iterator[Row]:
        yield from self.undecodable
        for rows in self.rows.values():
            yield from rows

    def _remember(self, records: Iterable[Record], taken: Taken) -> list[Event]:
        """The records' events not taken before; undecodable ones become rejections."""
        new: list[Event] = []
        for record in records:
            if record.event is None:
                assert record.error is not None
                row = rejection_row(None, record.error.reason)
                self.undecodable.append(row)
                taken.rows.append(row)
                taken.undecodable += 1
            elif self._knows(record.event.envelope.event_id):
                taken.duplicates += 1
            else:
                event = record.event
                if isinstance(event, EventVoided | EventAmended):
                    self.corrections[event.envelope.event_id] = event
                    self.fixes.setdefault(event.target_event_id, []).append(event)
                else:
                    self.events[event.envelope.event_id] = (
                        history.key_of(event),
                        single_object(record),
                    )
                new.append(event)
        taken.new = len(new)
        return new

    def _knows(self, event_id: UUID) -> bool:
        return event_id in self.events or event_id in self.corrections

    def refold(self) -> list[Row]:
        """Everything again, in history order: a voided event counts nothing, an
        amended one counts as amended, where it now belongs. The events of the last
        WINDOW_DAYS are kept in the window, so that what comes next can take them back."""
        old = [row for rows in self.rows.values() for row in rows]
        self.fold = IndicatorFold(self.fold.units, self.fold.secret)
        self.rows = {}
        self.recent = []
        self.touching = {}
        self.moved = {}
        for event_id, correction in self.corrections.items():
            self.rows[event_id] = self._correction_rows(correction)
        order = sorted(
            (
                (self._placed(self._decoded(event_id)) if event_id in self.fixes else key, event_id)
                for event_id, (key, _) in self.events.items()
            )
        )
        start = self._window_start(order[-1][0][0]) if order else date.min
        for key, event_id in order:
            self._apply(self._decoded(event_id), key[0] >= start)
        return difference(old, [row for rows in self.rows.values() for row in rows])
