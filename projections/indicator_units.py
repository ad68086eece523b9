"""The administrative units the indicator views place rows in (`002_units.sql`).

Figures are read by the units as they were or mapped onto today's units for time
series. Mapping needs one successor per old commune, because a person is counted in
one commune, not in fractions of several: the new commune that received all of the old
one's population, else (a split commune) the first by code that received part of it,
else the first it went to by code (its area only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from clickhouse_connect.driver.client import Client

from schemas.admin_units import AdminUnits, Commune, Link, LinkKind

SINCE_EVER = date(1900, 1, 1)  # a commune valid since before the tables begin
FOREVER = date(2299, 12, 31)  # still valid (Date32's last day)
_PART = {LinkKind.PART, LinkKind.PART_POPULATION}


def successor(units: AdminUnits, old_code: str) -> Link | None:
    """The one new commune an old commune's rows are carried to, or None if the
    conversion table does not list it."""
    links = sorted(units.successors(old_code), key=lambda link: link.new_code)
    for candidates in (
        [link for link in links if link.kind.carries_all_population],
        [link for link in links if link.kind in _PART],
        links,
    ):
        if candidates:
            return candidates[0]
    return None


def commune_rows(units: AdminUnits) -> list[dict[str, Any]]:
    """`popreg.communes`: every commune of both regimes with its province and validity."""
    regimes = (("before", units.before.values()), ("after", units.after.values()))
    return [_commune_row(regime, commune) for regime, communes in regimes for commune in communes]


def successor_rows(units: AdminUnits) -> list[dict[str, Any]]:
    """`popreg.commune_successor`: the chosen successor of every old commune that has one."""
    rows = []
    for old_code in sorted(units.before):
        link = successor(units, old_code)
        if link is not None:
            rows.append(
                {
                    "old_code": old_code,
                    "new_code": link.new_code,
                    "new_province_code": units.after[link.new_code].province_code,
                    "link_kind": link.kind.value,
                }
            )
    return rows


def load_units(client: Client, units: AdminUnits) -> None:
    """Replace the unit tables' content with `units` (idempotent: TRUNCATE, then INSERT),
    then `unit_places` from the `commune_places` view over them, and `province_landing`
    from that (what the province sums of 001_indicator_tables.sql are keyed by)."""
    for table, rows in (
        ("communes", commune_rows(units)),
        ("commune_successor", successor_rows(units)),
    ):
        client.command(f"TRUNCATE TABLE popreg.{table}")
        client.command(_insert_statement(f"popreg.{table}", rows))
    client.command("TRUNCATE TABLE popreg.unit_places")
    client.command(
        "INSERT INTO popreg.unit_places (level, unit, reading, code)"
        " SELECT 'province', province, reading, code FROM popreg.commune_places"
        " UNION ALL SELECT 'commune', commune, reading, code FROM popreg.commune_places"
    )
    client.command("TRUNCATE TABLE popreg.province_landing")
    client.command(
        "INSERT INTO popreg.province_landing (code, after, before, mapped)"
        " SELECT code, anyIf(unit, reading = 'after'), anyIf(unit, reading = 'before'),"
        " anyIf(unit, reading = 'before_mapped') FROM popreg.unit_places"
        " WHERE level = 'province' GROUP BY code"
    )


def _insert_statement(table: str, rows: Iterable[dict[str, Any]]) -> str:
    """An INSERT with its rows inline as JSONEachRow (what the chDB host's writer takes)."""
    lines = "\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in rows)
    return f"INSERT INTO {table} FORMAT JSONEachRow\n{lines}"


def _commune_row(regime: str, commune: Commune) -> dict[str, Any]:
    return {
        "commune_code": commune.code,
        "commune_name": commune.name,
        "province_code": commune.province_code,
        "province_name": commune.province_name,
        "regime": regime,
        "valid_from": (commune.valid_from or SINCE_EVER).isoformat(),
        "valid_to": (commune.valid_to or FOREVER).isoformat(),
    }
