"""Corrections and crossing late registrations in the synthetic province.

Pure: each history is folded in memory in history order (`fold_log`), as the
processors and replay fold it, so nothing here needs the stack. The realistic
histories use the rates `popreg synth` and the benchmark use, on three seeds of a
small province large enough for every kind to occur in each.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from producers.synth import Mistake, Synth, SynthConfig
from producers.synth.config import (
    CORRECTION,
    CROSSING,
    MISTAKE,
    REALISTIC_AMEND_RATE,
    REALISTIC_CROSSING_RATE,
    REALISTIC_VOID_RATE,
)
from projections.domain.fold import Rejection
from projections.domain.history import (
    amended,
    correction_verdict,
    effective_events,
    fold_log,
    key_of,
)
from projections.domain.state import Registry
from schemas.admin_units import load
from schemas.models import (
    VIETNAM,
    BirthRegistered,
    Context,
    DeathRegistered,
    DivorceRegistered,
    Event,
    EventAmended,
    EventVoided,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    PersonEnumerated,
)
from schemas.validation import event_json, parse_event

UNITS = load()
NOW = datetime(2026, 3, 1, tzinfo=UTC)
REALISTIC = {
    "void_rate": REALISTIC_VOID_RATE,
    "amend_rate": REALISTIC_AMEND_RATE,
    "crossing_rate": REALISTIC_CROSSING_RATE,
}
STATE_TYPES = (
    "HouseholdEnumerated",
    "PersonEnumerated",
    "BirthRegistered",
    "DeathRegistered",
    "MarriageRegistered",
    "DivorceRegistered",
    "MovedIn",
    "MovedOut",
)
NAMED_CROSSINGS = {
    "crossing:birth_after_mother_death",
    "crossing:move_outs_out_of_order",
    "crossing:partner_enumerated_after_marriage",
    "crossing:death_after_later_move",
    "crossing:marriage_after_birth",
    "crossing:divorce_after_move_out",
}
# Every field a clerk could mistype, by event type ("date": envelope.occurred_on with
# the event's own date field).
AMENDABLE = {
    "HouseholdEnumerated": {"address", "member_count"},
    "PersonEnumerated": {
        "person.full_name",
        "person.birth_date",
        "person.sex",
        "person.ethnicity",
        "person.national_id",
        "person.marital_status",
        "relation_to_head",
    },
    "BirthRegistered": {
        "date",
        "child.full_name",
        "child.sex",
        "child.ethnicity",
        "child.national_id",
        "birth_order",
        "father_id",
    },
    "DeathRegistered": {"date", "place", "age_at_death"},
    "MarriageRegistered": {"date"},
    "DivorceRegistered": {"date"},
    "MovedIn": {"date", "origin"},
    "MovedOut": {"date", "destination"},
}


@dataclass
class History:
    synth: Synth
    events: list[Event]
    by_id: dict[UUID, Event] = field(init=False)
    effective: dict[UUID, Event] = field(init=False)  # corrections resolved

    def __post_init__(self) -> None:
        self.by_id = {}
        for event in self.events:
            self.by_id.setdefault(event.envelope.event_id, event)
        self.effective = {e.envelope.event_id: e for e in effective_events(self.events)}

    def of(self, category: str) -> list[Mistake]:
        return [m for m in self.synth.mistakes if m.category == category]

    def kinds(self, category: str) -> Counter[str]:
        return Counter(m.kind for m in self.of(category))

    def lines(self) -> bytes:
        return b"".join(
            json.dumps(event_json(e), ensure_ascii=False).encode() + b"\n" for e in self.events
        )


def history(
    seed: int, households: int = 800, first_year: int = 2019, now: datetime = NOW, **rates: Any
) -> History:
    config = SynthConfig("96", households, first_year, 2025, seed, now, **rates)
    synth = Synth(config, UNITS)
    return History(synth, list(synth.events()))


@dataclass
class Folded:
    history: History
    registry: Registry
    verdicts: dict[UUID, Rejection | None]


@pytest.fixture(scope="module", params=[1, 3, 5], ids=lambda seed: f"seed {seed}")
def realistic(request: pytest.FixtureRequest) -> Folded:
    found = history(request.param, **REALISTIC)
    registry, verdicts = fold_log(found.events, UNITS)
    return Folded(found, registry, verdicts)


def about(event: Event) -> set[str]:
    """The persons an event is about, by its own fields."""
    match event:
        case PersonEnumerated():
            return {event.person.person_id}
        case BirthRegistered():
            return {event.child.person_id, event.mother_id, *filter(None, [event.father_id])}
        case DeathRegistered():
            return {event.person_id}
        case MarriageRegistered() | DivorceRegistered():
            return {event.spouse_a_id, event.spouse_b_id}
        case MovedIn() | MovedOut():
            return set(event.person_ids)
    return set()


def crossing_late_registrations(events: list[Event]) -> set[UUID]:
    """Every event recorded after a later-occurring event about one of its persons
    was recorded, found from the events alone."""
    latest: dict[str, date] = {}  # person -> latest occurred_on recorded so far
    found: set[UUID] = set()
    for event in sorted(events, key=lambda e: (e.envelope.recorded_at, e.envelope.event_id)):
        day = event.envelope.occurred_on
        persons = about(event)
        if any(latest.get(p, date.min) > day for p in persons):
            found.add(event.envelope.event_id)
        for p in persons:
            latest[p] = max(latest.get(p, date.min), day)
    return found


def related(mistake: Mistake) -> UUID:
    assert mistake.related is not None, mistake
    return mistake.related


def days_between(earlier: Event, later: Event) -> float:
    return (later.envelope.recorded_at - earlier.envelope.recorded_at) / timedelta(days=1)


# -- at the default rates -------------------------------------------------------------


def test_every_kind_of_correction_and_crossing_occurs_at_the_default_rates(
    realistic: Folded,
) -> None:
    found = realistic.history
    corrections, crossings = found.kinds(CORRECTION), found.kinds(CROSSING)
    expected = {f"{what}:{t}" for what in ("void", "in_error", "amend") for t in STATE_TYPES}
    assert expected - set(corrections) == set()
    assert NAMED_CROSSINGS - set(crossings) == set()
    assert {k for k in crossings if not k.startswith("crossing:late:")} == NAMED_CROSSINGS
    late_types = {found.by_id[m.event_id].type for m in found.of(CROSSING)}
    assert late_types == set(STATE_TYPES)  # late registrations of every type cross
    events = len(found.events)
    voids = sum(n for k, n in corrections.items() if k.startswith("void:"))
    amendments = sum(n for k, n in corrections.items() if k.startswith("amend:"))
    for count in (voids, amendments, crossings.total()):
        assert 0.0025 * events < count < 0.01 * events
    stream = Counter(e.type for e in found.events)
    assert stream["EventVoided"] == voids and stream["EventAmended"] == amendments
    summary = found.synth.summary()
    assert summary["corrections"] == dict(sorted(corrections.items()))
    assert summary["crossings"] == dict(sorted(crossings.items()))
    assert summary["mistakes"] == dict(sorted(found.kinds(MISTAKE).items()))


def test_the_history_order_fold_rejects_only_the_planted_mistakes(realistic: Folded) -> None:
    """Corrections and crossings leave every true event valid in history order."""
    planted = {m.event_id for m in realistic.history.of(MISTAKE)}
    rejected = {i for i, verdict in realistic.verdicts.items() if verdict is not None}
    assert rejected - planted == set()
    voided = {m.related for m in realistic.history.synth.mistakes if m.kind.startswith("void:")}
    assert voided and not voided & set(realistic.verdicts)  # voided: never folded


@pytest.mark.parametrize("now", [NOW, datetime(2025, 10, 15, 3, tzinfo=UTC)])
@pytest.mark.parametrize("seed", [3, 4])
def test_at_high_rates_the_history_still_rejects_only_the_planted_mistakes(
    seed: int, now: datetime
) -> None:
    """Even with many corrections and crossings, and `now` leaving late registrations
    out, no true event is rejected: nothing crosses a registration that `now` cuts."""
    found = history(seed, 300, now=now, void_rate=0.05, amend_rate=0.05, crossing_rate=0.05)
    _, verdicts = fold_log(found.events, UNITS)
    planted = {m.event_id for m in found.of(MISTAKE)}
    assert [i for i, v in verdicts.items() if v is not None and i not in planted] == []
    assert len(found.of(CROSSING)) > 20


def test_crossing_registrations_are_applied_and_cross_a_later_event(realistic: Folded) -> None:
    found, verdicts = realistic.history, realistic.verdicts
    crossings = found.of(CROSSING)
    assert crossings
    detected = crossing_late_registrations(list(found.effective.values()))
    for mistake in crossings:
        late, later = found.effective[mistake.event_id], found.effective[related(mistake)]
        assert verdicts[mistake.event_id] is None, (mistake, verdicts[mistake.event_id])
        assert verdicts[later.envelope.event_id] is None
        assert later.envelope.occurred_on > late.envelope.occurred_on, mistake
        assert later.envelope.recorded_at < late.envelope.recorded_at, mistake
        same_household = later.envelope.household_id == late.envelope.household_id
        assert about(late) & about(later) or same_household, mistake
        if about(late) & about(later):
            assert mistake.event_id in detected
        check_named(mistake.kind, late, later, realistic.registry)


def check_named(kind: str, late: Event, later: Event, registry: Registry) -> None:
    match kind:
        case "crossing:birth_after_mother_death":
            assert isinstance(late, BirthRegistered) and isinstance(later, DeathRegistered)
            assert later.person_id == late.mother_id
        case "crossing:move_outs_out_of_order":
            assert isinstance(late, MovedOut) and isinstance(later, MovedOut)
            assert late.envelope.household_id == later.envelope.household_id
        case "crossing:partner_enumerated_after_marriage":
            assert isinstance(late, PersonEnumerated) and isinstance(later, MarriageRegistered)
            assert late.person.person_id in about(later)
        case "crossing:death_after_later_move":
            assert isinstance(late, DeathRegistered) and isinstance(later, MovedOut | MovedIn)
            spouse = registry.persons[late.person_id].spouse_id
            moved = spouse in about(later)
            assert moved or later.envelope.household_id == late.envelope.household_id
        case "crossing:marriage_after_birth":
            assert isinstance(late, MarriageRegistered) and isinstance(later, BirthRegistered)
            assert later.mother_id in about(late)
        case "crossing:divorce_after_move_out":
            assert isinstance(late, DivorceRegistered) and isinstance(later, MovedOut)
            assert about(late) & about(later)
        case _:
            assert kind == f"crossing:late:{late.type}"


def test_every_event_passes_the_gateway(realistic: Folded) -> None:
    context = Context(UNITS, now=NOW)
    wrong = {m.event_id for m in realistic.history.synth.mistakes if m.kind == "unknown_commune"}
    for event in realistic.history.events:
        if event.envelope.event_id not in wrong:
            assert parse_event(event_json(event), context) == event


def test_corrections_come_later_from_the_same_commune_and_take_effect(
    realistic: Folded,
) -> None:
    found = realistic.history
    corrections = [m for m in found.of(CORRECTION) if not m.kind.startswith("in_error:")]
    for mistake in corrections:
        correction = found.by_id[mistake.event_id]
        target = found.by_id[related(mistake)]
        assert isinstance(correction, EventVoided | EventAmended)
        assert correction.target_event_id == target.envelope.event_id
        assert mistake.kind.split(":")[1] == target.type
        assert correction_verdict(correction, target) is None
        assert 1 <= days_between(target, correction) <= 160  # days to months later
        envelope, targeted = correction.envelope, target.envelope
        assert envelope.household_id == targeted.household_id
        successors = {link.new_code for link in UNITS.successors(targeted.commune_code)}
        assert envelope.commune_code in {targeted.commune_code, *successors}
        assert envelope.reporter_id.startswith(f"CTV-{envelope.commune_code}-")
        assert correction.reason.strip()
        if isinstance(correction, EventVoided):
            in_error = {m.event_id: m for m in found.synth.mistakes}[target.envelope.event_id]
            assert in_error.kind == f"in_error:{target.type}"
            assert in_error.related == envelope.event_id
            assert target.envelope.event_id not in found.effective


def test_every_amendment_corrects_the_field_it_names(realistic: Folded) -> None:
    found = realistic.history
    amendments = [m for m in found.of(CORRECTION) if m.kind.startswith("amend:")]
    for mistake in amendments:
        amendment = found.by_id[mistake.event_id]
        assert isinstance(amendment, EventAmended)
        typed = found.by_id[amendment.target_event_id]
        fixed = amended(typed, amendment)
        assert found.effective[fixed.envelope.event_id] == fixed
        changed = differing(event_json(typed), event_json(fixed))
        assert changed and changed <= set(amendment.corrected_fields), mistake
        assert mistake.detail in AMENDABLE[typed.type]
        if mistake.detail == "date":
            before, after = typed.envelope.occurred_on, fixed.envelope.occurred_on
            assert "envelope.occurred_on" in changed
            assert (before.year, before.month) == (after.year, after.month) and before != after
            assert 1 not in (before.day, after.day)
        else:
            assert mistake.detail in changed


def differing(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted paths whose values differ between two JSON shapes."""
    found = set()
    for key in a.keys() | b.keys():
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            found |= differing(x, y, f"{prefix}{key}.")
        elif x != y:
            found.add(f"{prefix}{key}")
    return found


