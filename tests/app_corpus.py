"""Events valid and invalid in every way the server's rules know, for holding the
collaborators' app's JavaScript validator to the server's (tests/test_collaborator_app.py):
every sample event of tests/samples.py, then each with one or a few things broken."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from schemas.admin_units import load
from schemas.models import Context
from schemas.validation import InvalidEvent, parse_event
from tests.samples import SAMPLES

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
"""The present both validators are given (the server's Context, the app's `now`)."""

Event = dict[str, Any]
Change = Callable[[Event], Any]


def server_problems(event: Any) -> list[tuple[str, str]]:
    """The gateway's verdict: (field, rule) of each broken rule, [] when valid."""
    try:
        parse_event(event, Context(load(), now=NOW))
    except InvalidEvent as error:
        return sorted((p.field, p.rule) for p in error.problems)
    return []


def _env(**values: Any) -> Change:
    return lambda e: e["envelope"].update(values)


def _set(**values: Any) -> Change:
    return lambda e: e.update(values)


def _in(key: str, **values: Any) -> Change:
    return lambda e: e[key].update(values)


def _drop(*path: str) -> Change:
    def change(e: Event) -> None:
        node = e
        for part in path[:-1]:
            node = node[part]
        node.pop(path[-1])

    return change


def _own_id(e: Event) -> Any:
    return e["envelope"]["event_id"]


def _person(pid: str, **values: Any) -> dict[str, Any]:
    found = {
        "person_id": pid,
        "full_name": "Lê Văn Bình",
        "sex": "MALE",
        "birth_date": "1985-02-03",
        "ethnicity": "01",
        "national_id": None,
        "marital_status": "MARRIED",
    }
    return {**found, **values}


