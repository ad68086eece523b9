"""The HTTP ingest gateway: commune systems and collaborators' phones POST events, it
publishes them; the collaborators' app activates and reads its commune here too
(/v1/app/*, producers/gateway/app_routes.py).

The body is read by hand rather than by FastAPI so that its size is capped while it
streams in, and so that one bad event in a batch is answered per event instead of
failing the whole request. TLS belongs to a reverse proxy in front of it.

Privacy: the gateway logs event ids, types, counts and commune codes only, never an
event's content or problem messages (they can quote a national id), nor tokens.
"""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, TypeAdapter

from producers.gateway.app_routes import app_router
from producers.gateway.authority import NotPermitted, RegistryUnavailable
from producers.gateway.credentials import Credentials
from producers.gateway.household_reads import HouseholdReader
from producers.gateway.ingest import Ingestor
from producers.gateway.pwa import mount_pwa
from producers.gateway.rate_limit import FailureLimiter
from producers.gateway.read_log import ReadLog, read_log_path
from producers.gateway.refusals import Refusal
from producers.gateway.responses import ErrorBody, Health, IngestResponse
from producers.gateway.tokens import TokenGrant, list_tokens
from schemas.models import AnyEvent
from schemas.settings import GATEWAY_LOGIN, Settings
from schemas.version import VERSION

log = logging.getLogger("popreg.gateway")

DELIVERY_TIMEOUT_S = 30.0
"""How long an event may wait for the broker: a phone's request should not hang for
the Publisher's default two minutes when the broker is down."""


