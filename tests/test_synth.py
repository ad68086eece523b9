"""The synthetic province generator: valid, deterministic, realistic and consistent.

Rates and consistency are measured here from the emitted events alone (a small
independent replay), not taken from the generator's own summary.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from producers.synth import Mistake, Synth, SynthConfig, write_jsonl
from schemas.admin_units import REFORM_DATE, load
from schemas.models import (
    VIETNAM,
    BirthRegistered,
    Context,
    DeathRegistered,
    DivorceRegistered,
    Event,
    HouseholdEnumerated,
    MaritalStatus,
    MarriageRegistered,
    MovedIn,
    MovedOut,
    MoveKind,
    PersonEnumerated,
    RelationToHead,
    Sex,
    age_on,
)
from schemas.validation import InvalidEvent, event_json, parse_event

UNITS = load()
LATE_NOW = datetime(2029, 1, 1, tzinfo=UTC)  # every event of 2015-2025 is recorded by then
CUT_NOW = datetime(2025, 10, 15, 3, tzinfo=UTC)  # in the last year, after the reform


@dataclass
class Run:
    synth: Synth
    events: list[Event]

    @property
    def mistakes(self) -> dict[object, str]:
        return {m.event_id: m.kind for m in self.synth.mistakes}

    def clean(self) -> Iterator[Event]:
        """The events that tell the true story (every deliberate mistake left out)."""
        wrong = self.mistakes
        seen: set[object] = set()
        for event in self.events:
            event_id = event.envelope.event_id
            if wrong.get(event_id, "duplicate") == "duplicate" and event_id not in seen:
                seen.add(event_id)
                yield event


def run(**changes: object) -> Run:
    settings: dict[str, object] = {
        "province": "96",
        "households": 3000,
        "first_year": 2015,
        "last_year": 2025,
        "seed": 11,
        "now": CUT_NOW,
        "error_rate": 0.01,
    }
    settings.update(changes)
    synth = Synth(SynthConfig(**settings), UNITS)  # type: ignore[arg-type]
    return Run(synth, list(synth.events()))


def lines(events: list[Event]) -> bytes:
    return b"".join(json.dumps(event_json(e), ensure_ascii=False).encode() + b"\n" for e in events)


@pytest.fixture(scope="module")
def small() -> Run:
    return run()


@pytest.fixture(scope="module")
def medium() -> Run:
    """A clean province with the default household size, everything recorded."""
    return run(province="89", households=20000, seed=3, now=LATE_NOW, error_rate=0.0)


# -- validity -------------------------------------------------------------------------


def test_every_event_validates_in_context_except_unknown_communes(small: Run) -> None:
    context = Context(UNITS, now=CUT_NOW)
    wrong = small.mistakes
    rejected = 0
    for event in small.events:
        kind = wrong.get(event.envelope.event_id)
        if kind == "unknown_commune":
            with pytest.raises(InvalidEvent) as caught:
                parse_event(event_json(event), context)
            assert {p.rule for p in caught.value.problems} == {"unknown_commune"}
            rejected += 1
        else:
            assert parse_event(event_json(event), context) == event
    assert rejected > 0


def test_stream_is_in_recorded_order_and_stops_at_now(small: Run) -> None:
    recorded = [e.envelope.recorded_at for e in small.events]
    assert recorded == sorted(recorded)
    assert recorded[-1] <= CUT_NOW
    assert all(r.microsecond % 1000 == 0 and r.utcoffset() == timedelta(0) for r in recorded)
    today = CUT_NOW.astimezone(VIETNAM).date()
    assert max(e.envelope.occurred_on for e in small.events) <= today
    assert any(e.envelope.occurred_on >= REFORM_DATE for e in small.events)
    delays = [
        (e.envelope.recorded_at.astimezone(VIETNAM).date() - e.envelope.occurred_on).days
        for e in small.events
        if isinstance(e, BirthRegistered)
    ]
    assert sorted(delays)[len(delays) // 2] > 3  # births are often weeks late
    assert max(delays) > 365  # and a few years late


def test_baseline_enumerates_every_household_first(small: Run) -> None:
    households = [e for e in small.clean() if isinstance(e, HouseholdEnumerated)]
    assert len(households) == 3000
    first_day = date(2015, 1, 1)
    assert {e.envelope.occurred_on for e in households} == {first_day}
    assert all(e.address.endswith("Tỉnh Cà Mau") for e in households)
    assert len({e.envelope.household_id for e in households}) == 3000
    channels = Counter(e.envelope.channel.value for e in households)
    assert channels["BATCH_IMPORT"] > 0 and channels["MOBILE"] > 0


def test_write_jsonl_lines_parse_back(tmp_path: Path) -> None:
    config = SynthConfig("96", 300, 2015, 2017, 5, LATE_NOW, error_rate=0.0)
    path = tmp_path / "synth.jsonl"
    progress: list[int] = []
    written = write_jsonl(Synth(config, UNITS), path, progress.append)
    rows = path.read_text(encoding="utf-8").splitlines()
    assert written == len(rows) == progress[-1]
    assert "Nguyễn" in path.read_text(encoding="utf-8")  # not \\u-escaped
    context = Context(UNITS, now=LATE_NOW)
    assert all(parse_event(json.loads(row), context) for row in rows)


# -- determinism ----------------------------------------------------------------------


def test_same_config_gives_identical_bytes() -> None:
    config = {"households": 500, "first_year": 2023, "last_year": 2025, "seed": 42}
    first = hashlib.sha256(lines(run(**config).events)).hexdigest()
    assert hashlib.sha256(lines(run(**config).events)).hexdigest() == first
    other = hashlib.sha256(lines(run(**{**config, "seed": 43}).events)).hexdigest()
    assert other != first


def test_mistakes_are_extra_events_only() -> None:
    config = {"households": 400, "first_year": 2020, "last_year": 2025, "seed": 8}
    clean = run(**config, error_rate=0.0)
    dirty = run(**config, error_rate=0.05)
    assert not clean.synth.mistakes
    assert lines(list(dirty.clean())) == lines(clean.events)


# -- deliberate mistakes ---------------------------------------------------------------


def test_mistakes_have_the_asked_share_and_every_kind(small: Run) -> None:
    mistakes: list[Mistake] = small.synth.mistakes
    share = len(mistakes) / len(small.events)
    assert 0.007 < share < 0.013
    kinds = Counter(m.kind for m in mistakes)
    assert kinds["duplicate"] and kinds["unknown_commune"]
    contradictions = {k for k in kinds if k.startswith("contradiction:")}
    assert contradictions == {
        "contradiction:dead_person",
        "contradiction:dead_mother",
        "contradiction:male_mother",
        "contradiction:married_person",
        "contradiction:not_in_household",
    }
    by_id = Counter(e.envelope.event_id for e in small.events)
    duplicated = {m.event_id for m in mistakes if m.kind == "duplicate"}
    assert all(by_id[event_id] == 2 for event_id in duplicated)
    assert small.synth.summary()["mistakes"] == dict(sorted(kinds.items()))


def test_clean_run_has_no_mistakes(medium: Run) -> None:
    assert medium.synth.mistakes == []
    assert len({e.envelope.event_id for e in medium.events}) == len(medium.events)


# -- realism --------------------------------------------------------------------------


@dataclass
class Census:
    """Population counts rebuilt from the events: +1 in, -1 out, per person and day."""

    sex: dict[str, Sex] = field(default_factory=dict)
    birth: dict[str, date] = field(default_factory=dict)
    changes: dict[str, list[tuple[date, int]]] = field(default_factory=lambda: defaultdict(list))

    def enter(self, pid: str, day: date, sex: Sex | None = None, birth: date | None = None) -> None:
        if sex is not None and birth is not None:
            self.sex[pid], self.birth[pid] = sex, birth
        self.changes[pid].append((day, 1))

    def leave(self, pid: str, day: date) -> None:
        self.changes[pid].append((day, -1))

    def present_on(self, day: date) -> list[str]:
        """Persons present at the start of `day`."""
        return [
            pid
            for pid, changes in self.changes.items()
            if sum(step for when, step in changes if when < day) > 0
        ]


def census_of(events: list[Event]) -> Census:
    census = Census()
    for e in events:
        day = e.envelope.occurred_on
        if isinstance(e, PersonEnumerated):
            census.enter(e.person.person_id, day, e.person.sex, e.person.birth_date)
        elif isinstance(e, BirthRegistered):
            census.enter(e.child.person_id, day, e.child.sex, e.child.birth_date)
        elif isinstance(e, MovedIn):
            records = {p.person_id: p for p in e.persons}
            for pid in e.person_ids:
                record = records.get(pid)
                census.enter(pid, day, *((record.sex, record.birth_date) if record else ()))
        elif isinstance(e, DeathRegistered):
            census.leave(e.person_id, day)
        elif isinstance(e, MovedOut):
            for pid in e.person_ids:
                census.leave(pid, day)
    return census


def test_rates_match_vietnam(medium: Run) -> None:
    events = medium.events
    census = census_of(events)
    years = range(2015, 2026)
    population: dict[int, int] = {}
    women: Counter[tuple[int, int]] = Counter()  # (year, 5-year group from 15) on 1 July
    for year in years:
        july = date(year, 7, 1)
        present = census.present_on(july)
        population[year] = len(present)
        for pid in present:
            age = age_on(census.birth[pid], july)
            if census.sex[pid] is Sex.FEMALE and 15 <= age <= 49:
                women[year, (age - 15) // 5] += 1
    count: Counter[tuple[str, int]] = Counter()
    births_by_age: Counter[tuple[int, int]] = Counter()
    for e in events:
        year = e.envelope.occurred_on.year
        count[e.type, year] += 1
        if isinstance(e, BirthRegistered):
            count["male" if e.child.sex is Sex.MALE else "female", year] += 1
            mother_age = age_on(census.birth[e.mother_id], e.envelope.occurred_on)
            births_by_age[year, (mother_age - 15) // 5] += 1
        elif isinstance(e, DeathRegistered) and e.age_at_death == 0:
            count["infant", year] += 1
        elif isinstance(e, MovedOut):
            count["movers", year] += len(e.person_ids)

    def total(kind: str) -> int:
        return sum(count[kind, year] for year in years)

    people = sum(population.values())
    per_mille = {
        "cbr": 1000 * total("BirthRegistered") / people,
        "cdr": 1000 * total("DeathRegistered") / people,
        "cmr": 1000 * total("MarriageRegistered") / people,
        "divorce": 1000 * total("DivorceRegistered") / people,
    }
    assert per_mille["cbr"] == pytest.approx(15, abs=2)
    assert per_mille["cdr"] == pytest.approx(6.5, abs=1.5)
    assert per_mille["cmr"] == pytest.approx(7, abs=1.5)
    assert per_mille["divorce"] == pytest.approx(0.6, abs=0.3)
    assert 100 * total("male") / total("female") == pytest.approx(111, abs=6)
    assert 1000 * total("infant") / total("BirthRegistered") == pytest.approx(13, abs=5)
    tfr = (
        5
        * sum(births_by_age[year, g] / women[year, g] for year in years for g in range(7))
        / len(years)
    )
    assert tfr == pytest.approx(1.9, abs=0.25)
    for year in years:  # yearly rates are noisier: wider bands
        assert 1000 * count["BirthRegistered", year] / population[year] == pytest.approx(15, abs=3)
        assert 1000 * count["DeathRegistered", year] / population[year] == pytest.approx(6.5, abs=2)
        assert 0.01 <= count["movers", year] / population[year] <= 0.06
    enumerated = Counter(type(e) for e in events if e.envelope.occurred_on == date(2015, 1, 1))
    size = enumerated[PersonEnumerated] / enumerated[HouseholdEnumerated]
    assert size == pytest.approx(3.6, abs=0.15)


def test_cà_mau_households_are_larger(small: Run) -> None:
    enumerated = Counter(type(e) for e in small.events if e.envelope.occurred_on.year == 2015)
    persons = [e.person for e in small.clean() if isinstance(e, PersonEnumerated)]
    assert len(persons) / enumerated[HouseholdEnumerated] == pytest.approx(4.5, abs=0.15)
    start = date(2015, 1, 1)
    ages = [age_on(p.birth_date, start) for p in persons]
    assert sum(a < 15 for a in ages) / len(ages) == pytest.approx(0.24, abs=0.03)
    assert sum(a >= 65 for a in ages) / len(ages) == pytest.approx(0.08, abs=0.02)
    ethnicity = Counter(p.ethnicity for p in persons)
    assert ethnicity.most_common(1)[0][0] == "01" and ethnicity["05"] > 0
    adults = [p for p in persons if age_on(p.birth_date, start) >= 18]
    assert sum(p.national_id is not None for p in adults) / len(adults) > 0.85
    families = Counter(p.full_name.split()[0] for p in persons)
    assert families.most_common(1)[0][0] == "Nguyễn"


# -- consistency ----------------------------------------------------------------------


@dataclass
class Resident:
    sex: Sex
    birth: date
    household: str
    married: bool
    couple: str | None = None  # baseline couples are not linked: the group to find the spouse in
    spouse: str | None = None
    alive: bool = True
    here: bool = True
    births: int = 0


class Registry:
    """What a registry knows, folded from the events in publication order."""

    def __init__(self) -> None:
        self.people: dict[str, Resident] = {}
        self.couples: dict[str, list[str]] = defaultdict(list)

    def usable(self, pid: str) -> Resident:
        person = self.people[pid]
        assert person.alive and person.here, pid
        return person

    def spouse_of(self, pid: str) -> str | None:
        """The baseline names no spouses: a married head and spouse, or a married child
        and child-in-law, of one household are a couple."""
        person = self.people[pid]
        if person.spouse is None and person.couple is not None:
            partners = [q for q in self.couples[person.couple] if q != pid]
            assert len(partners) == 1, (pid, partners)
            person.spouse, self.people[partners[0]].spouse = partners[0], pid
            person.couple = self.people[partners[0]].couple = None
        return person.spouse

    def enumerate(self, e: PersonEnumerated) -> None:
        p, household = e.person, e.envelope.household_id
        married = p.marital_status is MaritalStatus.MARRIED
        assert p.person_id not in self.people
        resident = Resident(p.sex, p.birth_date, household, married)
        if married:
            top = e.relation_to_head in (RelationToHead.HEAD, RelationToHead.SPOUSE)
            resident.couple = f"{household}:{'top' if top else 'child'}"
            self.couples[resident.couple].append(p.person_id)
        elif e.relation_to_head is RelationToHead.SPOUSE:
            pytest.fail(f"unmarried spouse {p.person_id}")
        if age_on(p.birth_date, e.envelope.occurred_on) < 15:
            assert p.marital_status is MaritalStatus.NEVER_MARRIED
        self.people[p.person_id] = resident

    def birth(self, e: BirthRegistered) -> None:
        day, household = e.envelope.occurred_on, e.envelope.household_id
        mother = self.usable(e.mother_id)
        assert mother.sex is Sex.FEMALE
        assert 15 <= age_on(mother.birth, day) <= 49
        assert mother.household == household
        assert e.birth_order > mother.births
        mother.births = e.birth_order
        if e.father_id is not None:
            assert self.usable(e.father_id).sex is Sex.MALE
            assert self.spouse_of(e.mother_id) == e.father_id
        self.people[e.child.person_id] = Resident(e.child.sex, day, household, False)

    def death(self, e: DeathRegistered) -> None:
        person = self.usable(e.person_id)
        assert person.household == e.envelope.household_id
        assert e.age_at_death == age_on(person.birth, e.envelope.occurred_on)
        spouse = self.spouse_of(e.person_id) if person.married else None
        person.alive = False
        if spouse is not None:
            widow = self.people[spouse]
            widow.married, widow.spouse = False, None

    def marriage(self, e: MarriageRegistered) -> None:
        a, b = self.usable(e.spouse_a_id), self.usable(e.spouse_b_id)
        assert not a.married and not b.married
        assert {a.sex, b.sex} == {Sex.MALE, Sex.FEMALE}
        day = e.envelope.occurred_on
        for spouse in (a, b):
            assert age_on(spouse.birth, day) >= (18 if spouse.sex is Sex.FEMALE else 20)
        assert e.household_after in (a.household, b.household)
        assert e.envelope.household_id == e.household_after
        a.married = b.married = True
        a.spouse, b.spouse = e.spouse_b_id, e.spouse_a_id
        a.household = b.household = e.household_after

    def divorce(self, e: DivorceRegistered) -> None:
        a, b = self.usable(e.spouse_a_id), self.usable(e.spouse_b_id)
        assert a.married and self.spouse_of(e.spouse_a_id) == e.spouse_b_id
        a.married = b.married = False
        a.spouse = b.spouse = None

    def moved_out(self, e: MovedOut) -> None:
        for pid in e.person_ids:
            person = self.usable(pid)
            assert person.household == e.envelope.household_id
            person.here = False

    def moved_in(self, e: MovedIn) -> None:
        if e.origin is MoveKind.ANOTHER_COMMUNE:
            assert e.origin_commune_code != e.envelope.commune_code
        records = {p.person_id: p for p in e.persons}
        for pid in e.person_ids:
            record = records.get(pid)
            if record is not None:
                assert pid not in self.people
                married = record.marital_status is MaritalStatus.MARRIED
                self.people[pid] = Resident(record.sex, record.birth_date, "", married)
            else:
                person = self.people[pid]
                assert person.alive and not person.here, pid
            self.people[pid].here = True
            self.people[pid].household = e.envelope.household_id
        couple = [pid for pid in records if self.people[pid].married]
        if couple:
            a, b = couple
            self.people[a].spouse, self.people[b].spouse = b, a


def test_history_is_consistent(small: Run) -> None:
    """Replay the true events in publication order, as a registry would."""
    registry = Registry()
    communes: dict[str, str] = {}  # household -> its commune before the reform
    folds = {
        PersonEnumerated: registry.enumerate,
        BirthRegistered: registry.birth,
        DeathRegistered: registry.death,
        MarriageRegistered: registry.marriage,
        DivorceRegistered: registry.divorce,
        MovedOut: registry.moved_out,
        MovedIn: registry.moved_in,
    }
    reformed = 0
    for e in small.clean():
        envelope = e.envelope
        if envelope.occurred_on < REFORM_DATE:
            communes.setdefault(envelope.household_id, envelope.commune_code)
        elif envelope.household_id in communes:
            old = communes[envelope.household_id]
            assert envelope.commune_code in {link.new_code for link in UNITS.successors(old)}
            reformed += 1
        fold = folds.get(type(e))
        if fold is not None:
            fold(e)  # type: ignore[operator]
    assert reformed > 0
    assert sum(not p.alive for p in registry.people.values()) > 100
    assert sum(not p.here for p in registry.people.values()) > 100


def test_summary_matches_the_stream(small: Run) -> None:
    summary = small.synth.summary()
    assert summary["events"] == dict(sorted(Counter(e.type for e in small.events).items()))
    assert summary["events_total"] == len(small.events)
    assert summary["households_at_baseline"] == 3000
    assert summary["mean_household_size_at_baseline"] == pytest.approx(4.5, abs=0.15)
    rates = summary["rates"]["2020"]
    assert {"cbr", "cdr", "srb", "tfr", "imr", "cmr", "divorce_rate"} <= set(rates)


def test_events_can_be_read_once() -> None:
    synth = Synth(SynthConfig("96", 50, 2024, 2024, 1, LATE_NOW), UNITS)
    with pytest.raises(RuntimeError):
        synth.summary()
    list(synth.events())
    with pytest.raises(RuntimeError):
        list(synth.events())


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        SynthConfig("9", 10, 2015, 2016, 1, LATE_NOW)
    with pytest.raises(ValueError):
        SynthConfig("96", 10, 2015, 2016, 1, datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Synth(SynthConfig("00", 10, 2015, 2016, 1, LATE_NOW), UNITS)