ANY = ""  # a change that applies to every type of event
CHANGES: list[tuple[str, str, Change]] = [
    # the envelope, on every type
    (ANY, "event_id not a uuid", _env(event_id="abc")),
    (ANY, "event_id braced", _env(event_id="{12345678-1234-1234-1234-123456789012}")),
    (ANY, "event_id simple", _env(event_id="123456781234123412341234567890ab")),
    (ANY, "event_id null", _env(event_id=None)),
    (ANY, "occurred_on 30 February", _env(occurred_on="2024-02-30")),
    (ANY, "occurred_on month 13", _env(occurred_on="2024-13-01")),
    (ANY, "occurred_on year 0", _env(occurred_on="0000-01-01")),
    (ANY, "occurred_on 1899", _env(occurred_on="1899-12-31")),
    (ANY, "occurred_on tomorrow", _env(occurred_on="2026-12-08")),
    (ANY, "occurred_on empty", _env(occurred_on="")),
    (ANY, "occurred_on slashes", _env(occurred_on="01/03/2024")),
    (ANY, "occurred_on an integer", _env(occurred_on=1764547200)),
    (ANY, "occurred_on after recorded_at", _env(occurred_on="2026-01-01")),
    (ANY, "recorded_at no offset", _env(recorded_at="2024-01-01T09:00:00")),
    (ANY, "recorded_at hour 25", _env(recorded_at="2024-01-01T25:00:00Z")),
    (ANY, "recorded_at +07", _env(recorded_at="2024-01-01T09:00:00+07")),
    (ANY, "recorded_at +0700", _env(recorded_at="2024-09-03T09:00:00+0700")),
    (ANY, "recorded_at before occurred (Vietnam day)",
     _env(recorded_at="2023-12-31T09:00:00+07:00")),
    (ANY, "recorded_at in the future", _env(recorded_at="2026-12-07T09:00:00Z")),
    (ANY, "recorded_at within the clock skew", _env(recorded_at="2026-12-07T08:04:00Z")),
    (ANY, "recorded_at a date", _env(recorded_at="2024-09-03")),
    (ANY, "commune_code 4 digits", _env(commune_code="3201")),
    (ANY, "commune_code a number", _env(commune_code=32014)),
    (ANY, "commune_code unknown", _env(commune_code="99999")),
    (ANY, "commune_code gone after the reform",
     _env(commune_code="32008", occurred_on="2025-08-01", recorded_at="2025-08-01T03:00:00Z")),
    (ANY, "household_id with a space", _env(household_id="H 1")),
    (ANY, "household_id empty", _env(household_id="")),
    (ANY, "reporter_id too long", _env(reporter_id="x" * 65)),
    (ANY, "channel unknown", _env(channel="PIGEON")),
    (ANY, "channel missing", _drop("envelope", "channel")),
    (ANY, "source_system blank", _env(source_system="   ")),
    (ANY, "source_system with a tab", _env(source_system="a\tb")),
    (ANY, "schema_version 0", _env(schema_version=0)),
    (ANY, "schema_version default", _drop("envelope", "schema_version")),
    (ANY, "envelope extra field", _env(extra=1)),
    (ANY, "envelope null", _set(envelope=None)),
    (ANY, "extra field", _set(colour="blue")),
    (ANY, "unknown type", _set(type="Nope")),
    (ANY, "no type", _drop("type")),
    (ANY, "two envelope fields broken", _env(channel="X", commune_code="1")),
    # households
    ("HouseholdEnumerated", "address blank", _set(address="   ")),
    ("HouseholdEnumerated", "address 201 characters", _set(address="a" * 201)),
    ("HouseholdEnumerated", "address spaced out to 200", _set(address="  " + "ă" * 200 + "  ")),
    ("HouseholdEnumerated", "address decomposed diacritics", _set(address="A\u0306p 3")),
    ("HouseholdEnumerated", "address zero-width space", _set(address="Ấp\u200b3")),
    ("HouseholdEnumerated", "address NUL", _set(address="Ấp\u00003")),
    ("HouseholdEnumerated", "address private use", _set(address="Ấp \ue000")),
    ("HouseholdEnumerated", "address null", _set(address=None)),
    ("HouseholdEnumerated", "head_person_id pattern", _set(head_person_id="P/1")),
    ("HouseholdEnumerated", "head_person_id 90 chars", _set(head_person_id="a b" * 30)),
    ("HouseholdEnumerated", "member_count 0", _set(member_count=0)),
    ("HouseholdEnumerated", "member_count 51", _set(member_count=51)),
    ("HouseholdEnumerated", "member_count '3'", _set(member_count="3")),
    ("HouseholdEnumerated", "member_count 3.5", _set(member_count=3.5)),
    ("HouseholdEnumerated", "member_count 'x'", _set(member_count="x")),
    ("HouseholdEnumerated", "member_count null", _set(member_count=None)),
    ("HouseholdEnumerated", "member_count missing", _drop("member_count")),
    # persons
    ("PersonEnumerated", "national_id of another year", _in("person", national_id="096290012345")),
    ("PersonEnumerated", "national_id of the other sex", _in("person", sex="MALE")),
    ("PersonEnumerated", "national_id, sex unknown", _in("person", sex="UNKNOWN")),
    ("PersonEnumerated", "national_id century digit 6", _in("person", national_id="096690012345")),
    ("PersonEnumerated", "national_id 11 digits", _in("person", national_id="09619001234")),
    ("PersonEnumerated", "national_id letters", _in("person", national_id="09619001234a")),
    ("PersonEnumerated", "ethnicity one digit", _in("person", ethnicity="1")),
    ("PersonEnumerated", "marital status unknown word", _in("person", marital_status="SINGLE")),
    ("PersonEnumerated", "sex null", _in("person", sex=None)),
    ("PersonEnumerated", "full_name bidi override", _in("person", full_name="An\u202eh")),
    ("PersonEnumerated", "full_name empty", _in("person", full_name="")),
    ("PersonEnumerated", "spouse is the person", _set(spouse_id="P96-0000002")),
    ("PersonEnumerated", "spouse but widowed", _in("person", marital_status="WIDOWED")),
    ("PersonEnumerated", "spouse none, widowed", lambda e: (e.update(spouse_id=None),
                                                         e["person"].update(marital_status="WIDOWED"))),
    ("PersonEnumerated", "born after the event",
     _in("person", birth_date="2024-01-02", national_id=None)),
    ("PersonEnumerated", "born 1900, over 120",
     _in("person", birth_date="1900-01-01", national_id=None)),
    ("PersonEnumerated", "born 1900 and a national id", _in("person", birth_date="1900-01-01")),
    ("PersonEnumerated", "relation unknown and a name broken",
     lambda e: (e.update(relation_to_head="X"), e["person"].update(full_name="A\u200bB"))),
    ("PersonEnumerated", "person missing fields", _set(person={"person_id": "X"})),
    # births
    ("BirthRegistered", "child born another day", _in("child", birth_date="2024-03-02")),
    ("BirthRegistered", "married newborn", _in("child", marital_status="MARRIED")),
    ("BirthRegistered", "married newborn, also her own mother",
     _in("child", marital_status="MARRIED", person_id="P96-0000002")),
    ("BirthRegistered", "child is the father", _set(father_id="P96-0000004")),
    ("BirthRegistered", "no father", _set(father_id=None)),
    ("BirthRegistered", "birth order 0", _set(birth_order=0)),
    ("BirthRegistered", "birth order 21", _set(birth_order=21)),
    ("BirthRegistered", "birth order '2'", _set(birth_order="2")),
    ("BirthRegistered", "mother missing", _drop("mother_id")),
    ("BirthRegistered", "child tomorrow", lambda e: (e["child"].update(birth_date="2026-12-08"),
                                                      e["envelope"].update(occurred_on="2026-12-08"))),
    # deaths
    ("DeathRegistered", "death another day", _set(date_of_death="2024-04-03")),
    ("DeathRegistered", "age 121", _set(age_at_death=121)),
    ("DeathRegistered", "age -1", _set(age_at_death=-1)),
    ("DeathRegistered", "age 121 and another day",
     _set(age_at_death=121, date_of_death="2024-04-03")),
    ("DeathRegistered", "place unknown word", _set(place="STREET")),
    # marriages and divorces
    ("MarriageRegistered", "marrying oneself", lambda e: e.update(spouse_b_id=e["spouse_a_id"])),
    ("MarriageRegistered", "marriage another day", _set(marriage_date="2024-05-02")),
    ("MarriageRegistered", "household_after blank", _set(household_after="")),
    ("DivorceRegistered", "divorcing oneself", lambda e: e.update(spouse_b_id=e["spouse_a_id"])),
    ("DivorceRegistered", "divorce another day", _set(divorce_date="2099-01-01")),
    # moves
    ("MovedIn", "no persons listed", _set(person_ids=[])),
    ("MovedIn", "person_ids not a list", _set(person_ids="P1")),
    ("MovedIn", "a person twice", _set(person_ids=["a", "a"])),
    ("MovedIn", "bad ids in the list", _set(person_ids=["a b", ""])),
    ("MovedIn", "51 persons", _set(person_ids=[f"p{i}" for i in range(51)])),
    ("MovedIn", "abroad with a commune", _set(origin="ABROAD")),
    ("MovedIn", "another commune without one", _set(origin_commune_code=None)),
    ("MovedIn", "abroad, no commune", _set(origin="ABROAD", origin_commune_code=None)),
    ("MovedIn", "origin commune unknown", _set(origin_commune_code="99999")),
    ("MovedIn", "origin commune 4 digits", _set(origin_commune_code="9999")),
    ("MovedIn", "an unlisted person", lambda e: e["persons"].append(_person("P-OTHER"))),
    ("MovedIn", "a person born after the move",
     lambda e: e["persons"].__setitem__(0, {**e["persons"][0], "birth_date": "2025-01-01"})),
    ("MovedIn", "a person with missing fields", _set(persons=[{"person_id": "X"}])),
    ("MovedIn", "no persons array", _drop("persons")),
    ("MovedOut", "abroad with a commune", lambda e: e.update(destination="ABROAD",
                                                          destination_commune_code="32014")),
    ("MovedOut", "a person twice", lambda e: e.update(person_ids=e["person_ids"] * 2)),
    # corrections
    ("EventVoided", "voiding itself", lambda e: e.update(target_event_id=_own_id(e))),
    ("EventVoided", "target not a uuid", _set(target_event_id="x")),
    ("EventVoided", "reason blank", _set(reason=" ")),
    ("EventAmended", "amending itself", lambda e: e.update(target_event_id=_own_id(e))),
    ("EventAmended", "nothing corrected", _set(corrected_fields={})),
    ("EventAmended", "an envelope field", _set(corrected_fields={"envelope.household_id": '"H2"'})),
    ("EventAmended", "not JSON", _set(corrected_fields={"child.full_name": "Lan"})),
    ("EventAmended", "NaN is JSON to Python", _set(corrected_fields={"age_at_death": "NaN"})),
    ("EventAmended", "a value not text", _set(corrected_fields={"a": 3, "b": '"x"'})),
    ("EventAmended", "a control character in a path", _set(corrected_fields={"a\u0007": "1"})),
    ("EventAmended", "corrected_fields a list", _set(corrected_fields=["a"])),
    ("EventAmended", "several broken, the first reported",
     _set(corrected_fields={"envelope.channel": '"WEB"', "x": "nope"})),
]  # fmt: skip


def corpus() -> Iterator[tuple[str, Any]]:
    """(label, event): each sample as it is, then each change that applies to it."""
    yield "not an object", ["an", "array"]
    for name, sample in SAMPLES.items():
        yield f"{name} as sampled", copy.deepcopy(sample)
        for applies, label, change in CHANGES:
            if applies in (ANY, name):
                event = copy.deepcopy(sample)
                change(event)
                yield f"{name}: {label}", event
