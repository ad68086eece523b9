"""From a request's JSON events to one result per event: validate, deduplicate, publish."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from producers.gateway.accepted import Accepted, AcceptedStore, content_hash, store_path
from producers.gateway.authority import (
    NotPermitted,
    PostgresRegistry,
    Registry,
    names_of,
    refusal,
)
from producers.gateway.responses import EventResult, FieldProblem, IngestResponse
from producers.publisher import Publisher, PublishResult
from schemas.admin_units import load
from schemas.models import Context, Event
from schemas.settings import GATEWAY_LOGIN, Settings
from schemas.validation import InvalidEvent, Problem, parse_event

log = logging.getLogger("popreg.gateway")

FLUSH_MARGIN_S = 5.0
"""Waiting a little longer than the delivery timeout gives every event a definite
answer from librdkafka (delivered, or failed with a reason) instead of "unknown"."""


@dataclass(frozen=True)
class Outcome:
    response: IngestResponse
    undelivered: int  # rejected because the broker could not take them, not by a rule

    @property
    def status_code(self) -> int:
        if self.response.accepted or self.response.duplicates:
            return 200
        return 503 if self.undelivered else 422


@dataclass(frozen=True)
class _Valid:
    index: int
    event: Event
    digest: str

    @property
    def event_id(self) -> UUID:
        return self.event.envelope.event_id


class Ingestor:
    """Publishes through one Publisher, one request at a time.

    The Publisher's delivery loop is not meant for concurrent callers, and holding the
    lock from the store lookup to the store write is what keeps two concurrent resends
    of one event from both being published.
    """

    def __init__(self, settings: Settings, delivery_timeout_s: float) -> None:
        self._settings = settings
        self._delivery_timeout_s = delivery_timeout_s
        self._lock = threading.Lock()
        self._publisher: Publisher | None = None
        self._store: AcceptedStore | None = None
        self._registry: Registry = PostgresRegistry(lambda: settings.login_url(GATEWAY_LOGIN))

    def start(self) -> None:
        load()  # read the unit tables now rather than during the first request
        with self._lock:
            self._store = AcceptedStore(store_path(self._settings))
            # Validation just before publishing uses a fresh clock; the Publisher's own
            # world check would reuse the one it was created with.
            self._publisher = Publisher(
                self._settings,
                check_world=False,
                producer_config={"delivery.timeout.ms": int(self._delivery_timeout_s * 1000)},
            )

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.close(self._delivery_timeout_s + FLUSH_MARGIN_S)
                self._publisher = None
            if self._store is not None:
                self._store.close()
                self._store = None

    def ingest(self, items: list[dict[str, Any]], holds: Callable[[str], bool]) -> Outcome:
        """Validate, check authority, publish. Raises NotPermitted, before anything is
        published, if a valid event is about another commune's records (`holds` tells
        the codes the credential holds), and RegistryUnavailable if that cannot be
        checked: the gateway refuses rather than publish what it could not check."""
        context = Context(load())
        results: dict[int, EventResult] = {}
        valid: list[_Valid] = []
        for index, item in enumerate(items):
            try:
                event = parse_event(item, context)
            except InvalidEvent as invalid:
                results[index] = _rejected(index, _raw_event_id(item), invalid.problems)
                log.debug("event %d rejected: %s", index, [p.rule for p in invalid.problems])
            else:
                valid.append(_Valid(index, event, content_hash(event)))
        known = self._registry.known(names_of(entry.event for entry in valid))
        found = [(entry.index, refusal(entry.event, holds, known)) for entry in valid]
        refused = [(index, reason) for index, reason in found if reason is not None]
        if refused:
            raise NotPermitted(refused)
        with self._lock:
            undelivered = self._publish_new(valid, results)
        for entry in valid:
            log.debug(
                "event %s (%s): %s", entry.event_id, entry.event.type, results[entry.index].status
            )
        ordered = [results[index] for index in range(len(items))]
        response = IngestResponse(
            results=ordered,
            accepted=sum(r.status == "accepted" for r in ordered),
            duplicates=sum(r.status == "duplicate" for r in ordered),
            rejected=sum(r.status == "rejected" for r in ordered),
        )
        return Outcome(response, undelivered)

    def _publish_new(self, valid: list[_Valid], results: dict[int, EventResult]) -> int:
        """Publish the events not seen before; fill in every valid event's result."""
        store, publisher = self._store, self._publisher
        if store is None or publisher is None:
            raise RuntimeError("the gateway is not started")
        known = store.find(entry.event_id for entry in valid)
        firsts: dict[UUID, _Valid] = {}  # the first copy of each event_id in this request
        fresh: list[_Valid] = []
        repeats: list[tuple[_Valid, _Valid]] = []
        for entry in valid:
            earlier = known.get(entry.event_id)
            first = firsts.get(entry.event_id)
            if earlier is not None:
                results[entry.index] = _seen_before(entry, earlier)
            elif first is None:
                firsts[entry.event_id] = entry
                fresh.append(entry)
            elif first.digest == entry.digest:
                repeats.append((entry, first))
            else:
                results[entry.index] = _conflict(entry)

        published = self._send(publisher, [entry.event for entry in fresh])
        landed: dict[UUID, Accepted] = {}
        undelivered = 0
        for entry, result in zip(fresh, published, strict=True):
            results[entry.index] = _published(entry.index, result)
            if result.accepted and result.partition is not None and result.offset is not None:
                landed[entry.event_id] = Accepted(entry.digest, result.partition, result.offset)
            elif not result.problems:
                undelivered += 1
        store.record(landed)

        for entry, first in repeats:
            original = results[first.index]
            status = "duplicate" if original.status == "accepted" else original.status
            results[entry.index] = original.model_copy(
                update={"index": entry.index, "status": status}
            )
        return undelivered

    def _send(self, publisher: Publisher, events: list[Event]) -> list[PublishResult]:
        if not events:
            return []
        try:
            return publisher.publish_many(
                events, timeout_s=self._delivery_timeout_s + FLUSH_MARGIN_S
            )
        except Exception as error:  # PublishError, KafkaException, a Schema Registry failure
            log.error("publishing %d events failed: %s", len(events), type(error).__name__)
            return [
                PublishResult(
                    event.envelope.event_id,
                    event.type,
                    False,
                    reason="broker_unavailable",
                    detail=f"{type(error).__name__}: {error}",
                )
                for event in events
            ]


