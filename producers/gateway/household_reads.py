"""The read API's queries: a collaborator's commune's households, and their own events'
verdicts, read as `popreg_app_reader` (projections/sql/postgres/009_app_reader.sql).

Every query is bounded by the commune codes the collaborator's grant holds: another
commune's household is not "forbidden", it is simply not found, so the answer does not
even tell it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from producers.gateway.app_models import Household, Member, Verdict
from producers.gateway.authority import RegistryUnavailable
from producers.gateway.text_fold import fold

SEARCH_LIMIT = 20

T = TypeVar("T")

_SEARCH = """
SELECT h.household_id
FROM households h LEFT JOIN persons p ON p.person_id = h.head_person_id
WHERE h.commune_code = ANY(%(codes)s)
  AND (h.household_id = ANY(%(ids)s)
       OR (h.dissolved_on IS NULL AND app_fold(p.full_name) LIKE %(pattern)s ESCAPE '\\'))
ORDER BY h.household_id = ANY(%(ids)s) DESC, h.household_id
LIMIT %(limit)s
"""

_HOUSEHOLDS = """
SELECT h.household_id, h.commune_code, p.full_name AS head_name
FROM households h LEFT JOIN persons p ON p.person_id = h.head_person_id
WHERE h.household_id = ANY(%(ids)s) AND h.commune_code = ANY(%(codes)s)
"""

_MEMBERS = """
SELECT m.household_id, m.person_id, p.full_name, p.sex, p.birth_date,
       m.relation_to_head AS relationship, p.national_id
FROM household_members m JOIN persons p ON p.person_id = m.person_id
WHERE m.household_id = ANY(%(ids)s) AND m.left_on IS NULL
ORDER BY m.household_id, m.relation_to_head = 'HEAD' DESC, p.birth_date, m.person_id
"""

_VERDICTS = """
SELECT event_id, outcome, reason FROM app_event_verdicts
WHERE event_id = ANY(%(ids)s) AND reporter_id = %(reporter)s AND commune_code = ANY(%(codes)s)
"""


def like_pattern(text: str) -> str:
    """`%text%` for LIKE, the folded text's own % _ and \\ taken literally."""
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class HouseholdReader:
    def __init__(self, url: Callable[[], str]) -> None:
        self._url = url

    def search(self, codes: Sequence[str], query: str) -> list[Household]:
        """Up to SEARCH_LIMIT households whose id is `query` (as typed or in capitals)
        or whose head's name holds it, case and diacritics aside; ids first."""

        def run(conn: psycopg.Connection[dict[str, Any]]) -> list[Household]:
            rows = conn.execute(
                _SEARCH,
                {
                    "codes": list(codes),
                    "ids": sorted({query, query.upper()}),
                    "pattern": like_pattern(query),
                    "limit": SEARCH_LIMIT,
                },
            ).fetchall()
            return _households(conn, codes, [row["household_id"] for row in rows])

        return self._read(run)

    def one(self, codes: Sequence[str], household_id: str) -> Household | None:
        found = self._read(lambda conn: _households(conn, codes, [household_id]))
        return found[0] if found else None

    def verdicts(
        self, reporter: str, codes: Sequence[str], event_ids: Sequence[UUID]
    ) -> dict[UUID, Verdict]:
        """The fold's verdict on each of `event_ids` that `reporter` reported; the others
        (not arrived yet, or someone else's) are "unknown"."""

        def run(conn: psycopg.Connection[dict[str, Any]]) -> dict[UUID, Verdict]:
            rows = conn.execute(
                _VERDICTS, {"ids": list(event_ids), "reporter": reporter, "codes": list(codes)}
            ).fetchall()
            return {row["event_id"]: _verdict(row["outcome"], row["reason"]) for row in rows}

        found = self._read(run)
        return {eid: found.get(eid, Verdict(state="unknown")) for eid in event_ids}

    def _read(self, run: Callable[[psycopg.Connection[dict[str, Any]]], T]) -> T:
        try:
            with psycopg.connect(self._url(), connect_timeout=5, row_factory=dict_row) as conn:
                conn.read_only = True
                with conn.transaction():
                    conn.execute("SET LOCAL ROLE popreg_app_reader")
                    return run(conn)
        except (psycopg.Error, OSError) as error:  # OSError: the login's password file
            raise RegistryUnavailable(type(error).__name__) from error


def _households(
    conn: psycopg.Connection[dict[str, Any]], codes: Sequence[str], ids: list[str]
) -> list[Household]:
    if not ids:
        return []
    params = {"ids": ids, "codes": list(codes)}
    heads = {row["household_id"]: row for row in conn.execute(_HOUSEHOLDS, params).fetchall()}
    members: dict[str, list[Member]] = {household_id: [] for household_id in heads}
    for row in conn.execute(_MEMBERS, {"ids": list(heads)}).fetchall():
        members[row.pop("household_id")].append(Member.model_validate(row))
    return [
        Household(
            household_id=household_id,
            commune_code=heads[household_id]["commune_code"],
            head_name=heads[household_id]["head_name"],
            members=members[household_id],
        )
        for household_id in ids
        if household_id in heads
    ]


def _verdict(outcome: str, reason: str | None) -> Verdict:
    if outcome == "rejected":
        return Verdict(state="rejected", reason=reason)
    if outcome == "voided":
        return Verdict(state="applied", reason="voided")
    return Verdict(state="applied", reason=None)
