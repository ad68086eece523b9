"""The re-fold's store in memory: what PostgreSQL holds for the live projector.

The archive (each event with its outcome), the links of events to the entities they
touched, entity versions and current state, kept as the PostgreSQL sink keeps them
(states as JSON, one link and one version per entity and key), so the re-fold can be
run batch after batch without the stack and held to the fold of the whole log.
`commit` writes a batch's `Refolded` as the sink's transaction does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from projections.domain.entity_json import Json
from projections.domain.fold import Entity
from projections.domain.history import Key, is_correction, verdict
from projections.domain.refold import Archived, Linked, Refolded, Version, put_state, state_of
from projections.domain.state import Registry
from schemas.models import Event, EventAmended, EventVoided


@dataclass
class Stored:
    """An archived event and its outcome and reason."""

    event: Event
    outcome: str
    reason: str | None


@dataclass
class MemoryStore:
    """`projections.domain.refold.Store` in dictionaries."""

    events: dict[UUID, Stored] = field(default_factory=dict)
    links: dict[UUID, tuple[Key, set[Entity]]] = field(default_factory=dict)
    by_entity: dict[Entity, set[UUID]] = field(default_factory=dict)  # linked events
    versions: dict[Entity, dict[Key, Json | None]] = field(default_factory=dict)
    current: dict[Entity, Json] = field(default_factory=dict)  # the current rows

    # --- Store --------------------------------------------------------------------------

    def archived_among(self, event_ids: Sequence[UUID]) -> set[UUID]:
        return {i for i in event_ids if i in self.events}

    def correction_targets(self, event_ids: Sequence[UUID]) -> set[UUID]:
        wanted = set(event_ids)
        return {
            s.event.target_event_id
            for s in self.events.values()
            if isinstance(s.event, EventVoided | EventAmended) and s.event.target_event_id in wanted
        }

    def archived(self, event_id: UUID) -> Archived | None:
        return self._archived(event_id) if event_id in self.events else None

    def corrections_of(self, event_ids: Sequence[UUID]) -> list[Archived]:
        wanted = set(event_ids)
        return [
            self._archived(event_id)
            for event_id, s in self.events.items()
            if isinstance(s.event, EventVoided | EventAmended) and s.event.target_event_id in wanted
        ]

    def newest_states(self, entities: Sequence[Entity]) -> dict[Entity, Json | None]:
        return {
            e: self.versions[e][max(self.versions[e])] for e in entities if self.versions.get(e)
        }

    def newest_keys(self, entities: Sequence[Entity]) -> dict[Entity, Key]:
        found: dict[Entity, Key] = {}
        for entity in entities:
            keys = [self.links[i][0] for i in self.by_entity.get(entity, ())]
            if keys:
                found[entity] = max(keys)
        return found

    def linked_from(self, entities: Sequence[Entity], start: Key) -> list[Linked]:
        hits = {
            i
            for entity in entities
            for i in self.by_entity.get(entity, ())
            if self.links[i][0] >= start and not is_correction(self.events[i].event)
        }
        return [Linked(self._archived(i), frozenset(self.links[i][1])) for i in hits]

    def versions_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Version]:
        found: dict[Entity, Version] = {}
        for entity in entities:
            keys = [k for k in self.versions.get(entity, {}) if k < start]
            if keys:
                key = max(keys)
                found[entity] = (key, self.versions[entity][key])
        return found

    def applied_before(self, entities: Sequence[Entity], start: Key) -> dict[Entity, Key]:
        found: dict[Entity, Key] = {}
        for entity in entities:
            keys = [
                self.links[i][0]
                for i in self.by_entity.get(entity, ())
                if self.links[i][0] < start and self.events[i].outcome == "applied"
            ]
            if keys:
                found[entity] = max(keys)
        return found

    def forget_versions_from(self, entities: Sequence[Entity], start: Key) -> None:
        for entity in entities:
            kept = self.versions.get(entity, {})
            for key in [k for k in kept if k >= start]:
                del kept[key]

    def forget_links(self, event_ids: Sequence[UUID]) -> None:
        for event_id in event_ids:
            _, entities = self.links.pop(event_id, (None, set()))
            for entity in entities:
                self.by_entity[entity].discard(event_id)

    # --- the batch's writes -------------------------------------------------------------

    def commit(self, new: Iterable[Event], done: Refolded) -> None:
        """Write a batch: its new events and every outcome it changed, links, versions and
        the current state of what it changed. A link or version written twice fails, as
        PostgreSQL's primary keys make the sink's transaction fail."""
        for event in new:
            event_id = event.envelope.event_id
            assert event_id not in self.events, f"event {event_id} archived twice"
            self.events[event_id] = Stored(event, *verdict(done.outcomes[event_id]))
        for event_id, rejection in done.outcomes.items():
            self.events[event_id].outcome, self.events[event_id].reason = verdict(rejection)
        for event_id, (key, entities) in done.links.items():
            assert event_id not in self.links, f"event {event_id} linked twice"
            self.links[event_id] = (key, set(entities))
            for entity in entities:
                self.by_entity.setdefault(entity, set()).add(event_id)
        for entity, kept in done.versions.items():
            versions = self.versions.setdefault(entity, {})
            for key, state in kept.items():
                assert key not in versions, f"version {entity} {key} written twice"
                versions[key] = state
        for entity in done.dirty:
            state = state_of(done.registry, entity)
            if state is None:
                self.current.pop(entity, None)
            else:
                self.current[entity] = state

    def registry(self) -> Registry:
        """The current state, as the current rows hold it."""
        registry = Registry()
        for entity, state in sorted(self.current.items()):
            put_state(registry, entity, state)
        return registry

    def _archived(self, event_id: UUID) -> Archived:
        stored = self.events[event_id]
        return Archived(event_id, stored.outcome, lambda: stored.event)
