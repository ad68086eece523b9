"""A batch of new events folded onto what the archive holds, late ones in history order.

An event in history order (its key after the last key of every entity it touches) is
applied with the fold to the entities it touches, loaded from the store. A late event
(an entity it touches already has a later event), a correction, or an event an
archived correction targets is re-folded: the closure it reaches through later
events is restored to the entity versions before it, and every later event of the
closure is applied again in history order (`stream_processors/README.md`, "State
projector"). What to write comes back as a `Refolded`; the store's two take-backs
(versions and links a re-fold replaces) happen while it runs, because later reads of
the same batch must not see them.

The store is a `Store`: PostgreSQL for the live projector (`projections.postgres_store`,
inside the batch's transaction), memory for tests (`projections.domain.memory_store`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from projections.domain import fold, history
from projections.domain.entity_json import (
    Json,
    household_from,
    household_json,
    person_from,
    person_json,
)
from projections.domain.fold import HOUSEHOLD, Entity, Rejection
from projections.domain.history import VOIDED, Key, is_correction, key_of
from projections.domain.state import Registry
from schemas.admin_units import AdminUnits
from schemas.models import Event, EventAmended, EventVoided

MIN_KEY: Key = (date.min, datetime.min.replace(tzinfo=UTC), UUID(int=0))
Version = tuple[Key, Json | None]  # an entity's state after the event of that key
T = TypeVar("T")


@dataclass(frozen=True)
class Archived:
    """An archived event with its stored outcome. `event` parses it: the re-fold reads
    many events it has parsed already, and parses each once."""

    event_id: UUID
    outcome: str
    event: Callable[[], Event]


@dataclass(frozen=True)
class Linked:
    """An archived state event and every entity it touched when it was last applied."""

    archived: Archived
    entities: frozenset[Entity]


class Store(Protocol):
    """What the re-fold reads of the archive, and the two things it takes back.

    Reads see the store as it was before the batch, less what the batch took back.
    A key bound `start` is inclusive for `linked_from` and `forget_versions_from`,
    exclusive for the `*_before` reads."""

    def archived_among(self, event_ids: Sequence[UUID]) -> set[UUID]:
        """Which of `event_ids` are archived."""
        ...

    def correction_targets(self, event_ids: Sequence[UUID]) -> set[UUID]:
        """Which of `event_ids` an archived correction targets."""
        ...

    def archived(self, event_id: UUID) -> Archived | None: ...

    def corrections_of(self, event_ids: Sequence[UUID]) -> list[Archived]:
        """Archived corrections targeting any of `event_ids`."""
        ...

    def newest_states(self, entities: Sequence[Entity]) -> dict[Entity, Json | None]:
        """Each entity's newest version (absent: it has none)."""
        ...

    def newest_keys(self, entities: Sequence[Entity]) -> dict[Entity, Key]:
        """The key of the newest event linked to each entity."""
        ...

    def linked_from(self, entities: Sequence[Entity], start: Key) -> list[Linked]:
        """State events at or after `start` linked to any of `entities`."""
        ...

    def versions_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Version]:
        """Each entity's newest version before `start`."""
        ...

    def applied_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Key]:
        """The key of each entity's newest linked event before `start` archived as applied."""
        ...

    def forget_versions_from(self, entities: Sequence[Entity], start: Key) -> None:
        """Take back the entities' versions at or after `start` (a re-fold writes them anew)."""
        ...

    def forget_links(self, event_ids: Sequence[UUID]) -> None:
        """Take back the archived events' links (a re-fold links them anew)."""
        ...


@dataclass
class Refolded:
    """What a batch changes: to be written with it, in one transaction."""

    registry: Registry  # the entities the batch loaded, as they now are
    dirty: set[Entity]  # entities whose current rows change
    outcomes: dict[UUID, Rejection | None]  # new events' and re-folded archived events'
    previous: dict[UUID, str]  # archived outcomes read, as stored before the batch
    links: dict[UUID, tuple[Key, set[Entity]]]  # event -> its key, the entities it touched
    versions: dict[Entity, dict[Key, Json | None]]  # new versions, by entity
    refolded: int  # events applied again by re-folds


def state_of(registry: Registry, entity: Entity) -> Json | None:
    """The entity's state as a version holds it (None: it does not exist)."""
    kind, entity_id = entity
    if kind == HOUSEHOLD:
        household = registry.households.get(entity_id)
        return None if household is None else household_json(household)
    person = registry.persons.get(entity_id)
    return None if person is None else person_json(person)


def put_state(registry: Registry, entity: Entity, state: Json | None) -> None:
    """The entity as a version holds it, in `registry` (None: removed)."""
    kind, entity_id = entity
    if kind == HOUSEHOLD:
        if state is None:
            registry.households.pop(entity_id, None)
        else:
            registry.households[entity_id] = household_from(state)
    elif state is None:
        registry.persons.pop(entity_id, None)
    else:
        registry.persons[entity_id] = person_from(state)