class GatewayApp(FastAPI):
    """FastAPI with the event schemas added to the OpenAPI components: the body is
    parsed by hand, so FastAPI does not know them."""

    def __init__(self, event_schemas: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event_schemas = event_schemas

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(self._event_schemas)
            return document
        return self.openapi_schema


def create_app(
    settings: Settings,
    *,
    delivery_timeout_s: float = DELIVERY_TIMEOUT_S,
    activation_limiter: FailureLimiter | None = None,
) -> FastAPI:
    """The gateway; the Publisher and the idempotency store open with the app's lifespan.

    (No `from __future__ import annotations` in this module: FastAPI resolves the
    endpoints' annotations at runtime, and they name this function's locals.)
    """
    limits = settings.gateway
    credentials = Credentials(settings)
    ingestor = Ingestor(settings, delivery_timeout_s)
    body_schema, event_schemas = request_body_schema(limits.max_batch)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(ingestor.start)
        try:
            yield
        finally:
            await run_in_threadpool(ingestor.close)

    app = GatewayApp(
        event_schemas,
        title="popreg ingest gateway",
        version=VERSION,
        description=__doc__,
        lifespan=lifespan,
    )

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return refusal.response()

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        """FastAPI's own answer quotes the input, which may be a name: name the field
        and the rule only."""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in error.errors()
        )
        return Refusal(422, problems or "malformed request", reason="invalid_request").response()

    bearer = HTTPBearer(
        auto_error=False,
        description="a commune's, province's or collaborator's token (popreg gateway token,"
        " popreg gateway collaborator)",
    )

    def grant_of(
        authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> TokenGrant:
        return credentials.grant(authorization.credentials if authorization else None)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> Health:
        return Health()

    @app.post(
        "/v1/events",
        tags=["events"],
        summary="Publish one event or a batch of events",
        responses={
            401: {"model": ErrorBody, "description": "missing or unknown bearer token"},
            403: {
                "model": ErrorBody,
                "description": "an event of a commune the token lacks, or about another"
                " commune's household, person or event (producers/gateway/authority.py)",
            },
            413: {"model": ErrorBody, "description": "body or batch over the limit"},
            422: {
                "model": IngestResponse | ErrorBody,
                "description": "no event accepted: per-event problems, or a body that is "
                "not an event or an array of events",
            },
            503: {"model": IngestResponse, "description": "no event could be delivered"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            }
        },
    )
    async def post_events(
        request: Request,
        response: Response,
        grant: Annotated[TokenGrant, Depends(grant_of)],
    ) -> IngestResponse:
        """Each event is validated and published on its own: the answer lists, per event,
        accepted (with partition and offset), duplicate (an event_id already accepted
        with the same content) or rejected (with its problems). HTTP 200 when at least
        one event was accepted or a duplicate."""
        items = parse_items(await read_body(request, limits.max_body_bytes), limits.max_batch)
        others = reported_by_others(items, grant)
        if others:
            log.warning("token of %s: %d events of other reporters", grant.holder, len(others))
            raise Refusal(
                403,
                f"the token of {grant.holder} may send only events whose envelope.reporter_id"
                " is that collaborator; nothing was published",
                indexes=others,
                reason="reporter_mismatch",
            )
        foreign = foreign_indexes(items, grant)
        if foreign:
            log.warning("token of %s: %d events of other communes", grant.holder, len(foreign))
            raise Refusal(
                403,
                f"the token of {grant.holder} may report for {grant.scope}"
                " only; nothing was published",
                indexes=foreign,
                reason="foreign_commune",
            )
        try:
            outcome = await run_in_threadpool(ingestor.ingest, items, grant.holds)
        except RegistryUnavailable as error:
            log.error("the registry could not be read to check authority: %s", error)
            raise Refusal(
                503,
                "the registry cannot be read to check what this token may change; nothing"
                " was published: send the events again later",
                headers={"Retry-After": "30"},
            ) from None
        except NotPermitted as refused:
            log.warning(
                "token of %s: %d events about other communes' records",
                grant.holder,
                len(refused.refused),
            )
            raise Refusal(
                403,
                f"the token of {grant.holder} may change its own communes' records"
                f" only; nothing was published: {refused}",
                indexes=[index for index, _ in refused.refused],
                reason="not_permitted",
            ) from None
        answer = outcome.response
        log.info(
            "%s: %d events, %d accepted, %d duplicates, %d rejected",
            grant.holder,
            len(items),
            answer.accepted,
            answer.duplicates,
            answer.rejected,
        )
        response.status_code = outcome.status_code
        return answer

    app.include_router(
        app_router(
            settings,
            grant_of,
            credentials.roster,
            activation_limiter or FailureLimiter(),
            HouseholdReader(lambda: settings.login_url(GATEWAY_LOGIN)),
            ReadLog(read_log_path(settings)),
        )
    )
    mount_pwa(app)
    return app


def serve(settings: Settings) -> None:
    """Run the gateway in the foreground until interrupted; pending events are flushed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not list_tokens(settings):
        log.warning("no gateway token issued yet: every request will get 401")
    uvicorn.run(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level="info",
        server_header=False,
    )


def request_body_schema(max_batch: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body's JSON schema (an event or a batch) and the component schemas it uses."""
    body = AnyEvent | Annotated[list[AnyEvent], Field(min_length=1, max_length=max_batch)]
    schema = TypeAdapter(body).json_schema(ref_template="#/components/schemas/{model}")
    components: dict[str, Any] = schema.pop("$defs")
    return schema, components


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it exceeds `limit`: declared, or while it streams in."""
    too_large = Refusal(413, f"the body is over {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_items(body: bytes, max_batch: int) -> list[dict[str, Any]]:
    """One event object, or an array of them, as a list."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise Refusal(422, f"the body is not JSON: {error}") from None
    items: list[Any] = data if isinstance(data, list) else [data]
    if not items:
        raise Refusal(422, "the batch is empty")
    if len(items) > max_batch:
        raise Refusal(413, f"a batch holds at most {max_batch} events, this one {len(items)}")
    not_objects = [index for index, item in enumerate(items) if not isinstance(item, dict)]
    if not_objects:
        raise Refusal(
            422, "the body must be an event object or an array of them", indexes=not_objects
        )
    return [item for item in items if isinstance(item, dict)]


def reported_by_others(items: list[dict[str, Any]], grant: TokenGrant) -> list[int]:
    """For a collaborator's token: events whose envelope.reporter_id is not the
    collaborator (a missing one is left to validation, which refuses it)."""
    if grant.collaborator is None:
        return []
    found = []
    for index, item in enumerate(items):
        envelope = item.get("envelope")
        reporter = envelope.get("reporter_id") if isinstance(envelope, dict) else None
        if reporter is not None and reporter != grant.collaborator:
            found.append(index)
    return found


def foreign_indexes(items: list[dict[str, Any]], grant: TokenGrant) -> list[int]:
    """Events whose commune_code the token does not hold (a missing code is left to validation)."""
    found = []
    for index, item in enumerate(items):
        envelope = item.get("envelope")
        code = envelope.get("commune_code") if isinstance(envelope, dict) else None
        if isinstance(code, str) and not grant.holds(code):
            found.append(index)
    return found