def _raw_event_id(item: dict[str, Any]) -> str | None:
    """The event_id of an invalid event, echoed only when it is a UUID."""
    envelope = item.get("envelope")
    candidate = envelope.get("event_id") if isinstance(envelope, dict) else None
    if not isinstance(candidate, str):
        return None
    try:
        return str(UUID(candidate))
    except ValueError:
        return None


def _problem(problem: Problem) -> FieldProblem:
    return FieldProblem(field=problem.field, rule=problem.rule, message=problem.message)


def _rejected(index: int, event_id: str | None, problems: list[Problem]) -> EventResult:
    return EventResult(
        index=index,
        event_id=event_id,
        status="rejected",
        problems=[_problem(p) for p in problems],
    )


def _conflict(entry: _Valid) -> EventResult:
    problem = Problem(
        "envelope.event_id",
        "event_id_conflict",
        f"event_id {entry.event_id} was already sent with different content",
    )
    return _rejected(entry.index, str(entry.event_id), [problem])


def _seen_before(entry: _Valid, earlier: Accepted) -> EventResult:
    if earlier.content_sha256 != entry.digest:
        return _conflict(entry)
    return EventResult(
        index=entry.index,
        event_id=str(entry.event_id),
        status="duplicate",
        partition=earlier.partition,
        offset=earlier.offset,
    )


def _published(index: int, result: PublishResult) -> EventResult:
    if result.accepted:
        return EventResult(
            index=index,
            event_id=str(result.event_id),
            status="accepted",
            partition=result.partition,
            offset=result.offset,
        )
    problems = list(result.problems) or [
        Problem("", result.reason or "not_delivered", result.detail or "the broker did not answer")
    ]
    return _rejected(index, str(result.event_id), problems)
