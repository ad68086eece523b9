"""Collaborators (cộng tác viên dân số) as people: one account each, under one commune.

The roster, `<data_dir>/secrets/collaborators.json` (0600), holds per collaborator the
id (`ctv-<commune>-<NNNN>`, the reporter_id of every event they send), the commune,
the display name (staff data: it stays on the gateway host and is shown on their phone),
when they were enrolled, activated and revoked, the SHA-256 of their one-time
activation code with its expiry, and the SHA-256 of the token the activation gave.

Enrolment gives a one-time code; the phone trades it for a bearer token once
(`activate`). Revocation marks the roster and removes the token's grant: the running
gateway re-reads both files, so the collaborator's next request gets 401 "revoked".
Revoked collaborators stay on the roster (their ids are never reused: the log names
them as reporters for ever). Neither names nor codes nor tokens go to the log.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from producers.gateway.activation_codes import code_hash, new_code, normalise
from producers.gateway.secret_files import WatchedFile, locked, write_atomically
from producers.gateway.tokens import issue_collaborator_token, revoke_token, token_hash
from schemas.admin_units import load
from schemas.models import CommuneCode, Id, ProvinceCode, Text
from schemas.settings import Settings
from schemas.text import clean_text

log = logging.getLogger("popreg.gateway")

CODE_VALID_FOR = timedelta(hours=24)
ID_PATTERN = re.compile(r"^ctv-(?P<commune>\d{5})-(?P<number>\d{4,})$")


class Collaborator(BaseModel):
    """One roster entry. `name` is personal data: never log it."""

    model_config = ConfigDict(frozen=True)

    id: Id
    commune: CommuneCode
    name: Text
    enrolled_at: datetime
    revoked_at: datetime | None = None
    code_sha256: str | None = Field(
        default=None, description="SHA-256 of the one-time activation code (normalised)"
    )
    code_expires_at: datetime
    activated_at: datetime | None = None
    token_sha256: str | None = Field(
        default=None,
        description="SHA-256 of the token the activation gave: tells a revoked token from"
        " an unknown one",
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def code_expired(self) -> bool:
        """Never activated, and the code no longer works."""
        return self.activated_at is None and self.code_expires_at <= datetime.now(UTC)


class Profile(BaseModel):
    """A collaborator as their phone sees them (activation and GET /v1/app/me)."""

    id: Id
    name: str
    commune_code: CommuneCode
    commune_name: str
    province_code: ProvinceCode
    codes: list[CommuneCode] = Field(
        description="the commune codes they act within: today's, then the former communes"
        " wholly merged into it (for events before 2025-07-01)"
    )


class Refused(StrEnum):
    """Why an activation code was refused: the app shows a message for each."""

    UNKNOWN = "unknown_code"
    EXPIRED = "expired_code"
    USED = "used_code"
    REVOKED = "revoked"


class ActivationRefused(Exception):
    def __init__(self, reason: Refused) -> None:
        super().__init__(reason.value)
        self.reason = reason


class NotACollaborator(LookupError):
    """No collaborator has this id."""


_Index = tuple[dict[str, "Collaborator"], dict[str, "Collaborator"]]
"""The roster by id and by token hash."""

_ROSTER: TypeAdapter[list[Collaborator]] = TypeAdapter(list[Collaborator])


def roster_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "secrets" / "collaborators.json"


def commune_codes(commune: str) -> tuple[str, ...]:
    """The codes a collaborator of `commune` (a commune of today) acts within: its own,
    and every pre-2025-07-01 commune whose whole population went into it, for late
    registrations. A commune split between several new ones is left out: its
    households' commune today is not known from the code, and a collaborator must not
    read a neighbouring commune's families."""
    units = load()
    if commune not in units.after:
        raise ValueError(
            f"{commune!r} is not a commune code in force today (5 digits, after the"
            " 2025-07-01 reform)"
        )
    old = sorted(
        link.old_code
        for link in units.links
        if link.new_code == commune and link.kind.carries_all_population
    )
    return tuple(dict.fromkeys([commune, *old]))


def profile(collaborator: Collaborator) -> Profile:
    unit = load().after[collaborator.commune]
    return Profile(
        id=collaborator.id,
        name=collaborator.name,
        commune_code=collaborator.commune,
        commune_name=unit.name,
        province_code=unit.province_code,
        codes=list(commune_codes(collaborator.commune)),
    )


