"""A refusal of a whole request, raised anywhere in the gateway and answered as JSON."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from producers.gateway.responses import ErrorBody


class Refusal(Exception):
    """The whole request is refused; nothing in it was published."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        indexes: list[int] | None = None,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.body = ErrorBody(detail=detail, indexes=indexes or [], reason=reason)
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse(self.body.model_dump(exclude_none=True), self.status_code, self.headers)
