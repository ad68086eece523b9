"""Pydantic models of the Avro contract in `schemas/avro/`, with its validation rules.

One model per Avro record, fields in the same order, names and types
(`tests/test_models_match_schemas.py` proves it). Each event model has a `type`
field holding its Avro record name: it is the tag of the JSON shape that
`popreg publish`, the gateway and `popreg synth` share, and it is not written to
Avro (the writer schema names the type).

Rules that need the world (does this commune exist on that date? is this date in
the future?) read a `Context` passed as pydantic validation context; without one
they are skipped, so decoding an archived event never depends on today's date.
Every rule raises an error whose type is a stable rule code (`future_date`,
`unknown_commune`, ...), so callers report field + rule + message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.admin_units import AdminUnits
from schemas.text import clean_text, iso_date, iso_instant, refuse_forbidden

VIETNAM = timezone(timedelta(hours=7), "ICT")
MAX_AGE = 120
CLOCK_SKEW = timedelta(minutes=5)
# First digit pair of the century digit in a 12-digit citizen ID (Circular 59/2021):
# 0/1 for men/women born 1900-1999, 2/3 for 2000-2099, 4/5 for 2100-2199.
_CENTURY_BASE = {0: 1900, 2: 2000, 4: 2100}


class Channel(StrEnum):
    MOBILE = "MOBILE"
    WEB = "WEB"
    BATCH_IMPORT = "BATCH_IMPORT"
    REGISTRY_SYNC = "REGISTRY_SYNC"
    OTHER = "OTHER"


class Sex(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


class MaritalStatus(StrEnum):
    NEVER_MARRIED = "NEVER_MARRIED"
    MARRIED = "MARRIED"
    DIVORCED = "DIVORCED"
    WIDOWED = "WIDOWED"
    SEPARATED = "SEPARATED"
    UNKNOWN = "UNKNOWN"


class RelationToHead(StrEnum):
    HEAD = "HEAD"
    SPOUSE = "SPOUSE"
    CHILD = "CHILD"
    PARENT = "PARENT"
    GRANDCHILD = "GRANDCHILD"
    SIBLING = "SIBLING"
    OTHER_RELATIVE = "OTHER_RELATIVE"
    NON_RELATIVE = "NON_RELATIVE"
    UNKNOWN = "UNKNOWN"


class PlaceOfDeath(StrEnum):
    HOME = "HOME"
    HEALTH_FACILITY = "HEALTH_FACILITY"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class MoveKind(StrEnum):
    ANOTHER_COMMUNE = "ANOTHER_COMMUNE"
    ABROAD = "ABROAD"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Context:
    """What validation needs from the world: the unit tables and the present."""

    units: AdminUnits
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def today(self) -> date:
        return self.now.astimezone(VIETNAM).date()


def rule(kind: str, message: str, **values: Any) -> PydanticCustomError:
    """A broken rule; `kind` is the stable code reported with the field."""
    return PydanticCustomError(kind, message, values)


def context_of(info: ValidationInfo) -> Context | None:
    found = info.context.get("popreg") if isinstance(info.context, dict) else None
    return found if isinstance(found, Context) else None


def _millis(value: datetime) -> datetime:
    """Avro keeps milliseconds in UTC: truncate so a model survives a round trip."""
    if value.tzinfo is None:
        raise rule("timezone_required", "a timestamp needs a UTC offset, e.g. 2025-01-31T09:00:00Z")
    _in_range(value.date())  # first: converting year 1 or 9999 would overflow
    utc = value.astimezone(UTC)
    _in_range(utc.date())
    return utc.replace(microsecond=value.microsecond // 1000 * 1000)


# Free text in its one form (schemas/text.py), then its length.
Text = Annotated[str, AfterValidator(clean_text), StringConstraints(min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _digits(count: int, kind: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) != count or not value.isascii() or not value.isdigit():
            raise rule(kind, "'{value}' is not {count} digits", value=value, count=count)
        return value

    return AfterValidator(check)


CommuneCode = Annotated[str, _digits(5, "commune_code_format")]
ProvinceCode = Annotated[str, _digits(2, "province_code_format")]
NationalId = Annotated[str, _digits(12, "national_id_format")]
EthnicityCode = Annotated[str, _digits(2, "ethnicity_format")]
Instant = Annotated[datetime, BeforeValidator(iso_instant), AfterValidator(_millis)]


# Every date the registry stores lies here, with or without a clock: no one alive was
# born before 1900, and ClickHouse's Date32 and DateTime64 hold 1900-2299 only (outside
# it a value is stored wrong, not refused). Checked on decode too.
EARLIEST, LATEST = date(1900, 1, 1), date(2299, 12, 31)


def _in_range(value: date) -> None:
    if not EARLIEST <= value <= LATEST:
        raise rule(
            "date_out_of_range",
            "{day} is outside {earliest} to {latest}",
            day=value.isoformat(),
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
        )


def _plausible_day(value: date, info: ValidationInfo) -> date:
    _in_range(value)
    ctx = context_of(info)
    if ctx is not None and value > ctx.today:
        raise rule("future_date", "{day} is after today ({today})", day=value, today=ctx.today)
    return value


Day = Annotated[date, BeforeValidator(iso_date), AfterValidator(_plausible_day)]


def _commune_on(code: str | None, day: date, info: ValidationInfo) -> None:
    ctx = context_of(info)
    if ctx is not None and code is not None and not ctx.units.exists_on(code, day):
        raise rule(
            "unknown_commune",
            "commune {code} does not exist on {day}",
            code=code,
            day=day.isoformat(),
        )


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Envelope(Contract):
    event_id: UUID
    occurred_on: Day
    recorded_at: Instant
    commune_code: CommuneCode
    household_id: Id
    reporter_id: Id
    channel: Channel
    source_system: Text
    schema_version: int = Field(default=1, ge=1)

    @field_validator("recorded_at")
    @classmethod
    def _recorded_not_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        ctx = context_of(info)
        if ctx is not None and value > ctx.now + CLOCK_SKEW:
            raise rule("future_timestamp", "recorded_at {at} is in the future", at=value)
        return value

    @field_validator("commune_code")
    @classmethod
    def _commune(cls, value: str, info: ValidationInfo) -> str:
        day = info.data.get("occurred_on")
        if isinstance(day, date):
            _commune_on(value, day, info)
        return value

    @model_validator(mode="after")
    def _recorded_after_occurred(self) -> Envelope:
        if self.occurred_on > self.recorded_at.astimezone(VIETNAM).date():
            raise rule(
                "recorded_before_occurred",
                "occurred_on {day} is after recorded_at {at}",
                day=self.occurred_on.isoformat(),
                at=self.recorded_at.isoformat(),
            )
        return self


def _national_id_matches(person: Person) -> None:
    """The 12-digit citizen ID encodes the century and sex, and the year of birth."""
    nid = person.national_id
    if nid is None:
        return
    digit, year = int(nid[3]), int(nid[4:6])
    base = _CENTURY_BASE.get(digit - digit % 2)
    sex = Sex.MALE if digit % 2 == 0 else Sex.FEMALE
    if base is None or base + year != person.birth_date.year:
        raise rule(
            "national_id_mismatch",
            "national_id {nid} does not encode the birth year {year}",
            nid=nid,
            year=person.birth_date.year,
        )
    if person.sex is not Sex.UNKNOWN and sex is not person.sex:
        raise rule("national_id_mismatch", "national_id {nid} encodes sex {sex}", nid=nid, sex=sex)


class Person(Contract):
    person_id: Id
    full_name: Text
    sex: Sex
    birth_date: Day
    ethnicity: EthnicityCode
    national_id: NationalId | None = None
    marital_status: MaritalStatus

    @model_validator(mode="after")
    def _consistent(self) -> Person:
        _national_id_matches(self)
        return self


def age_on(birth: date, day: date) -> int:
    """Age in completed years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _plausible_age(person: Person, day: date) -> None:
    if person.birth_date > day:
        raise rule(
            "born_after_event",
            "person {pid} born {birth} after the event on {day}",
            pid=person.person_id,
            birth=person.birth_date.isoformat(),
            day=day.isoformat(),
        )
    if age_on(person.birth_date, day) > MAX_AGE:
        raise rule(
            "implausible_age",
            "person {pid} would be over {max} years old",
            pid=person.person_id,
            max=MAX_AGE,
        )


