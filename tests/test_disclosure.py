"""Disclosure control for analysts (docs/decisions/0004-disclosure-control.md).

The rule (`projections.disclosure.release`) on its own, then on a generated province
in the real stack: what migration 002's analyst.persons singled out, what the analysts'
views give now (k-anonymous for the k of the settings, equal to the rule), and that k
is a setting `popreg up` applies."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from infra import analyst_tables, stack
from infra.clickhouse import analyst_client, writer_client
from infra.readonly_sql import ReadOnlyViolation
from projections import disclosure
from projections.disclosure import Row, release, singled_out_share, smallest_class
from projections.domain.indicator_catalog import Period
from projections.indicators import (
    ARRIVED,
    indicator_values,
    part_queries,
    population_pyramid,
    rejections_by_reason,
    view_query,
)
from schemas.settings import Settings
from tests.id_space import Ids, synthetic
from tests.producing import Offsets, publish
from tests.roles import login_in
from tests.waiting import wait_counted, wait_projected

# --- the rule ------------------------------------------------------------------------


def test_a_rare_row_loses_its_commune_and_a_rarer_one_is_left_out() -> None:
    common = [("A", "F", 1980)] * 3
    rare_in_a = [("A", "M", 1990)]
    rare_in_b = [("B", "M", 1990)] * 2
    alone = [("C", "M", 1940)]
    released = release(common + rare_in_a + rare_in_b + alone, k=3)
    assert released == common + [(None, "M", 1990)] * 3
    assert smallest_class(released) == 3


def test_a_null_commune_joins_the_withheld_rows() -> None:
    """Persons without a commune and persons whose commune is withheld read the same,
    so they count as one class."""
    rows: list[Row] = [(None, "F", 1980)] * 2 + [("A", "F", 1980)]
    assert release(rows, k=3) == [(None, "F", 1980)] * 3


@pytest.mark.parametrize("k", [1, 2, 5, 20])
def test_every_release_is_k_anonymous(k: int) -> None:
    rows = [(f"{i % 7}", "MF"[i % 2], 1950 + 5 * (i % 11)) for i in range(1000)]
    released = release(rows, k)
    assert smallest_class(released) >= k
    assert 0 < len(released) <= len(rows)


def test_k_one_releases_everything_and_k_below_one_is_refused() -> None:
    rows = [("A", "F", 1980), ("B", "M", 1990)]
    assert release(rows, 1) == rows
    with pytest.raises(ValueError, match="at least 1"):
        release(rows, 0)
    with pytest.raises(ValueError, match="at least 1"):
        disclosure.write_k("postgresql://unused", 0)


def test_the_generalisations() -> None:
    assert disclosure.birth_cohort(date(1984, 12, 31)) == 1980
    assert disclosure.birth_cohort(date(1985, 1, 1)) == 1985
    assert disclosure.ethnic_group("01") == "Kinh"
    assert disclosure.ethnic_group("05") == "other"
    person = disclosure.generalise_person(
        "32014", "F", date(1987, 3, 9), "04", "MARRIED", "DEAD", date(2024, 4, 2), "RESIDENT"
    )
    assert person == ("32014", "F", 1985, "other", "MARRIED", "DEAD", 2024, "RESIDENT")
    assert disclosure.generalise_household("32014", date(2021, 5, 1), None, 9) == (
        "32014",
        2021,
        None,
        6,
    )


def test_measures() -> None:
    assert smallest_class([]) == 0 and singled_out_share([]) == 0.0
    rows = [("A", 1), ("A", 1), ("B", 1), ("C", 2)]
    assert smallest_class(rows) == 1
    assert singled_out_share(rows) == 0.5


def test_k_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().disclosure_k == 5
    monkeypatch.setenv("POPREG_DISCLOSURE_K", "11")
    assert Settings().disclosure_k == 11
    monkeypatch.setenv("POPREG_DISCLOSURE_K", "0")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings()


# --- a generated province in the real stack ------------------------------------------

HOUSEHOLDS = 1500  # ~5,000 persons, as in the sample

OLD_VIEW = (
    "SELECT commune_code, sex, date_trunc('month', birth_date)::date, ethnicity,"
    " marital_status, vital_status, date_trunc('month', date_of_death)::date, residence"
    " FROM persons"
)
PERSONS = (
    "SELECT commune_code, sex, birth_date, ethnicity, marital_status, vital_status,"
    " date_of_death, residence FROM persons"
)
HOUSEHOLDS_SQL = (
    "SELECT h.commune_code, h.created_on, h.dissolved_on, (SELECT count(*)"
    " FROM household_members m WHERE m.household_id = h.household_id AND m.left_on IS NULL)"
    " FROM households h"
)


@dataclass(frozen=True)
class Province:
    ids: Ids
    offsets: Offsets  # where its events were written

    @property
    def persons(self) -> str:
        """A LIKE pattern for its persons' ids."""
        return f"P{self.ids.tag}-%"


