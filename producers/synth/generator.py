"""The synthetic province: a baseline, then year after year of life, published in
the order the registry learns of each event (recorded_at), with deliberate mistakes,
corrections and crossing late registrations at the rates asked for.
"""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from heapq import heappop, heappush
from typing import Any

import numpy as np

from producers.synth import baseline, demography, draws
from producers.synth.config import CORRECTION, CROSSING, MISTAKE, Mistake, SynthConfig
from producers.synth.corrections import Corrector
from producers.synth.crossings import Crossings
from producers.synth.households import Composer
from producers.synth.life import Life
from producers.synth.mistakes import DUPLICATE, MistakeMaker
from producers.synth.names import Names, NationalIds
from producers.synth.places import Places
from producers.synth.population import PRESENT, Households, People
from producers.synth.quota import Delivered
from producers.synth.recording import Recorder
from producers.synth.registration import ENUMERATION_DAYS, day_start_ms
from producers.synth.stats import YearStats, summary_rates
from schemas.admin_units import AdminUnits
from schemas.models import VIETNAM, Event

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Synth:
    """A synthetic province; `events()` yields its stream once, then `summary()` reports."""

    def __init__(self, config: SynthConfig, units: AdminUnits) -> None:
        self.config = config
        self.mistakes: list[Mistake] = []
        seed, province = config.seed, config.province
        self._places = Places.of(units, province)
        self._people = People(f"P{province}-")
        self._households = Households(f"H{province}-")
        self._rng = random.Random(f"{seed}:life")
        self._draw_rng = np.random.default_rng([seed % 2**63, 1])
        first_day = date(config.first_year, 1, 1).toordinal()
        self._delivered = Delivered()  # true events delivered: what irregularities earn by
        self._crossings = Crossings(
            random.Random(f"{seed}:crossings"),
            config.crossing_rate,
            self._delivered,
            first_day + ENUMERATION_DAYS[1] + 1,
            self._people.pid,
            self._households.hid,
        )
        self._now_ms = (config.now - _EPOCH) // timedelta(milliseconds=1)
        self._recorder = Recorder(
            seed, self._people, self._households, self._crossings, first_day, self._now_ms
        )
        self._names = Names(random.Random(f"{seed}:names"), province)
        self._national_ids = NationalIds(random.Random(f"{seed}:national-ids"))
        composer = Composer(
            self._rng, date(config.first_year, 1, 1), demography.mean_household_size(province)
        )
        self._life = Life(
            self._rng,
            self._people,
            self._households,
            self._places,
            self._recorder,
            self._names,
            self._national_ids,
            composer,
            self._emit,
            self._crossings,
        )
        mistake_rng = random.Random(f"{seed}:mistakes")
        self._mistake_rng = mistake_rng
        self._mistake_maker = MistakeMaker(mistake_rng, units, self._people, self._households)
        self._mistake_chance = config.error_rate / (1 - config.error_rate)
        self._corrector = Corrector(
            config,
            units,
            self._people,
            self._households,
            self._places,
            self._delivered,
            self._emit,
        )
        today = config.now.astimezone(VIETNAM).date().toordinal()
        self._stop = min(date(config.last_year, 12, 31).toordinal(), today)
        self._baseline = baseline.Baseline(date(config.first_year, 1, 1).toordinal())
        self._next_enumerated = 0
        self._out: list[tuple[int, int, Event, Mistake | None]] = []  # by recorded time
        self._seq = 0
        self._day = 0
        self._years: list[YearStats] = []
        self._emitted: Counter[str] = Counter()
        self._started = self._finished = False

    def events(self) -> Iterator[Event]:
        """Every event in publication order (recorded_at ascending); can be read once."""
        if self._started:
            raise RuntimeError("a Synth's events can be read only once")
        self._started = True
        # Millions of long-lived objects without reference cycles: the cyclic garbage
        # collector would traverse them over and over (it more than doubles the run
        # time), so it stays off while they are built and leaves them alone after.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._build_baseline()
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
        try:
            yield from self._simulate()
        finally:
            gc.unfreeze()
        self._finished = True

    def _build_baseline(self) -> None:
        config = self.config
        if self._baseline.day > self._stop:
            return
        self._baseline = baseline.build(
            self._rng,
            config.households,
            config.first_year,
            self._places,
            self._people,
            self._households,
            self._recorder.registration,
            self._names,
            self._national_ids,
        )
        day = self._baseline.day
        for person, birth in enumerate(self._people.birth):
            if birth > day - 365:
                self._life.infant_risk(person, day + 1)

    def _simulate(self) -> Iterator[Event]:
        config, life = self.config, self._life
        for year in range(config.first_year, config.last_year + 1):
            start = date(year, 1, 1).toordinal()
            if start > self._stop:
                break
            end = min(date(year, 12, 31).toordinal(), self._stop)
            span = draws.Year(start, end, date(year + 1, 1, 1).toordinal() - start)
            life.stats = YearStats(year, span.end - start + 1)
            self._years.append(life.stats)
            self._recorder.year = year
            life.schedule(draws.draw(self._draw_rng, self._people, self._households, span), span)
            middle = min(date(year, 7, 1).toordinal(), span.end)
            counted = False
            while (day := life.next_day()) is not None and day <= span.end:
                if day > self._day:
                    yield from self._publish(day_start_ms(day))
                    self._day = day
                if not counted and day >= middle:
                    life.census(middle)
                    counted = True
                life.apply_next()
            if not counted:
                life.census(middle)
        yield from self._publish(self._now_ms + 1)

    def _publish(self, bound: int) -> Iterator[Event]:
        """Yield every event recorded before `bound` (epoch ms), with any mistakes."""
        self._enumerate_until(bound)
        out = self._out
        while out and out[0][0] < bound:
            recorded, _, event, tag = heappop(out)
            yield from self._deliver(recorded, event, tag)

    def _deliver(self, recorded: int, event: Event, tag: Mistake | None) -> Iterator[Event]:
        """Yield an event. A true one is labelled if it crosses a later event, may be
        published mistyped (its amendment follows), and may prompt a registration made
        in error (its void follows) and a mistake; irregular ones are only listed."""
        if tag is not None:
            self.mistakes.append(tag)
            self._emitted[event.type] += 1
            yield event
            return
        self._delivered.count += 1
        self._delivered.by_type[event.type] += 1
        crossing = self._crossings.label(recorded, event)
        if crossing is not None:
            self.mistakes.append(crossing)
        event = self._corrector.revise(recorded, event)
        self._emitted[event.type] += 1
        yield event
        self._corrector.observe(recorded, event)
        self._mistake_maker.observe(event)
        if self._mistake_rng.random() >= self._mistake_chance:
            return
        derived = self._mistake_maker.derive(event, recorded)
        if derived is None:
            return
        kind, at, extra = derived
        if kind == DUPLICATE:
            self.mistakes.append(Mistake(extra.envelope.event_id, kind))
            self._emitted[extra.type] += 1
            yield extra
        else:
            self._emit(at, extra, Mistake(extra.envelope.event_id, kind))

    def _emit(self, recorded: int, event: Event, mistake: Mistake | None = None) -> None:
        if recorded <= self._now_ms:
            heappush(self._out, (recorded, self._seq, event, mistake))
            self._seq += 1

    def _enumerate_until(self, bound: int) -> None:
        """Queue the enumeration events of the households whose visit starts before `bound`."""
        order, recorded = self._baseline.order, self._baseline.recorded_ms
        while self._next_enumerated < len(order):
            household = order[self._next_enumerated]
            if recorded[household] >= bound or recorded[household] > self._now_ms:
                return
            for at, event in baseline.household_events(
                self._baseline,
                household,
                self._people,
                self._households,
                self._recorder.new_id,
                self._recorder.reporter,
            ):
                self._emit(at, event)
            self._next_enumerated += 1

    def summary(self) -> dict[str, Any]:
        """Counts and measured rates; call after events() is exhausted."""
        if not self._finished:
            raise RuntimeError("summary() needs events() to have been read to the end")
        people, config = self._people, self.config
        enumerated = len(self._baseline.relation)
        return {
            "province": config.province,
            "seed": config.seed,
            "first_year": config.first_year,
            "last_year": config.last_year,
            "now": config.now.isoformat(),
            "events": dict(sorted(self._emitted.items())),
            "events_total": sum(self._emitted.values()),
            "mistakes": self._kinds(MISTAKE),
            "corrections": self._kinds(CORRECTION),
            "crossings": self._kinds(CROSSING),
            "persons": len(people),
            "persons_at_baseline": enumerated,
            "persons_present_at_end": sum(1 for s in people.status if s == PRESENT),
            "households": len(self._households),
            "households_at_baseline": config.households,
            "mean_household_size_at_baseline": round(enumerated / config.households, 3),
            "target_household_size": demography.mean_household_size(config.province),
            "rates": summary_rates(self._years),
        }

    def _kinds(self, category: str) -> dict[str, int]:
        kinds = Counter(m.kind for m in self.mistakes if m.category == category)
        return dict(sorted(kinds.items()))