def _same_day(name: str, value: date, occurred_on: date) -> None:
    if value != occurred_on:
        raise rule(
            "date_mismatch",
            "{name} {value} differs from envelope.occurred_on {day}",
            name=name,
            value=value.isoformat(),
            day=occurred_on.isoformat(),
        )


def _distinct(a: str, b: str, what: str) -> None:
    if a == b:
        raise rule("same_person", "{what} names the same person twice ({pid})", what=what, pid=a)


class HouseholdEnumerated(Contract):
    type: Literal["HouseholdEnumerated"] = "HouseholdEnumerated"
    envelope: Envelope
    address: Text
    head_person_id: Id
    member_count: int = Field(ge=1, le=50)


class PersonEnumerated(Contract):
    type: Literal["PersonEnumerated"] = "PersonEnumerated"
    envelope: Envelope
    person: Person
    relation_to_head: RelationToHead
    spouse_id: Id | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PersonEnumerated:
        _plausible_age(self.person, self.envelope.occurred_on)
        if self.spouse_id is not None:
            _distinct(self.person.person_id, self.spouse_id, "a marriage")
            if self.person.marital_status is not MaritalStatus.MARRIED:
                raise rule(
                    "spouse_not_married", "spouse_id is set but marital_status is not MARRIED"
                )
        return self


