"""PostgreSQL connections as a role of the stack would have them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from schemas.settings import Settings


@contextmanager
def login_in(settings: Settings, group: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection as a fresh login role that is a member of `group` only."""
    url = settings.postgres_url
    login = f"{group}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'pw' IN ROLE {group}")
    try:
        with psycopg.connect(f"postgresql://{login}:pw@{url.split('@', 1)[1]}") as conn:
            yield conn
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {login}")
            admin.execute(f"DROP ROLE {login}")