def add_collaborator(
    settings: Settings, commune: str, name: str, *, valid_for: timedelta = CODE_VALID_FOR
) -> tuple[Collaborator, str]:
    """Enrol a collaborator of `commune`; return them and their one-time code (shown once)."""
    commune_codes(commune)  # refuses a code that is not a commune today
    name = _clean_name(name)
    if valid_for <= timedelta(0):
        raise ValueError("an activation code must be valid for some time")
    code = new_code()
    now = datetime.now(UTC)
    path = roster_path(settings)
    with locked(path):
        roster = _read(path)
        number = 1 + max(
            (_number(c.id) for c in roster if c.commune == commune),
            default=0,
        )
        collaborator = Collaborator(
            id=f"ctv-{commune}-{number:04d}",
            commune=commune,
            name=name,
            enrolled_at=now,
            code_sha256=code_hash(normalise(code) or ""),
            code_expires_at=now + valid_for,
        )
        _write(path, [*roster, collaborator])
    log.info("enrolled collaborator %s", collaborator.id)
    return collaborator, code


def list_collaborators(settings: Settings) -> list[Collaborator]:
    """Every collaborator ever enrolled, revoked ones with their revoked_at, by id."""
    return sorted(_read(roster_path(settings)), key=lambda c: (c.commune, _number(c.id)))


def revoke_collaborator(settings: Settings, collaborator_id: str) -> Collaborator:
    """Revoke a collaborator: their code and token stop working at the next request."""
    path = roster_path(settings)
    with locked(path):
        roster = _read(path)
        found = [c for c in roster if c.id == collaborator_id]
        if not found:
            raise NotACollaborator(collaborator_id)
        revoked = found[0]
        if revoked.revoked_at is None:
            revoked = revoked.model_copy(update={"revoked_at": datetime.now(UTC)})
            _write(path, [revoked if c.id == collaborator_id else c for c in roster])
    # The roster first: a crash in between leaves a grant the gateway refuses anyway.
    revoke_token(settings, collaborator_id)
    log.info("revoked collaborator %s", collaborator_id)
    return revoked


def activate(settings: Settings, typed_code: str) -> tuple[Collaborator, str]:
    """Trade a one-time code for the collaborator's bearer token (returned once).
    Raises ActivationRefused with the reason."""
    code = normalise(typed_code)
    if code is None:
        raise ActivationRefused(Refused.UNKNOWN)
    digest = code_hash(code)
    now = datetime.now(UTC)
    path = roster_path(settings)
    with locked(path):
        roster = _read(path)
        found = [c for c in roster if c.code_sha256 == digest]
        if not found:
            raise ActivationRefused(Refused.UNKNOWN)
        collaborator = found[0]
        if collaborator.revoked_at is not None:
            raise ActivationRefused(Refused.REVOKED)
        if collaborator.activated_at is not None:
            raise ActivationRefused(Refused.USED)
        if collaborator.code_expires_at <= now:
            raise ActivationRefused(Refused.EXPIRED)
        token = issue_collaborator_token(
            settings, collaborator.id, collaborator.commune, commune_codes(collaborator.commune)
        )
        collaborator = collaborator.model_copy(
            update={"activated_at": now, "token_sha256": token_hash(token)}
        )
        _write(path, [collaborator if c.id == collaborator.id else c for c in roster])
    log.info("collaborator %s activated a phone", collaborator.id)
    return collaborator, token


class Roster:
    """The running gateway's view of the roster, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self._file: WatchedFile[_Index] = WatchedFile(path, _index, ({}, {}))

    def get(self, collaborator_id: str) -> Collaborator | None:
        return self._file.current()[0].get(collaborator_id)

    def by_token(self, token: str) -> Collaborator | None:
        """The collaborator a token was given to (revoked or not), if any."""
        return self._file.current()[1].get(token_hash(token))


def _index(path: Path) -> _Index:
    roster = _read(path)
    by_id = {c.id: c for c in roster}
    by_token = {c.token_sha256: c for c in roster if c.token_sha256 is not None}
    return by_id, by_token


def _clean_name(name: str) -> str:
    try:
        cleaned = clean_text(name)
    except ValueError as error:  # the message names the character and its position only
        raise ValueError(f"the name is refused: {error}") from None
    if not 1 <= len(cleaned) <= 200:
        raise ValueError("the name must be 1 to 200 characters")
    return cleaned


def _number(collaborator_id: str) -> int:
    match = ID_PATTERN.match(collaborator_id)
    return int(match["number"]) if match else 0


def _read(path: Path) -> list[Collaborator]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return _ROSTER.validate_json(data)


def _write(path: Path, roster: list[Collaborator]) -> None:
    write_atomically(path, _ROSTER.dump_json(roster, indent=2))
