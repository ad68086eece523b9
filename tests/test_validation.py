"""Every validation rule names the field and the rule (pure: no stack)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.admin_units import load
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
        with_person("PersonEnumerated", "person", birth_date="1900-01-01", national_id=None),
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


# --- text and dates: one form, no characters a store or a log line cannot hold ---------

FORBIDDEN_TEXT = {
    "NUL": "Nguyễn\x00Văn",
    "tab": "Nguyễn\tVăn",
    "newline": "Nguyễn\nVăn",
    "escape": "Nguyễn\x1b[31m",
    "right-to-left override": "Nguyễn\u202eVăn",
    "zero-width space": "Nguyễn\u200bVăn",
    "lone surrogate": "Nguyễn\ud800",
    "private use": "Nguyễn\ue000",
    "line separator": "Nguyễn\u2028Văn",
}


@pytest.mark.parametrize("what", sorted(FORBIDDEN_TEXT))
def test_a_name_with_a_forbidden_character_is_refused(what: str) -> None:
    data = with_person("PersonEnumerated", "person", full_name=FORBIDDEN_TEXT[what])
    assert problems(data) == [("person.full_name", "control_character")]


@pytest.mark.parametrize(
    ("name", "key", "field"),
    [
        ("HouseholdEnumerated", None, "address"),
        ("EventVoided", None, "reason"),
        ("DeathRegistered", "envelope", "source_system"),
    ],
)
def test_every_free_text_field_refuses_nul(name: str, key: str | None, field: str) -> None:
    data = sample(name)
    (data[key] if key else data)[field] = "a\x00b"
    where = f"{key}.{field}" if key else field
    assert problems(data) == [(where, "control_character")]


def test_a_corrected_field_with_a_control_character_is_refused() -> None:
    data = sample("EventAmended")
    data["corrected_fields"] = {"person.full_name\x00": '"x"'}
    assert ("corrected_fields", "control_character") in problems(data)


def test_an_amendment_to_a_name_with_nul_is_refused_when_applied() -> None:
    from projections.domain.history import InvalidAmendment, amended

    target = parse_event(sample("PersonEnumerated"))
    fix = sample("EventAmended")
    fix["target_event_id"] = str(target.envelope.event_id)
    fix["corrected_fields"] = {"person.full_name": '"Nguy\\u0000n"'}
    with pytest.raises(InvalidAmendment, match="control_character"):
        amended(target, parse_event(fix))  # type: ignore[arg-type]


def test_composed_and_decomposed_vietnamese_are_one_name() -> None:
    composed = with_person("PersonEnumerated", "person", full_name="Nguyễn Thị Ánh")
    decomposed = with_person(
        "PersonEnumerated", "person", full_name="Nguye\u0302\u0303n Thi\u0323 A\u0301nh"
    )
    a, b = parse_event(composed, CONTEXT), parse_event(decomposed, CONTEXT)
    assert a.person.full_name == b.person.full_name == "Nguyễn Thị Ánh"  # type: ignore[union-attr]


def test_spaces_of_any_kind_read_as_one_space() -> None:
    data = with_person("PersonEnumerated", "person", full_name="  Lê\u00a0\u00a0Văn\u3000Tám ")
    assert parse_event(data, CONTEXT).person.full_name == "Lê Văn Tám"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("occurred_on", 1764547200, "date_format"),
        ("occurred_on", 1764547200.0, "date_format"),
        ("occurred_on", "2024-03-01T00:00:00", "date_format"),
        ("occurred_on", "20240301", "date_format"),
        ("recorded_at", 1764547200, "timestamp_format"),
        ("recorded_at", "1764547200", "timestamp_format"),
        ("recorded_at", True, "timestamp_format"),
    ],
)
def test_dates_are_iso_strings_only(field: str, value: Any, rule: str) -> None:
    assert problems(with_envelope("DeathRegistered", **{field: value})) == [
        (f"envelope.{field}", rule)
    ]


def test_a_refusal_quotes_the_input_printably() -> None:
    data = with_envelope("DeathRegistered", commune_code="3\x0020")
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data, CONTEXT)
    message = str(caught.value)
    assert "\\u0000" in message
    assert "\x00" not in message


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("occurred_on", "1899-12-31", "date_out_of_range"),
        ("recorded_at", "1850-01-01T00:00:00Z", "date_out_of_range"),
        # year 1 and 9999 with an offset: converting to UTC would overflow
        ("recorded_at", "0001-01-01T00:00:00+07:00", "date_out_of_range"),
        ("recorded_at", "9999-12-31T23:59:59-07:00", "date_out_of_range"),
    ],
)
def test_dates_outside_1900_to_2299_are_refused_without_a_clock(
    field: str, value: str, rule: str
) -> None:
    assert (f"envelope.{field}", rule) in problems(
        with_envelope("DeathRegistered", **{field: value}), None
    )
