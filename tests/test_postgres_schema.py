"""The PostgreSQL schema: migrations, the immutable archive, and the roles (real server)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from projections.migrations import SQL_DIR, MigrationError, migrate
from tests.conftest import StackUnderTest


@pytest.fixture
def url(test_stack: StackUnderTest) -> str:
    return test_stack.settings.postgres_url


@pytest.mark.stack
def test_up_applied_every_migration_and_a_rerun_applies_none(url: str) -> None:
    with psycopg.connect(url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [int(p.name[:3]) for p in sorted(SQL_DIR.glob("*.sql"))]
    assert migrate(url) == []


@pytest.mark.stack
def test_an_applied_migration_that_was_edited_is_refused(url: str, tmp_path: Path) -> None:
    for path in SQL_DIR.glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text("utf-8") + "\n-- edited\n", "utf-8")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(url, tmp_path)


@pytest.mark.stack
def test_the_event_archive_is_append_only(url: str) -> None:
    event_id = uuid.uuid4()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO events (event_id, event_type, household_id, commune_code, occurred_on,"
            ' recorded_at, topic, partition, "offset", payload, outcome) VALUES'
            " (%s, 'EventVoided', 'H1', '32014', '2024-01-01', now(), 't', 0, 1, '{}', 'applied')",
            (event_id,),
        )
        conn.execute("UPDATE events SET outcome = 'rejected' WHERE event_id = %s", (event_id,))
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute(
                "UPDATE events SET payload = '{\"x\": 1}' WHERE event_id = %s", (event_id,)
            )
        conn.rollback()


@pytest.mark.stack
def test_an_analyst_reads_no_personal_data(url: str) -> None:
    login = f"analyst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'pw' IN ROLE popreg_analyst")
    analyst_url = f"postgresql://{login}:pw@{url.split('@', 1)[1]}"
    try:
        with psycopg.connect(analyst_url) as conn:
            columns = [c.name for c in conn.execute("SELECT * FROM analyst.persons").description]
            assert not {"full_name", "national_id", "person_id", "birth_date"} & set(columns)
            for table in ("persons", "households", "events", "household_members"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SELECT 1 FROM public.{table} LIMIT 1")
                conn.rollback()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {login}")
