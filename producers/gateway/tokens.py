"""Bearer tokens of the communes, provinces and collaborators, kept only as SHA-256 hashes.

The file (`settings.gateway_tokens_file`, mode 0600) maps sha256(token) to the grant:
the commune the token belongs to and every commune code it may report for (its
current code and, for late registrations of events before 2025-07-01, its old ones).
A collaborator's token (producers/gateway/collaborators.py) is a commune's grant that
also names the collaborator, who must then be the events' reporter.
A token is shown once, when issued; a leaked file gives no usable token.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from producers.gateway.secret_files import WatchedFile, locked, write_atomically
from schemas.admin_units import load
from schemas.models import CommuneCode, Id, ProvinceCode
from schemas.settings import Settings

log = logging.getLogger("popreg.gateway")


class TokenGrant(BaseModel):
    """What a token may do; never holds the token itself.

    A commune's token holds its codes; a province's (province-level staff) holds every
    code of every commune of the province, before and after the 2025 reform, so it may
    also correct any of them's records (producers/gateway/authority.py)."""

    model_config = ConfigDict(frozen=True)

    commune: CommuneCode | None = None
    province: ProvinceCode | None = None
    collaborator: Id | None = Field(
        default=None,
        description="a collaborator's id (ctv-<commune>-<NNNN>): the token is theirs, under"
        " `commune`, and they must be the reporter_id of what they send",
    )
    codes: tuple[CommuneCode, ...] = Field(min_length=1)
    issued_at: datetime

    @model_validator(mode="after")
    def _one_holder(self) -> TokenGrant:
        if (self.commune is None) == (self.province is None):
            raise ValueError("a token belongs to one commune or to one province")
        if self.collaborator is not None and self.commune is None:
            raise ValueError("a collaborator's token belongs to their commune")
        return self

    @property
    def holder(self) -> str:
        if self.collaborator:
            return f"collaborator {self.collaborator}"
        return f"commune {self.commune}" if self.commune else f"province {self.province}"

    @property
    def scope(self) -> str:
        """The codes it holds, as a person would read them."""
        if self.commune:
            return ", ".join(self.codes)
        return f"the communes of province {self.province}"

    @property
    def holder_code(self) -> str:
        """What `revoke_token` matches: a collaborator's id, or the commune's or province's
        code (so revoking a commune's token leaves its collaborators' alone)."""
        return self.collaborator or self.commune or self.province or ""

    def holds(self, code: str) -> bool:
        return code in self.codes


_FILE: TypeAdapter[dict[str, TokenGrant]] = TypeAdapter(dict[str, TokenGrant])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(settings: Settings, commune: str, codes: list[str]) -> str:
    """Create a token for `commune` (which always holds its own code); return it once."""
    held = tuple(dict.fromkeys([commune, *codes]))
    bad = [code for code in held if not _is_commune_code(code)]
    if bad:
        raise ValueError(f"commune codes must be 5 digits: {', '.join(map(repr, bad))}")
    token = secrets.token_urlsafe(32)
    grant = TokenGrant(commune=commune, codes=held, issued_at=datetime.now(UTC))
    _add(settings.gateway_tokens_file, token, grant)
    log.info("issued a gateway token for commune %s (codes %s)", commune, ", ".join(held))
    return token


def issue_collaborator_token(
    settings: Settings, collaborator: str, commune: str, codes: tuple[str, ...]
) -> str:
    """Create a collaborator's token, holding `codes` under `commune`; return it once."""
    token = secrets.token_urlsafe(32)
    grant = TokenGrant(
        commune=commune, collaborator=collaborator, codes=codes, issued_at=datetime.now(UTC)
    )
    _add(settings.gateway_tokens_file, token, grant)
    log.info("issued a gateway token for collaborator %s", collaborator)
    return token


def _add(path: Path, token: str, grant: TokenGrant) -> None:
    with locked(path):
        grants = _read(path)
        grants[token_hash(token)] = grant
        _write(path, grants)


def issue_province_token(settings: Settings, province: str) -> str:
    """Create a province-level token: every commune code of `province`; return it once."""
    units = load()
    codes = sorted(
        {
            c.code
            for c in (*units.before.values(), *units.after.values())
            if c.province_code == province
        }
    )
    if not codes:
        raise ValueError(f"no commune has province code {province!r}")
    token = secrets.token_urlsafe(32)
    grant = TokenGrant(province=province, codes=tuple(codes), issued_at=datetime.now(UTC))
    _add(settings.gateway_tokens_file, token, grant)
    log.info("issued a gateway token for province %s (%d codes)", province, len(codes))
    return token


def revoke_token(settings: Settings, holder: str) -> int:
    """Revoke every token of a commune, province or collaborator (`holder`, its code or
    id); return how many there were."""
    path = settings.gateway_tokens_file
    with locked(path):
        grants = _read(path)
        kept = {d: grant for d, grant in grants.items() if grant.holder_code != holder}
        revoked = len(grants) - len(kept)
        if revoked:
            _write(path, kept)
    log.info("revoked %d gateway tokens of %s", revoked, holder)
    return revoked


def list_tokens(settings: Settings) -> list[TokenGrant]:
    """The grants, oldest first per commune; the tokens themselves are not kept anywhere."""
    grants = _read(settings.gateway_tokens_file).values()
    return sorted(grants, key=lambda grant: (grant.holder_code, grant.issued_at))


def lookup(settings: Settings, token: str) -> TokenGrant | None:
    return _read(settings.gateway_tokens_file).get(token_hash(token))


class TokenRegistry:
    """The running gateway's view of the file, re-read when it changes: no restart needed."""

    def __init__(self, path: Path) -> None:
        self._file: WatchedFile[dict[str, TokenGrant]] = WatchedFile(path, _read, {})

    def lookup(self, token: str) -> TokenGrant | None:
        return self._file.current().get(token_hash(token))


def _is_commune_code(code: str) -> bool:
    return len(code) == 5 and code.isascii() and code.isdigit()


def _read(path: Path) -> dict[str, TokenGrant]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    return _FILE.validate_json(data)


def _write(path: Path, grants: dict[str, TokenGrant]) -> None:
    write_atomically(path, _FILE.dump_json(grants, indent=2))