class BirthRegistered(Contract):
    type: Literal["BirthRegistered"] = "BirthRegistered"
    envelope: Envelope
    child: Person
    mother_id: Id
    father_id: Id | None = None
    birth_order: int = Field(ge=1, le=20)

    @model_validator(mode="after")
    def _consistent(self) -> BirthRegistered:
        _same_day("child.birth_date", self.child.birth_date, self.envelope.occurred_on)
        if self.child.marital_status not in (MaritalStatus.NEVER_MARRIED, MaritalStatus.UNKNOWN):
            raise rule("married_newborn", "a newborn's marital_status must be NEVER_MARRIED")
        for parent in (self.mother_id, self.father_id):
            if parent is not None:
                _distinct(self.child.person_id, parent, "child and parent")
        return self


class DeathRegistered(Contract):
    type: Literal["DeathRegistered"] = "DeathRegistered"
    envelope: Envelope
    person_id: Id
    date_of_death: Day
    age_at_death: int = Field(ge=0, le=MAX_AGE)
    place: PlaceOfDeath

    @model_validator(mode="after")
    def _consistent(self) -> DeathRegistered:
        _same_day("date_of_death", self.date_of_death, self.envelope.occurred_on)
        return self


class MarriageRegistered(Contract):
    type: Literal["MarriageRegistered"] = "MarriageRegistered"
    envelope: Envelope
    spouse_a_id: Id
    spouse_b_id: Id
    marriage_date: Day
    household_after: Id

    @model_validator(mode="after")
    def _consistent(self) -> MarriageRegistered:
        _same_day("marriage_date", self.marriage_date, self.envelope.occurred_on)
        _distinct(self.spouse_a_id, self.spouse_b_id, "a marriage")
        return self


class DivorceRegistered(Contract):
    type: Literal["DivorceRegistered"] = "DivorceRegistered"
    envelope: Envelope
    spouse_a_id: Id
    spouse_b_id: Id
    divorce_date: Day

    @model_validator(mode="after")
    def _consistent(self) -> DivorceRegistered:
        _same_day("divorce_date", self.divorce_date, self.envelope.occurred_on)
        _distinct(self.spouse_a_id, self.spouse_b_id, "a divorce")
        return self


