"""Bearer tokens of the communes' collaborators, kept only as SHA-256 hashes.

The file (`settings.gateway_tokens_file`, mode 0600) maps sha256(token) to the grant:
the commune the token belongs to and every commune code it may report for (its
current code and, for late registrations of events before 2025-07-01, its old ones).
A token is shown once, when issued; a leaked file gives no usable token.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from schemas.admin_units import load
from schemas.models import CommuneCode, ProvinceCode
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
    codes: tuple[CommuneCode, ...] = Field(min_length=1)
    issued_at: datetime

    @model_validator(mode="after")
    def _one_holder(self) -> TokenGrant:
        if (self.commune is None) == (self.province is None):
            raise ValueError("a token belongs to one commune or to one province")
        return self

    @property
    def holder(self) -> str:
        return f"commune {self.commune}" if self.commune else f"province {self.province}"

    @property
    def scope(self) -> str:
        """The codes it holds, as a person would read them."""
        if self.commune:
            return ", ".join(self.codes)
        return f"the communes of province {self.province}"

    @property
    def holder_code(self) -> str:
        return self.commune or self.province or ""

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
    path = settings.gateway_tokens_file
    with _locked(path):
        grants = _read(path)
        grants[token_hash(token)] = grant
        _write(path, grants)
    log.info("issued a gateway token for commune %s (codes %s)", commune, ", ".join(held))
    return token


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
    path = settings.gateway_tokens_file
    with _locked(path):
        grants = _read(path)
        grants[token_hash(token)] = grant
        _write(path, grants)
    log.info("issued a gateway token for province %s (%d codes)", province, len(codes))
    return token


def revoke_token(settings: Settings, holder: str) -> int:
    """Revoke every token of a commune or province (`holder`, its code); return how many
    there were."""
    path = settings.gateway_tokens_file
    with _locked(path):
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
    """The running gateway's view of the file, re-read when it changes: no restart needed.

    A file replaced atomically gets a new inode, so a change is seen even when two
    writes fall within the file system's mtime resolution.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._version: tuple[int, int, int] | None = None
        self._grants: dict[str, TokenGrant] = {}

    def lookup(self, token: str) -> TokenGrant | None:
        self._refresh()
        return self._grants.get(token_hash(token))

    def _refresh(self) -> None:
        try:
            stat = self._path.stat()
            version: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            version = None
        with self._lock:
            if version == self._version:
                return
            self._version = version
            try:
                self._grants = _read(self._path)
            except (OSError, ValidationError) as error:
                log.error(
                    "tokens file %s unreadable, keeping the previous tokens: %s",
                    self._path,
                    type(error).__name__,
                )


def _is_commune_code(code: str) -> bool:
    return len(code) == 5 and code.isascii() and code.isdigit()


def _read(path: Path) -> dict[str, TokenGrant]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    return _FILE.validate_json(data)


def _write(path: Path, grants: dict[str, TokenGrant]) -> None:
    """Replace the file atomically, so the gateway never reads half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_FILE.dump_json(grants, indent=2))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the file between concurrent `popreg` commands."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock_fd)