@pytest.fixture(scope="module")
def province(test_stack: Any) -> Province:
    """A synthetic province (fixed seed, no deliberate mistakes), applied to PostgreSQL."""
    settings: Settings = test_stack.settings
    ids = Ids.new()
    events = synthetic(ids, households=HOUSEHOLDS, years=(2023, 2025), seed=28, error_rate=0.0)
    offsets = publish(settings, events)
    wait_projected(settings, offsets, timeout_s=300)
    return Province(ids, offsets)


def rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]


def as_analyst(settings: Settings, sql: str) -> list[Row]:
    with login_in(settings, "popreg_analyst") as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def expected_persons(url: str, k: int) -> list[Row]:
    """The rule applied to the whole registry: what analyst.persons must hold."""
    return release([disclosure.generalise_person(*r) for r in rows(url, PERSONS)], k)


def expected_households(url: str, k: int) -> list[Row]:
    return release([disclosure.generalise_household(*r) for r in rows(url, HOUSEHOLDS_SQL)], k)


@pytest.mark.stack
def test_the_old_view_singled_out_most_of_a_province(
    settings: Settings, province: Province
) -> None:
    """Migration 002's analyst.persons, computed on the province's raw rows: almost
    every person is alone in their combination."""
    mine = rows(settings.postgres_url, OLD_VIEW + " WHERE person_id LIKE %s", province.persons)
    assert len(mine) > 4000
    share = singled_out_share(mine)
    print(
        f"\nold analyst.persons on {len(mine)} persons: k = {smallest_class(mine)},"
        f" {share:.1%} singled out"
    )
    assert smallest_class(mine) == 1
    assert share > 0.5


@pytest.mark.stack
def test_analysts_read_a_k_anonymous_registry(settings: Settings, province: Province) -> None:
    """analyst.persons and analyst.households as the analyst role reads them: k-anonymous
    for the setting's k, and exactly the rule applied to the registry."""
    url, k = settings.postgres_url, settings.disclosure_k
    persons = as_analyst(settings, "SELECT * FROM analyst.persons")
    households = as_analyst(settings, "SELECT * FROM analyst.households")
    assert as_analyst(settings, "SELECT k FROM analyst.disclosure") == [(k,)]
    assert smallest_class(persons) >= k == 5
    assert smallest_class(households) >= k
    assert Counter(persons) == Counter(expected_persons(url, k))
    assert Counter(households) == Counter(expected_households(url, k))
    # what it costs, on the province alone (the registry holds other tests' rows too)
    mine = [
        disclosure.generalise_person(*r)
        for r in rows(url, PERSONS + " WHERE person_id LIKE %s", province.persons)
    ]
    released = release(mine, k)
    placed = sum(1 for r in released if r[0] is not None)
    print(
        f"\nanalyst.persons on {len(mine)} persons, k = {k}: smallest class"
        f" {smallest_class(released)}, {singled_out_share(released):.1%} singled out;"
        f" {placed / len(mine):.1%} with their commune, {(len(released) - placed) / len(mine):.1%}"
        f" with it withheld, {1 - len(released) / len(mine):.1%} left out"
    )
    assert smallest_class(released) >= k and singled_out_share(released) == 0.0
    assert placed > 0


@pytest.mark.stack
def test_k_is_what_popreg_up_applies(settings: Settings, province: Province) -> None:
    """`popreg up` (its migrate step) writes the setting's k; another k, another release."""
    url = settings.postgres_url
    at_default = as_analyst(settings, "SELECT * FROM analyst.persons")
    try:
        stack.migrate(settings.model_copy(update={"disclosure_k": 20}))
        at_twenty = as_analyst(settings, "SELECT * FROM analyst.persons")
        assert as_analyst(settings, "SELECT k FROM analyst.disclosure") == [(20,)]
        assert smallest_class(at_twenty) >= 20
        assert smallest_class(at_default) < 20  # so the k above is not the data's own
        assert Counter(at_twenty) == Counter(expected_persons(url, 20))
        with_commune = sum(1 for r in at_twenty if r[0] is not None)
        assert with_commune < sum(1 for r in at_default if r[0] is not None)
    finally:
        stack.migrate(settings)
    assert as_analyst(settings, "SELECT k FROM analyst.disclosure") == [(settings.disclosure_k,)]


@pytest.mark.stack
def test_the_analyst_cannot_change_k(settings: Settings) -> None:
    with (
        login_in(settings, "popreg_analyst") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("UPDATE analyst.disclosure SET k = 1")


# --- ClickHouse: the row tables are popreg's, the analyst gets the aggregates ----------

PUBLISHED = frozenset({"SELECT sum(sign) FROM popreg.vital_events WHERE commune_code = {c:String}"})


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM popreg.vital_events",
        "SELECT * FROM vital_events AS t LIMIT 1",
        "SELECT count() FROM popreg.population_deltas GROUP BY birth_date",
        "WITH x AS (SELECT * FROM popreg.household_deltas) SELECT * FROM x",
        "SELECT * FROM view(SELECT * FROM popreg.rejections)",
        "DESCRIBE TABLE popreg.population_stock_deltas",
        "SELECT * FROM popreg.population_stock_missing",
        # popreg's statement with something added is not popreg's statement
        "SELECT sum(sign) FROM popreg.vital_events WHERE commune_code = {c:String} OR 1",
    ],
)
def test_a_statement_naming_a_row_table_is_refused(statement: str) -> None:
    with pytest.raises(ReadOnlyViolation, match="row-level data is not released") as refused:
        analyst_tables.check(statement, {}, PUBLISHED)
    assert refused.value.name == "ACCESS_DENIED"


