"""Credentials the embedded stack generates for itself, kept under `<data>/secrets/` (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_path(data_dir: Path, name: str) -> Path:
    return data_dir / "secrets" / name


def get_or_create(data_dir: Path, name: str) -> str:
    path = secret_path(data_dir, name)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value
