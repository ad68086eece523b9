"""Names compared without case or diacritics, the same in Python and in PostgreSQL.

A collaborator types "nguyen van" on a phone keyboard and must find "Nguyễn Văn". The
registry's names are NFC (schemas/text.py); PostgreSQL's `lower()` depends on the
database's locale (ASCII only under C), and `unaccent` is an extension a managed
server may not offer. So the fold is one character table: every Latin letter that
decomposes to an ASCII letter plus marks (all of Vietnamese: ă â ê ô ơ ư and the five
tones, upper and lower case), Đ and đ, and A-Z, each mapped to its bare lower-case
letter; every other character stays as it is. `app_fold(text)` in
projections/sql/postgres/009_app_reader.sql is `translate()` with this table; a test
holds the two equal.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# The blocks that hold Vietnamese letters: Latin-1 Supplement, Latin Extended-A and -B,
# and Latin Extended Additional (where the letters with two marks, such as ễ, are).
_BLOCKS = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))


@cache
def fold_table() -> dict[str, str]:
    """Character -> its bare lower-case ASCII letter, for every character folded."""
    table = {chr(c): chr(c).lower() for c in range(ord("A"), ord("Z") + 1)}
    table |= {"Đ": "d", "đ": "d"}
    for start, end in _BLOCKS:
        for code in range(start, end + 1):
            char = chr(code)
            base = unicodedata.normalize("NFD", char)[0]
            if base != char and base.isascii() and base.isalpha():
                table[char] = base.lower()
    return table


def fold(text: str) -> str:
    """`text` in NFC, each character folded by the table, runs of spaces as one."""
    table = fold_table()
    normal = unicodedata.normalize("NFC", text)
    return " ".join("".join(table.get(char, char) for char in normal).split())


def translate_arguments() -> tuple[str, str]:
    """The `from` and `to` strings of PostgreSQL's translate() for the same fold."""
    table = fold_table()
    return "".join(table), "".join(table.values())
