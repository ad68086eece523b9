"""One set of rules for every string an event carries, wherever it is checked.

The SDK, `popreg publish`, the gateway and every reader of the log (the processors,
rebuild, replay, checkpoint) validate events with the same models, so these rules run
at the edge and again on decode: a producer that writes to Kafka directly gets its
event rejected with a reason, never stored.

- Free text (names, addresses, reasons) is normalised to Unicode NFC, so a Vietnamese
  name typed with composed or with decomposed diacritics is one name; spaces of any kind
  read as one ASCII space, and leading and trailing ones are dropped.
- No string holds a control, format, surrogate, private-use or unassigned character, nor
  a line or paragraph separator: PostgreSQL refuses NUL outright (and the log, never
  trimmed, would offer it to the projector forever), tabs and newlines break the CSV and log lines
  the registry writes, and invisible format characters (bidirectional overrides,
  zero-width spaces) let two names that look the same differ.
- Dates and timestamps are ISO 8601 strings (or the date and datetime objects Avro
  decodes to): pydantic would otherwise read the integer 1764547200 as 2025-12-01.

Messages quote what they refuse through `printable`, so an error can itself be logged
and stored anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic_core import PydanticCustomError

# Unicode general categories no string of the contract may hold.
FORBIDDEN = {
    "Cc": "control",
    "Cf": "format",
    "Cs": "surrogate",
    "Co": "private-use",
    "Cn": "unassigned",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}
_SPACES = re.compile(r"\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$"
)


def forbidden_character(value: str) -> tuple[int, str] | None:
    """The position and category name of the first character no string may hold."""
    for position, char in enumerate(value):
        kind = FORBIDDEN.get(unicodedata.category(char))
        if kind is not None:
            return position, kind
    return None


def printable(value: str) -> str:
    """`value` with every forbidden character written as an escape (\\u0000): safe to
    log, to show and to store in any database."""
    if forbidden_character(value) is None:
        return value
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in FORBIDDEN else c for c in value)


def refuse_forbidden(value: str) -> str:
    """Raise the `control_character` rule if `value` holds a forbidden character."""
    found = forbidden_character(value)
    if found is not None:
        position, kind = found
        raise PydanticCustomError(
            "control_character",
            "{kind} character {code} at position {position} is not allowed",
            {"kind": kind, "code": f"U+{ord(value[position]):04X}", "position": position},
        )
    return value


def clean_text(value: str) -> str:
    """Free text in its one form: NFC, single ASCII spaces, no forbidden characters."""
    normal = unicodedata.normalize("NFC", value)
    refuse_forbidden(normal)
    return _SPACES.sub(" ", normal).strip()


def iso_date(value: Any) -> Any:
    """Only a `date` or a `YYYY-MM-DD` string is a date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise PydanticCustomError(
        "date_format", "a date is an ISO string such as 2025-01-31, not {given}", _shown(value)
    )


def iso_instant(value: Any) -> Any:
    """Only a `datetime` or an ISO 8601 string is a timestamp."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        return value
    raise PydanticCustomError(
        "timestamp_format",
        "a timestamp is an ISO string such as 2025-01-31T09:00:00Z, not {given}",
        _shown(value),
    )


def _shown(value: Any) -> dict[str, str]:
    text = value if isinstance(value, str) else f"{type(value).__name__} {value!r}"
    return {"given": printable(text[:40])}