def _move_place(kind: MoveKind, code: str | None, day: date, info: ValidationInfo) -> None:
    if (kind is MoveKind.ANOTHER_COMMUNE) != (code is not None):
        raise rule(
            "move_place_mismatch",
            "a commune code is required exactly when the place is ANOTHER_COMMUNE",
        )
    _commune_on(code, day, info)


def _unique_ids(ids: list[str]) -> None:
    if len(set(ids)) != len(ids):
        raise rule("duplicate_person", "person_ids lists a person twice")


class MovedIn(Contract):
    type: Literal["MovedIn"] = "MovedIn"
    envelope: Envelope
    person_ids: list[Id] = Field(min_length=1, max_length=50)
    persons: list[Person] = Field(default_factory=list, max_length=50)
    origin: MoveKind
    origin_commune_code: CommuneCode | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> MovedIn:
        _unique_ids(self.person_ids)
        day = self.envelope.occurred_on
        for person in self.persons:
            if person.person_id not in self.person_ids:
                raise rule(
                    "unlisted_person",
                    "persons has {pid}, which person_ids does not list",
                    pid=person.person_id,
                )
            _plausible_age(person, day)
        _move_place(self.origin, self.origin_commune_code, day, info)
        return self


class MovedOut(Contract):
    type: Literal["MovedOut"] = "MovedOut"
    envelope: Envelope
    person_ids: list[Id] = Field(min_length=1, max_length=50)
    destination: MoveKind
    destination_commune_code: CommuneCode | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> MovedOut:
        _unique_ids(self.person_ids)
        _move_place(
            self.destination, self.destination_commune_code, self.envelope.occurred_on, info
        )
        return self


class EventVoided(Contract):
    type: Literal["EventVoided"] = "EventVoided"
    envelope: Envelope
    target_event_id: UUID
    reason: Text

    @model_validator(mode="after")
    def _not_self(self) -> EventVoided:
        if self.target_event_id == self.envelope.event_id:
            raise rule("self_reference", "an event cannot void itself")
        return self


class EventAmended(Contract):
    type: Literal["EventAmended"] = "EventAmended"
    envelope: Envelope
    target_event_id: UUID
    reason: Text
    corrected_fields: dict[str, str] = Field(min_length=1)

    @field_validator("corrected_fields")
    @classmethod
    def _json_values(cls, value: dict[str, str]) -> dict[str, str]:
        for path, encoded in value.items():
            refuse_forbidden(path)
            refuse_forbidden(encoded)
            if path.split(".")[0] == "envelope" and path != "envelope.occurred_on":
                raise rule("immutable_field", "{path} cannot be amended", path=path)
            try:
                json.loads(encoded)
            except ValueError:
                raise rule(
                    "invalid_json", "corrected value of {path} is not JSON", path=path
                ) from None
        return value

    @model_validator(mode="after")
    def _not_self(self) -> EventAmended:
        if self.target_event_id == self.envelope.event_id:
            raise rule("self_reference", "an event cannot amend itself")
        return self


Event = (
    HouseholdEnumerated
    | PersonEnumerated
    | BirthRegistered
    | DeathRegistered
    | MarriageRegistered
    | DivorceRegistered
    | MovedIn
    | MovedOut
    | EventVoided
    | EventAmended
)
AnyEvent = Annotated[Event, Field(discriminator="type")]
EVENT_MODELS: dict[str, type[Event]] = {
    model.__name__: model
    for model in (
        HouseholdEnumerated,
        PersonEnumerated,
        BirthRegistered,
        DeathRegistered,
        MarriageRegistered,
        DivorceRegistered,
        MovedIn,
        MovedOut,
        EventVoided,
        EventAmended,
    )
}