def test_a_row_table_given_as_an_identifier_parameter_is_refused() -> None:
    with pytest.raises(ReadOnlyViolation):
        analyst_tables.check(
            "SELECT * FROM {t:Identifier}", {"t": "popreg.vital_events"}, PUBLISHED
        )
    analyst_tables.check("SELECT * FROM {t:Identifier}", {"t": "popreg.communes"}, PUBLISHED)
    analyst_tables.check("SELECT {t:String}", {"t": "vital_events"}, PUBLISHED)


def test_the_views_and_popregs_own_statements_pass() -> None:
    for statement in (
        "SELECT * FROM popreg.indicator_values(level = 'nation', code = '', units = 'as_was',"
        " start = '2025-01-01', end = '2025-12-31')",
        "SELECT * FROM popreg.rejections_by_reason(level = 'nation')",
        "SELECT count() FROM popreg.communes",
        *PUBLISHED,
        *(f"{s} FORMAT Native" for s in PUBLISHED),
    ):
        analyst_tables.check(statement, {}, PUBLISHED)


def test_popregs_own_statements_are_the_views_and_the_freshness_poll() -> None:
    queries = analyst_tables.popreg_queries()
    assert view_query("population_pyramid") in queries
    assert set(part_queries().values()) <= set(queries)
    assert ARRIVED in queries
    assert all(analyst_tables._NAMED.search(q) for q in queries)


@pytest.fixture
def clickhouse_analyst(settings: Settings) -> Iterator[Any]:
    client = analyst_client(settings)
    try:
        yield client
    finally:
        client.close()


@pytest.mark.stack
@pytest.mark.parametrize("table", sorted(analyst_tables.ROW_LEVEL_TABLES))
def test_the_clickhouse_analyst_cannot_read_row_tables(clickhouse_analyst: Any, table: str) -> None:
    for sql in (f"SELECT * FROM popreg.{table} LIMIT 1", f"SELECT count() FROM {table}"):
        with pytest.raises(DatabaseError, match="ACCESS_DENIED"):
            clickhouse_analyst.query(sql)
    with pytest.raises(DatabaseError, match="ACCESS_DENIED"):
        clickhouse_analyst.query("SELECT * FROM {t:Identifier} LIMIT 1", parameters={"t": table})


@pytest.mark.stack
@pytest.mark.parametrize(
    "sql",
    [
        # as ClickHouse reads them, these all name vital_events
        "SELECT * FROM popreg.`vital\\x5Fevents` LIMIT 1",
        'SELECT * FROM "vital_events" LIMIT 1',
        "SELECT * FROM view(SELECT * FROM popreg . vital_events) LIMIT 1",
        "/* vital */ SELECT * FROM popreg.vital_events -- events",
    ],
)
def test_spellings_of_a_row_table_are_refused(
    settings: Settings, clickhouse_analyst: Any, sql: str
) -> None:
    writer = writer_client(settings)
    try:
        writer.query(sql)  # the spelling reaches the table
    finally:
        writer.close()
    with pytest.raises(DatabaseError, match="ACCESS_DENIED"):
        clickhouse_analyst.query(sql)


@pytest.mark.stack
def test_the_clickhouse_analyst_reads_the_aggregates(
    settings: Settings, clickhouse_analyst: Any, province: Province
) -> None:
    """What popreg sends as the analyst still runs: the views' SELECTs and parts (popreg
    indicators, pyramid) and the freshness poll; and the views themselves."""
    writer = writer_client(settings)
    try:
        wait_counted(writer, settings, province.offsets, timeout_s=300)
    finally:
        writer.close()
    period = Period.parse("2025")
    values = {
        v.indicator: v.value for v in indicator_values(clickhouse_analyst, "nation", "", period)
    }
    assert values["births"] > 0
    via_view = clickhouse_analyst.query(
        "SELECT value FROM popreg.indicator_values(level = 'nation', code = '', units = 'as_was',"
        " start = '2025-01-01', end = '2025-12-31') WHERE indicator = 'births'"
    ).result_rows
    assert via_view == [(values["births"],)]
    pyramid = population_pyramid(clickhouse_analyst, "nation", "", date(2025, 12, 31))
    assert sum(row.male + row.female for row in pyramid) > 0
    rejections_by_reason(clickhouse_analyst, "nation", "", period)
    found = clickhouse_analyst.query(
        ARRIVED,
        parameters={"since": datetime(2000, 1, 1, tzinfo=UTC), "ids": [uuid.uuid4()]},
    )
    assert found.result_rows == []
