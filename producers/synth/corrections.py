"""Corrections, as a registry receives them: voids and amendments, days to months late.

- Void: a registration made in error (phantoms.py) is published as it would be, and a
  clerk of the same commune voids it later.
- Amendment: a true event is published with one field mistyped (mistypes.py), and a
  clerk of the same commune amends it later to the true value.

Either way the history the registry ends with, once corrections are resolved
(`projections.domain.history.effective_events`), is the one that happened: a correction's
consequences are confined to the live registry between the error and its fix. An
error is made only if its correction is recorded by `now`; a mistyped event must
pass the gateway's rules, and its amendment carries the true value of every path the
mistyping changed, so it turns it back into the true event.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from producers.synth import demography, events
from producers.synth.config import Mistake, SynthConfig
from producers.synth.mistypes import DATE, FIELDS, Mistyper, get
from producers.synth.phantoms import REASONS, InError
from producers.synth.places import Places, reporter_id, reporters
from producers.synth.population import Households, People
from producers.synth.quota import Delivered, Quota
from producers.synth.registration import HOUR_MS, day_start_ms, instant, vietnam_day
from schemas.admin_units import AdminUnits
from schemas.models import Channel, Context, Event
from schemas.validation import InvalidEvent, event_json, parse_event

_TYPES: dict[str, str | None] = {  # each type is voided and amended as often as the rate
    name: name
    for name in (
        "HouseholdEnumerated",
        "PersonEnumerated",
        "BirthRegistered",
        "DeathRegistered",
        "MarriageRegistered",
        "DivorceRegistered",
        "MovedIn",
        "MovedOut",
    )
}
_IN_ERROR_AFTER_MS = (60_000, 3 * HOUR_MS)  # after the event whose delivery prompts it
_VOIDED_AFTER_DAYS = (3, 150)
_AMENDED_AFTER_DAYS = (2, 120)
_CLERK_HOURS_MS = (8 * HOUR_MS, 9 * HOUR_MS)  # from 08:00, for 9 hours, Vietnam time
_FIELD_NAMES = {
    DATE: "date",
    "age_at_death": "age at death",
    "birth_order": "birth order",
    "father_id": "father",
    "member_count": "member count",
    "relation_to_head": "relation to the head",
}

Emit = Callable[[int, Event, Mistake], None]


class Corrector:
    def __init__(
        self,
        config: SynthConfig,
        units: AdminUnits,
        people: People,
        households: Households,
        places: Places,
        delivered: Delivered,
        emit: Emit,
    ) -> None:
        rng = random.Random(f"{config.seed}:corrections")
        self._rng = rng
        self._voids = Quota(config.void_rate, _TYPES, delivered)
        self._amends = Quota(config.amend_rate, _TYPES, delivered)
        self._households = households
        self._in_error = InError(rng, people, households, places, self._new_id)
        ethnicities = list(demography.ethnicity_shares(config.province))
        self._mistyper = Mistyper(rng, people, ethnicities)
        self._context = Context(units, now=config.now)
        self._now_ms = (config.now - instant(0)) // timedelta(milliseconds=1)
        self._emit = emit
        self._fields_used: Counter[tuple[str, str]] = Counter()

    # -- amendments -------------------------------------------------------------------

    def revise(self, recorded: int, event: Event) -> Event:
        """The event as published: mistyped, with its amendment on the way, if one of
        its type is due; else as it is."""
        quota = self._amends
        if not quota.ready(event.type):
            return event
        at = self._clerk_time(vietnam_day(recorded), _AMENDED_AFTER_DAYS)
        if at > self._now_ms:
            return event
        true = event_json(event)
        fields = list(FIELDS[event.type])
        self._rng.shuffle(fields)
        fields.sort(key=lambda f: self._fields_used[event.type, f])
        for field in fields:
            made = self._mistyped(event, true, field, recorded, at)
            if made is not None:
                wrong, amendment = made
                quota.spend(event.type)
                self._fields_used[event.type, field] += 1
                kind = f"amend:{event.type}"
                self._emit(
                    at,
                    amendment,
                    Mistake(amendment.envelope.event_id, kind, wrong.envelope.event_id, field),
                )
                return wrong
        return event

    def _mistyped(
        self, event: Event, true: dict[str, object], field: str, recorded: int, at: int
    ) -> tuple[Event, Event] | None:
        typed = event_json(event)
        paths = self._mistyper.mistype(typed, event.type, field, vietnam_day(recorded))
        if paths is None:
            return None
        fixed = {path: _json(get(true, path)) for path in paths}
        name = _FIELD_NAMES.get(field, field.rsplit(".", 1)[-1].replace("_", " "))
        envelope = self._envelope(event.envelope.household_id, at)
        amendment = events.amendment(envelope, event.envelope.event_id, f"{name} mistyped", fixed)
        try:
            wrong = parse_event(typed, self._context)
        except InvalidEvent:
            return None
        return wrong, amendment

    # -- voids ------------------------------------------------------------------------

    def observe(self, recorded: int, event: Event) -> None:
        """After a true event is delivered: perhaps a registration made in error, with
        its void on the way."""
        quota = self._voids
        if not quota.active:
            return
        self._in_error.remember(event)
        kind = event.type
        if kind not in _TYPES or not quota.ready(kind):
            return
        at = recorded + self._rng.randrange(*_IN_ERROR_AFTER_MS)
        wrong = self._in_error.make(kind, at)
        if wrong is None:
            return
        voided_at = self._clerk_time(vietnam_day(at), _VOIDED_AFTER_DAYS)
        if voided_at > self._now_ms:
            return
        quota.spend(kind)
        target = wrong.envelope.event_id
        envelope = self._envelope(wrong.envelope.household_id, voided_at)
        void = events.voided(envelope, target, REASONS[kind])
        void_id = void.envelope.event_id
        self._emit(at, wrong, Mistake(target, f"in_error:{kind}", void_id))
        self._emit(voided_at, void, Mistake(void_id, f"void:{kind}", target))

    # -- both -------------------------------------------------------------------------

    def _new_id(self) -> UUID:
        return UUID(int=self._rng.getrandbits(128), version=4)

    def _clerk_time(self, day: int, after_days: tuple[int, int]) -> int:
        """A time in office hours, `after_days` (a range) after `day`."""
        opens, hours = _CLERK_HOURS_MS
        later = day + self._rng.randint(*after_days)
        return day_start_ms(later) + opens + self._rng.randrange(hours)

    def _envelope(self, household_id: str, at: int) -> events.Json:
        """A correction's envelope: the day the clerk makes it, in the commune the
        household is in that day, by one of that commune's collaborators."""
        day = vietnam_day(at)
        commune = self._households.commune_on(self._in_error.household_index(household_id), day)
        reporter = reporter_id(commune, self._rng.randint(1, reporters(commune)))
        return events.envelope(
            self._new_id(), day, at, commune, household_id, reporter, Channel.WEB
        )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
