"""One-time activation codes: short enough to type from paper, hard to guess.

Ten characters from an alphabet without the look-alikes (no 0/O, 1/I/L), shown as
`ABCD-EFGH-JK`: about 49 bits, against an attacker held to a few guesses a minute per
address (producers/gateway/rate_limit.py) and a code that dies after a day and after
its first use. Typed codes are read case- and dash-insensitively. Only the SHA-256 of a
code is kept.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
_GROUPS = (4, 4, 2)
_SEPARATORS = frozenset("-  \u2010\u2011\u2012\u2013\u2014")  # dashes and spaces people type


def new_code() -> str:
    """A fresh code, grouped for reading aloud: `ABCD-EFGH-JK`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    parts, start = [], 0
    for size in _GROUPS:
        parts.append(raw[start : start + size])
        start += size
    return "-".join(parts)


def normalise(typed: str) -> str | None:
    """The code as stored (upper case, no separators), or None if it cannot be one."""
    if len(typed) > 64:
        return None
    bare = "".join(char for char in typed.strip() if char not in _SEPARATORS).upper()
    if len(bare) != LENGTH or any(char not in ALPHABET for char in bare):
        return None
    return bare


def code_hash(code: str) -> str:
    """SHA-256 of a code in its stored form (normalise first)."""
    return hashlib.sha256(code.encode()).hexdigest()
