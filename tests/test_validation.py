"""Every validation rule names the field and the rule (pure: no stack)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from projections.admin_units import load
from schemas.models import Context
from schemas.validation import InvalidEvent, Problem, parse_event
from tests.samples import SAMPLES, sample

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
CONTEXT = Context(load(), NOW)


def problems(data: dict[str, Any], context: Context | None = CONTEXT) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data, context)
    return [(p.field, p.rule) for p in caught.value.problems]


def with_envelope(name: str, **changes: Any) -> dict[str, Any]:
    data = sample(name)
    data["envelope"].update(changes)
    return data


def with_person(name: str, key: str, **changes: Any) -> dict[str, Any]:
    data = sample(name)
    data[key].update(changes)
    return data


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_valid(name: str) -> None:
    assert parse_event(SAMPLES[name], CONTEXT).type == name


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("unknown type", {"type": "Baptism"}, [("type", "unknown_type")]),
    ("no type", {"envelope": {}}, [("type", "missing")]),
    (
        "commune unknown before the reform",
        with_envelope("DeathRegistered", commune_code="99999"),
        [("envelope.commune_code", "unknown_commune")],
    ),
    (
        "old commune code after the reform",
        {
            **sample("EventVoided"),
            "envelope": {
                **sample("EventVoided")["envelope"],
                "occurred_on": "2025-08-01",
                "recorded_at": "2025-08-02T00:00:00Z",
                "commune_code": "32017",  # merged away on 2025-07-01, code not reused
            },
        },
        [("envelope.commune_code", "unknown_commune")],
    ),
    (
        "commune code format",
        with_envelope("DeathRegistered", commune_code="3201"),
        [("envelope.commune_code", "commune_code_format")],
    ),
    (
        "future occurrence",
        with_envelope("EventVoided", occurred_on="2026-12-01", recorded_at="2026-12-01T00:00:00Z"),
        [("envelope.occurred_on", "future_date"), ("envelope.recorded_at", "future_timestamp")],
    ),
    (
        "recorded before it occurred",
        with_envelope("EventVoided", recorded_at="2024-08-31T10:00:00Z"),
        [("envelope", "recorded_before_occurred")],
    ),
    (
        "timestamp without offset",
        with_envelope("EventVoided", recorded_at="2024-09-02T10:00:00"),
        [("envelope.recorded_at", "timezone_required")],
    ),
    (
        "bad event id",
        with_envelope("EventVoided", event_id="not-a-uuid"),
        [("envelope.event_id", "uuid_parsing")],
    ),
    (
        "unknown channel",
        with_envelope("EventVoided", channel="FAX"),
        [("envelope.channel", "enum")],
    ),
    (
        "national id format",
        with_person("PersonEnumerated", "person", national_id="12345"),
        [("person.national_id", "national_id_format")],
    ),
    (
        "national id of another birth year",
        with_person("PersonEnumerated", "person", national_id="096191012345"),
        [("person", "national_id_mismatch")],
    ),
    (
        "national id of the other sex",
        with_person("PersonEnumerated", "person", national_id="096090012345"),
        [("person", "national_id_mismatch")],
    ),
    (
        "too old",
        with_person("PersonEnumerated", "person", birth_date="1890-01-01", national_id=None),
        [("", "implausible_age")],
    ),
    (
        "born after the enumeration",
        with_person("PersonEnumerated", "person", birth_date="2024-02-01", national_id=None),
        [("", "born_after_event")],
    ),
    (
        "child born on another day",
        with_person("BirthRegistered", "child", birth_date="2024-02-01"),
        [("", "date_mismatch")],
    ),
    (
        "birth order",
        sample("BirthRegistered", birth_order=0),
        [("birth_order", "greater_than_equal")],
    ),
    (
        "mother is the child",
        sample("BirthRegistered", mother_id="P96-0000004"),
        [("", "same_person")],
    ),
    (
        "age at death",
        sample("DeathRegistered", age_at_death=140),
        [("age_at_death", "less_than_equal")],
    ),
    (
        "marriage with oneself",
        sample("MarriageRegistered", spouse_b_id="P96-0000010"),
        [("", "same_person")],
    ),
    (
        "move from another commune without its code",
        sample("MovedIn", origin_commune_code=None),
        [("", "move_place_mismatch")],
    ),
    (
        "move from a commune that does not exist",
        sample("MovedIn", origin_commune_code="99998"),
        [("", "unknown_commune")],
    ),
    (
        "person details not listed",
        sample("MovedIn", person_ids=["P96-0000030"]),
        [("", "unlisted_person")],
    ),
    ("nobody moves", sample("MovedOut", person_ids=[]), [("person_ids", "too_short")]),
    (
        "a person twice",
        sample("MovedOut", person_ids=["P96-0000030", "P96-0000030"]),
        [("", "duplicate_person")],
    ),
    (
        "void of itself",
        sample("EventVoided", target_event_id=SAMPLES["EventVoided"]["envelope"]["event_id"]),
        [("", "self_reference")],
    ),
    (
        "amend the event id",
        sample("EventAmended", corrected_fields={"envelope.event_id": '"x"'}),
        [("corrected_fields", "immutable_field")],
    ),
    (
        "amend with non-JSON",
        sample("EventAmended", corrected_fields={"child.full_name": "Lan"}),
        [("corrected_fields", "invalid_json")],
    ),
    ("unknown field", sample("DeathRegistered", cause="x"), [("cause", "extra_forbidden")]),
    ("missing field", sample("DeathRegistered", place=None), [("place", "enum")]),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(data) == expected


def test_every_problem_is_reported_at_once() -> None:
    data = with_envelope("DeathRegistered", commune_code="1", channel="FAX")
    data["age_at_death"] = -1
    assert len(problems(data)) == 3


def test_dates_compare_in_vietnam_time() -> None:
    """23:00 UTC on 31 August is already 1 September in Vietnam (UTC+7)."""
    data = with_envelope("EventVoided", recorded_at="2024-08-31T23:00:00Z")
    assert parse_event(data, CONTEXT).envelope.occurred_on.isoformat() == "2024-09-01"


def test_rules_of_the_world_need_a_context() -> None:
    """Decoding an archived event must not depend on today's tables or clock."""
    data = with_envelope("DeathRegistered", commune_code="99999")
    assert parse_event(data, None).envelope.commune_code == "99999"


def test_a_problem_reads_well() -> None:
    problem = Problem("envelope.commune_code", "unknown_commune", "commune 99999 ...")
    assert str(problem) == "envelope.commune_code: commune 99999 ... [unknown_commune]"
