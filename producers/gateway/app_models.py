"""The read API's answers (/v1/app/*), as pydantic models so /docs describes them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from producers.gateway.collaborators import Profile


class Member(BaseModel):
    person_id: str
    full_name: str
    sex: str
    birth_date: date
    relationship: str = Field(description="relation to the head (schemas.models.RelationToHead)")
    national_id: str | None


class Household(BaseModel):
    household_id: str
    commune_code: str
    head_name: str | None = Field(description="None if the registry names no head")
    members: list[Member] = Field(description="current members only, the head first")


class Verdict(BaseModel):
    state: Literal["applied", "rejected", "unknown"] = Field(
        description="applied: the registry took it (reason 'voided' if a later correction"
        " voided it); rejected: the fold refused it (reason: its rule); unknown: not in the"
        " registry yet, or not this collaborator's"
    )
    reason: str | None = None


class Activation(BaseModel):
    code: str = Field(max_length=64, description="the one-time code, e.g. ABCD-EFGH-JK")


class Activated(BaseModel):
    token: str = Field(description="the collaborator's bearer token, shown once")
    collaborator: Profile


class AppError(BaseModel):
    """A refusal the app acts on by `reason`; `detail` is Vietnamese, then English."""

    detail: str
    reason: str
