"""The HTTP ingest gateway for collaborators' mobile apps (`popreg gateway`)."""

from producers.gateway.app import create_app, serve
from producers.gateway.tokens import (
    TokenGrant,
    issue_province_token,
    issue_token,
    list_tokens,
    lookup,
    revoke_token,
)

__all__ = [
    "TokenGrant",
    "create_app",
    "issue_province_token",
    "issue_token",
    "list_tokens",
    "lookup",
    "revoke_token",
    "serve",
]
