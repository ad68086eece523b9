"""The collaborators' roster, from the gateway's file to ClickHouse (de-identified), for
the collaborator figures: on every `popreg up` and after each enrolment or revocation."""

from __future__ import annotations

from infra import secrets
from infra.clickhouse import writer_client
from producers.gateway.collaborators import list_collaborators
from projections.collaborator_roster import load_roster
from projections.domain.recordings import member
from schemas.settings import Settings


def sync_roster(settings: Settings) -> int:
    """Make ClickHouse's roster the gateway's; returns the number of accounts."""
    client = writer_client(settings)  # first: without a stack, no key is made
    try:
        secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
        members = [
            member(secret, c.id, c.commune, c.enrolled_at, c.revoked_at)
            for c in list_collaborators(settings)
        ]
        load_roster(client, members)
    finally:
        client.close()
    return len(members)