def test_a_voided_marriage_moved_a_spouse_until_the_void_put_them_back(
    realistic: Folded,
) -> None:
    """A marriage registered for the wrong couple moves one spouse into the other's
    household as long as the registry knows it, and its void puts them back."""
    found = realistic.history
    voided = [m for m in found.of(CORRECTION) if m.kind == "in_error:MarriageRegistered"]
    moved_back = 0
    for mistake in voided:
        marriage = found.by_id[mistake.event_id]
        void = found.by_id[related(mistake)]
        assert isinstance(marriage, MarriageRegistered)

        def known_before(at: datetime) -> Registry:
            return fold_log([e for e in found.events if e.envelope.recorded_at < at], UNITS)[0]

        before, during = (
            known_before(marriage.envelope.recorded_at),
            known_before(void.envelope.recorded_at),
        )
        for pid in about(marriage):
            home = before.persons[pid].household_id
            if (
                home != marriage.household_after
                and during.persons[pid].household_id == marriage.household_after
            ):
                assert realistic.registry.persons[pid].household_id != marriage.household_after
                moved_back += 1
    assert moved_back > 0


# -- what corrections leave, and what the rates control ---------------------------------


@pytest.mark.parametrize("seed", [2, 4])
def test_corrections_leave_the_history_that_happened(seed: int) -> None:
    """Voids remove exactly the registrations made in error and amendments restore
    exactly the true events: resolved, the stream is the one without corrections."""
    clean = history(seed, 300, error_rate=0.0)
    corrected = history(seed, 300, error_rate=0.0, void_rate=0.02, amend_rate=0.02)
    assert corrected.lines() != clean.lines()
    types = Counter(e.type for e in corrected.events)
    assert types["EventVoided"] > 10 and types["EventAmended"] > 10
    assert effective_events(corrected.events) == sorted(clean.events, key=key_of)