def unseen(store: Store, events: Iterable[tuple[T, Event]]) -> tuple[list[tuple[T, Event]], int]:
    """The events not archived yet, the first of any twins in `events`; and how many
    duplicates were left out."""
    items = list(events)
    known = store.archived_among([e.envelope.event_id for _, e in items])
    new: list[tuple[T, Event]] = []
    for item in items:
        event_id = item[1].envelope.event_id
        if event_id not in known:
            known.add(event_id)
            new.append(item)
    return new, len(items) - len(new)


class _Widen(Exception):
    """A re-applied event reached entities outside the closure: restore those too."""

    def __init__(self, entities: set[Entity]) -> None:
        super().__init__(sorted(entities))
        self.entities = entities


class Refold:
    """One batch's fold against `store`; `run` once."""

    def __init__(
        self, store: Store, units: AdminUnits, warn: Callable[[str], None] = lambda _: None
    ) -> None:
        # `warn` hears of a closure re-folded from the beginning (its versions were
        # missing): slow, and a sign that a writer left versions out.
        self.store, self.units, self.warn = store, units, warn
        self.registry = Registry()
        self.loaded: set[Entity] = set()
        self.last: dict[Entity, Key] = {}
        self.new: dict[UUID, Event] = {}  # this batch's events
        self.outcomes: dict[UUID, Rejection | None] = {}
        self.previous: dict[UUID, str] = {}
        self.versions: dict[Entity, dict[Key, Json | None]] = {}  # this batch's, by entity
        self.links: dict[UUID, tuple[Key, set[Entity]]] = {}
        self.linked: dict[Entity, set[UUID]] = {}
        self.known: dict[UUID, Event] = {}  # archived events parsed in this batch
        self.dirty: set[Entity] = set()
        self.corrected: set[UUID] = set()
        self.corrections: dict[UUID, list[Event]] = {}  # this batch's, by target
        self.refolded = 0

    def run(self, events: list[Event]) -> Refolded:
        """Fold `events` (new, each once) in history order; late ones re-fold."""
        self.new = {e.envelope.event_id: e for e in events}
        for event in events:
            if isinstance(event, EventVoided | EventAmended):
                self.corrections.setdefault(event.target_event_id, []).append(event)
        self._prefetch(events)
        archived = self.store.correction_targets(
            [e.envelope.event_id for e in events if not is_correction(e)]
        )
        self.corrected = archived | self.corrections.keys()
        for event in sorted(events, key=key_of):
            if is_correction(event) or self._is_corrected(event) or self._is_late(event):
                self._refold(event)
            else:
                self._apply(event)
        for event_id in self.new:
            self.outcomes.setdefault(event_id, None)
        return Refolded(
            self.registry,
            self.dirty,
            self.outcomes,
            self.previous,
            self.links,
            self.versions,
            self.refolded,
        )

    # --- reading -----------------------------------------------------------------------

    def _is_corrected(self, event: Event) -> bool:
        """Whether a correction of this event is archived or in this batch."""
        return event.envelope.event_id in self.corrected

    def _prefetch(self, events: list[Event]) -> None:
        """Load what `events` name in a few reads, not a few per event; each round
        follows what the last one loaded (a person's household), until nothing is new."""
        for _ in range(3):
            wanted = set().union(*(fold.touched(e, self.registry) for e in events))
            if wanted <= self.loaded:
                return
            self._load(wanted)

    def _touched(self, event: Event) -> set[Entity]:
        """What the event touches, loading what it names until that names nothing new."""
        while True:
            found = fold.touched(event, self.registry)
            if found <= self.loaded:
                return found
            self._load(found)

    def _load(self, entities: Iterable[Entity]) -> None:
        """Current state from the newest version; `last` from the newest linked event."""
        missing = [e for e in entities if e not in self.loaded]
        if not missing:
            return
        for entity, state in self.store.newest_states(missing).items():
            put_state(self.registry, entity, state)
        self.last.update(self.store.newest_keys(missing))
        self.loaded.update(missing)

    def _is_late(self, event: Event) -> bool:
        key = key_of(event)
        return any(
            entity in self.last and self.last[entity] > key for entity in self._touched(event)
        )

    def _archived(self, event_id: UUID) -> Event | None:
        if event_id in self.new:
            return self.new[event_id]
        if event_id not in self.known:
            found = self.store.archived(event_id)
            if found is None:
                return None
            self.previous.setdefault(event_id, found.outcome)
            self.known[event_id] = found.event()
        return self.known[event_id]

    def _archived_or(self, event: Event) -> Event:
        """The event as archived (an amended copy shares the original's event_id)."""
        return self._archived(event.envelope.event_id) or event

    def _corrections_of(self, event_ids: set[UUID]) -> list[Event]:
        found: dict[UUID, Event] = {}
        for archived in self.store.corrections_of(list(event_ids)):
            self.previous.setdefault(archived.event_id, archived.outcome)
            found[archived.event_id] = archived.event()
        for target in event_ids & self.corrections.keys():
            for event in self.corrections[target]:
                found[event.envelope.event_id] = event
        return list(found.values())

    def _linked_events(
        self, entities: set[Entity], start: Key
    ) -> dict[UUID, tuple[Event, set[Entity]]]:
        """State events at or after `start` touching `entities`, with every entity each
        touched when last applied; from the archive and from this batch."""
        found: dict[UUID, tuple[Event, set[Entity]]] = {}
        for linked in self.store.linked_from(list(entities), start):
            archived = linked.archived
            self.previous.setdefault(archived.event_id, archived.outcome)
            if archived.event_id not in self.known:
                self.known[archived.event_id] = archived.event()
            found[archived.event_id] = (self.known[archived.event_id], set(linked.entities))
        for entity in entities & self.linked.keys():
            for event_id in self.linked[entity] - found.keys():
                key, touched = self.links[event_id]
                event = self._archived(event_id) if key >= start else None
                if event is not None and not is_correction(event):
                    found[event_id] = (event, touched)
        return found

    # --- folding ------------------------------------------------------------------------

    def _apply(self, event: Event, closure: set[Entity] | None = None) -> None:
        entities = self._touched(event)
        if closure is not None and not entities <= closure:
            raise _Widen(entities - closure)
        key = key_of(event)
        rejection = fold.apply(self.registry, event, self.units)
        event_id = event.envelope.event_id
        self.outcomes[event_id] = rejection
        self.links[event_id] = (key, entities)
        for entity in entities:
            self.linked.setdefault(entity, set()).add(event_id)
            self.last[entity] = max(key, self.last.get(entity, key))
            if rejection is None:
                self.versions.setdefault(entity, {})[key] = state_of(self.registry, entity)
                self.dirty.add(entity)

    def _refold(self, event: Event) -> None:
        """Re-apply, in history order, everything from the late point on that it reaches."""
        start_events = [event]
        if isinstance(event, EventVoided | EventAmended):
            target = self._archived(event.target_event_id)
            rejection = history.correction_verdict(event, target)
            if target is None or rejection is not None:
                self.outcomes[event.envelope.event_id] = rejection
                return
            corrections = self._corrections_of({target.envelope.event_id})
            start_events = [target, *history.effective_events([target, *corrections])]
        start = min(key_of(e) for e in start_events)
        seeds: set[Entity] = set().union(*(self._touched(e) for e in start_events))
        while True:
            closure, reached = self._closure(seeds, start, start_events)
            if self._restore(closure, start):
                self.warn(
                    f"versions missing before {start[0]} for the closure of event"
                    f" {event.envelope.event_id}: re-folding {len(closure)} entities"
                    " from the beginning"
                )
                start = MIN_KEY
                continue
            corrections = self._corrections_of(set(reached))
            redo = history.effective_events([*reached.values(), *corrections])
            redone = {e.envelope.event_id for e in redo}
            for event_id in redone & self.links.keys():
                for entity in self.links.pop(event_id)[1]:
                    self.linked[entity].discard(event_id)
            try:
                for other in redo:
                    self._apply(other, closure)
            except _Widen as widen:
                seeds |= widen.entities
                continue
            break
        self.store.forget_links([i for i in redone if i not in self.new])
        for event_id in set(reached) - redone:
            self.outcomes[event_id] = VOIDED
        for correction in corrections:
            assert isinstance(correction, EventVoided | EventAmended)
            target = reached.get(correction.target_event_id)
            self.outcomes[correction.envelope.event_id] = history.correction_verdict(
                correction, target
            )
        self.refolded += len(redo)

    def _closure(
        self, seeds: set[Entity], start: Key, start_events: list[Event]
    ) -> tuple[set[Entity], dict[UUID, Event]]:
        """Entities reachable from `seeds` through state events at or after `start`."""
        closure = set(seeds)
        reached = {
            e.envelope.event_id: self._archived_or(e) for e in start_events if not is_correction(e)
        }
        frontier = set(seeds)
        while frontier:
            found = self._linked_events(frontier, start)
            self._prefetch([event for event, _ in found.values()])
            frontier = set()
            for event_id, (event, linked) in found.items():
                # A start event is reached already, but what it touched when it was
                # applied (a household a spouse left, say) joins the closure too: the
                # registry now places its persons elsewhere, so `_touched` alone misses it.
                event = reached.setdefault(event_id, event)
                new = (linked | self._touched(event)) - closure
                closure |= new
                frontier |= new
        return closure, reached

    def _restore(self, closure: set[Entity], start: Key) -> bool:
        """Every entity of the closure as it was just before `start`; True (and nothing
        changed) when an entity lacks the version of its last applied event before it."""
        wanted = list(closure)
        before = self.store.versions_before(wanted, start)
        for entity in closure & self.versions.keys():
            for key, state in self.versions[entity].items():
                if start > key > before.get(entity, (MIN_KEY, None))[0]:
                    before[entity] = (key, state)
        applied = self.store.applied_before(wanted, start)
        if any(key > before.get(entity, (MIN_KEY, None))[0] for entity, key in applied.items()):
            return True
        for entity in closure:
            found = before.get(entity)
            put_state(self.registry, entity, None if found is None else found[1])
            self.dirty.add(entity)
        self.store.forget_versions_from(wanted, start)
        for entity in closure & self.versions.keys():
            kept = self.versions[entity]
            for key in [k for k in kept if k >= start]:
                del kept[key]
        return False
