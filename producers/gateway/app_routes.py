"""The collaborators' app's routes: activation and the read API (/v1/app/*).

Activation trades a one-time code for a token, with failures per client address
limited. The reads answer only within the commune codes of the collaborator's grant
(another commune's household is "not found", as one that does not exist), and every
read is appended to the read log (ids, never names) before it is answered.

(No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations
at runtime, and they name this module's function locals.)
"""

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from producers.gateway.app_models import Activated, Activation, AppError, Household, Verdict
from producers.gateway.authority import RegistryUnavailable
from producers.gateway.collaborators import (
    ActivationRefused,
    Profile,
    Refused,
    Roster,
    activate,
    profile,
)
from producers.gateway.household_reads import HouseholdReader
from producers.gateway.rate_limit import FailureLimiter
from producers.gateway.read_log import ReadLog
from producers.gateway.refusals import Refusal
from producers.gateway.tokens import TokenGrant
from schemas.models import Id
from schemas.settings import Settings
from schemas.text import clean_text

log = logging.getLogger("popreg.gateway")

MAX_QUERY_CHARS = 100
MAX_STATUS_IDS = 500

ACTIVATION_MESSAGES = {
    Refused.UNKNOWN: "mã kích hoạt không đúng / the activation code is not known",
    Refused.EXPIRED: "mã kích hoạt đã hết hạn, xin mã mới / the activation code has expired,"
    " ask for a new one",
    Refused.USED: "mã kích hoạt đã được dùng / the activation code was already used",
    Refused.REVOKED: "tài khoản cộng tác viên này đã bị thu hồi / this collaborator's account"
    " was revoked",
}
TOO_MANY = "thử sai quá nhiều lần, xin đợi / too many failed attempts, wait"
NOT_FOUND = "không tìm thấy hộ này trong xã / no such household in your commune"
UNAVAILABLE = (
    "chưa đọc được sổ hộ khẩu, thử lại sau / the registry cannot be read now, try again later"
)

_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(Id)
T = TypeVar("T")