def test_every_amendable_field_is_amended() -> None:
    found = history(2, 800, 2015, error_rate=0.0, amend_rate=0.05)
    fields: dict[str, set[str]] = {}
    for mistake in found.of(CORRECTION):
        fields.setdefault(mistake.kind.removeprefix("amend:"), set()).add(mistake.detail)
    assert {t: fields.get(t) for t in AMENDABLE} == AMENDABLE


def test_the_same_seed_gives_the_same_stream() -> None:
    first = history(7, 250, 2021, **REALISTIC)
    again = history(7, 250, 2021, **REALISTIC)
    assert again.lines() == first.lines()
    assert again.synth.mistakes == first.synth.mistakes
    assert history(8, 250, 2021, **REALISTIC).lines() != first.lines()


def test_a_rate_of_zero_gives_none_of_its_kind() -> None:
    high = {"void_rate": 0.02, "amend_rate": 0.02, "crossing_rate": 0.02}
    every = history(6, 300, error_rate=0.0, **high)
    assert {k.split(":")[0] for k in every.kinds(CORRECTION) | every.kinds(CROSSING)} == {
        "void",
        "in_error",
        "amend",
        "crossing",
    }
    assert crossing_late_registrations(list(every.effective.values()))
    for rate, prefixes, types in (
        ("void_rate", ("void:", "in_error:"), {"EventVoided"}),
        ("amend_rate", ("amend:",), {"EventAmended"}),
        ("crossing_rate", ("crossing:",), set()),
    ):
        without = history(6, 300, error_rate=0.0, **{**high, rate: 0.0})
        assert not [m for m in without.synth.mistakes if m.kind.startswith(prefixes)]
        assert not types & {e.type for e in without.events}
        if rate == "crossing_rate":  # recording follows knowledge again
            assert crossing_late_registrations(list(without.effective.values())) == set()
    none = history(6, 300, error_rate=0.0)
    assert none.synth.mistakes == []
    assert none.lines() == history(6, 300, error_rate=0.0, **dict.fromkeys(high, 0.0)).lines()


def test_the_rates_are_checked() -> None:
    for rate in ("void_rate", "amend_rate", "crossing_rate"):
        with pytest.raises(ValueError, match=rate):
            SynthConfig("96", 10, 2020, 2021, 1, NOW, **{rate: 0.6})
        with pytest.raises(ValueError, match=rate):
            SynthConfig("96", 10, 2020, 2021, 1, NOW, **{rate: -0.1})


def test_corrections_are_recorded_in_vietnam_office_hours(realistic: Folded) -> None:
    for mistake in realistic.history.of(CORRECTION):
        if mistake.kind.startswith(("void:", "amend:")):
            at = realistic.history.by_id[mistake.event_id].envelope.recorded_at
            assert 8 <= at.astimezone(VIETNAM).hour < 17
