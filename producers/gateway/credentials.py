"""From a bearer token to what it may do, or to why not (401 with a reason).

The app must tell "your account was revoked" (stop, keep the unsent events, tell the
collaborator) from "no such token" (activate again): a collaborator's revoked token is
known by the hash the roster keeps, and a collaborator's grant is honoured only while
the roster says they are active, so a revocation half done (roster written, grant not
yet removed) already refuses.
"""

from __future__ import annotations

from producers.gateway.collaborators import Roster, roster_path
from producers.gateway.refusals import Refusal
from producers.gateway.tokens import TokenGrant, TokenRegistry
from schemas.settings import Settings

_BEARER = {"WWW-Authenticate": "Bearer"}
REVOKED = "tài khoản cộng tác viên này đã bị thu hồi / this collaborator's account was revoked"


class Credentials:
    def __init__(self, settings: Settings) -> None:
        self._tokens = TokenRegistry(settings.gateway_tokens_file)
        self._roster = Roster(roster_path(settings))

    @property
    def roster(self) -> Roster:
        return self._roster

    def grant(self, token: str | None) -> TokenGrant:
        """The token's grant; raises Refusal(401) with reason missing_token,
        unknown_token or revoked."""
        if not token:
            raise Refusal(
                401, "a valid bearer token is required", headers=_BEARER, reason="missing_token"
            )
        grant = self._tokens.lookup(token)
        if grant is None:
            if self._roster.by_token(token) is not None:
                raise Refusal(401, REVOKED, headers=_BEARER, reason="revoked")
            raise Refusal(
                401, "a valid bearer token is required", headers=_BEARER, reason="unknown_token"
            )
        if grant.collaborator is not None:
            collaborator = self._roster.get(grant.collaborator)
            if collaborator is None or not collaborator.active:
                raise Refusal(401, REVOKED, headers=_BEARER, reason="revoked")
        return grant
