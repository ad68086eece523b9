"""The gateway's answers, as pydantic models so the OpenAPI document describes them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["accepted", "duplicate", "rejected"]


class FieldProblem(BaseModel):
    field: str = Field(description="dotted path of the field; empty for the whole event")
    rule: str = Field(
        description="stable code: a validation rule, event_id_conflict, or a Kafka error"
    )
    message: str


class EventResult(BaseModel):
    index: int = Field(description="position of the event in the request (0 for one event)")
    event_id: str | None = Field(description="envelope.event_id as sent, if there was one")
    status: Status
    partition: int | None = Field(
        default=None, description="where the event is on the topic (also for a duplicate)"
    )
    offset: int | None = None
    problems: list[FieldProblem] = Field(default_factory=list)


class IngestResponse(BaseModel):
    results: list[EventResult]
    accepted: int
    duplicates: int
    rejected: int


class ErrorBody(BaseModel):
    """A refusal of the whole request: nothing in it was published."""

    detail: str
    indexes: list[int] = Field(
        default_factory=list, description="the events that caused the refusal, if any"
    )
    reason: str | None = Field(
        default=None,
        description="a stable code for programs: on 401 missing_token, unknown_token or"
        " revoked (a collaborator's account, docs/gateway.md); on 403 foreign_commune,"
        " not_permitted, reporter_mismatch or not_a_collaborator",
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