def app_router(
    settings: Settings,
    grant_of: Callable[..., TokenGrant],
    roster: Roster,
    limiter: FailureLimiter,
    reader: HouseholdReader,
    read_log: ReadLog,
) -> APIRouter:
    router = APIRouter(prefix="/v1/app", tags=["collaborators' app"])
    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": AppError, "description": "reason missing_token, unknown_token or revoked"},
        403: {"model": AppError, "description": "reason not_a_collaborator: a commune's token"},
        422: {"model": AppError, "description": "a malformed query"},
        503: {"model": AppError, "description": "the registry cannot be read now"},
    }

    def collaborator_of(grant: Annotated[TokenGrant, Depends(grant_of)]) -> TokenGrant:
        if grant.collaborator is None:
            raise Refusal(
                403,
                "the app's reads are for collaborators' tokens (popreg gateway collaborator)",
                reason="not_a_collaborator",
            )
        return grant

    Collaborator = Annotated[TokenGrant, Depends(collaborator_of)]

    async def read(run: Callable[[], T]) -> T:
        try:
            return await run_in_threadpool(run)
        except RegistryUnavailable as error:
            log.error("the registry could not be read for the app: %s", error)
            raise Refusal(
                503, UNAVAILABLE, headers={"Retry-After": "30"}, reason="registry_unavailable"
            ) from None

    activation_errors: dict[int | str, dict[str, Any]] = {
        400: {"model": AppError, "description": "unknown_code, expired_code, used_code, revoked"},
        429: {"model": AppError, "description": "rate_limited: too many failures; Retry-After"},
    }

    @router.post("/activate", responses=activation_errors)
    async def activate_route(body: Activation, request: Request) -> Any:
        """Trade a one-time activation code (case and dashes aside) for the
        collaborator's bearer token; the code then works no more."""
        address = request.client.host if request.client else "unknown"
        wait = limiter.retry_after(address)
        if wait is not None:
            log.warning("activation refused: too many failures from one address")
            return JSONResponse(
                AppError(detail=TOO_MANY, reason="rate_limited").model_dump(),
                429,
                {"Retry-After": str(wait)},
            )
        try:
            collaborator, token = await run_in_threadpool(activate, settings, body.code)
        except ActivationRefused as refused:
            limiter.failed(address)
            log.warning("activation refused: %s", refused.reason.value)
            return JSONResponse(
                AppError(
                    detail=ACTIVATION_MESSAGES[refused.reason], reason=refused.reason.value
                ).model_dump(),
                400,
            )
        return Activated(token=token, collaborator=profile(collaborator))

    @router.get("/me", responses=errors)
    async def me(grant: Collaborator) -> Profile:
        """The collaborator the token belongs to, as shown at activation."""
        found = roster.get(grant.collaborator or "")
        if found is None:  # revoked between the two reads of the roster
            raise Refusal(401, ACTIVATION_MESSAGES[Refused.REVOKED], reason="revoked")
        read_log.append(found.id, "/v1/app/me", {}, [])
        return profile(found)

    @router.get("/households", responses=errors)
    async def households(
        grant: Collaborator,
        q: Annotated[
            str,
            Query(
                max_length=4 * MAX_QUERY_CHARS,
                description="a household id, or part of its head's name (case and"
                " diacritics aside)",
            ),
        ],
    ) -> list[Household]:
        """Up to 20 households of the collaborator's commune: id equal to q, or head's
        name containing q. Another commune's household is never returned."""
        text = _query_text(q)
        found = await read(lambda: reader.search(grant.codes, text))
        ids = [household.household_id for household in found]
        by_id = text in ids or text.upper() in ids
        query: dict[str, Any] = (
            {"kind": "id", "q": text} if by_id else {"kind": "name", "chars": len(text)}
        )
        read_log.append(grant.collaborator or "", "/v1/app/households", query, ids)
        return found

    @router.get("/households/{household_id}", responses={**errors, 404: {"model": AppError}})
    async def household(grant: Collaborator, household_id: str) -> Household:
        """One household of the collaborator's commune, or 404 (also for another
        commune's)."""
        who = grant.collaborator or ""
        if not _is_id(household_id):
            read_log.append(who, "/v1/app/households/{id}", {"malformed": True}, [])
            raise Refusal(
                422,
                "mã hộ không hợp lệ / a household id is 1 to 64 letters, digits, '.', '_',"
                " ':' or '-'",
                reason="invalid_household_id",
            )
        found = await read(lambda: reader.one(grant.codes, household_id))
        ids = [found.household_id] if found else []
        read_log.append(who, "/v1/app/households/{id}", {"household_id": household_id}, ids)
        if found is None:
            raise Refusal(404, NOT_FOUND, reason="not_found")
        return found

    @router.get("/events/status", responses=errors)
    async def events_status(
        grant: Collaborator,
        ids: Annotated[
            str,
            Query(
                max_length=MAX_STATUS_IDS * 37,
                description=f"up to {MAX_STATUS_IDS} event ids, comma-separated",
            ),
        ],
    ) -> dict[str, Verdict]:
        """The fold's verdict on the collaborator's own events; others' are "unknown"."""
        event_ids = _event_ids(ids)
        who = grant.collaborator or ""
        found = await read(lambda: reader.verdicts(who, grant.codes, event_ids))
        known = [str(eid) for eid, verdict in found.items() if verdict.state != "unknown"]
        read_log.append(who, "/v1/app/events/status", {"count": len(event_ids)}, known)
        return {str(eid): verdict for eid, verdict in found.items()}

    return router


def _query_text(q: str) -> str:
    try:
        text = clean_text(q)
    except ValueError:  # PydanticCustomError: a control, format or unassigned character
        raise Refusal(
            422,
            "từ khoá chứa ký tự không hợp lệ / the query holds a control or invisible character",
            reason="invalid_query",
        ) from None
    if not text or len(text) > MAX_QUERY_CHARS:
        raise Refusal(
            422,
            f"từ khoá phải có 1 đến {MAX_QUERY_CHARS} ký tự / the query must be 1 to"
            f" {MAX_QUERY_CHARS} characters",
            reason="invalid_query",
        )
    return text


def _event_ids(raw: str) -> list[UUID]:
    parts = [part.strip() for part in raw.split(",")]
    if not any(parts) or len(parts) > MAX_STATUS_IDS:
        raise Refusal(
            422, f"give 1 to {MAX_STATUS_IDS} event ids, comma-separated", reason="invalid_ids"
        )
    found: list[UUID] = []
    bad: list[int] = []
    for index, part in enumerate(parts):
        try:
            found.append(UUID(part))
        except ValueError:
            bad.append(index)
    if bad:
        raise Refusal(422, "each id must be an event's UUID", indexes=bad, reason="invalid_ids")
    return list(dict.fromkeys(found))


def _is_id(value: str) -> bool:
    try:
        _ID_ADAPTER.validate_python(value)
    except ValidationError:
        return False
    return True
