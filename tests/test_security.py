"""Security checks the other test files do not already make (see docs/testing.md):
the PostgreSQL roles enforced for the auditor and the projector, and no personal data
in any log the stack writes while it processes events."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from infra.clickhouse import writer_client
from projections.rebuild import TABLES
from schemas.settings import PROJECTOR_LOGIN, Settings
from tests.id_space import Ids, synthetic
from tests.producing import publish
from tests.roles import login_in
from tests.waiting import wait_counted, wait_projected

pytestmark = [pytest.mark.stack, pytest.mark.security]


def refused(conn: psycopg.Connection[Any], sql: str) -> bool:
    try:
        conn.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return True
    conn.rollback()
    return False


def test_the_auditor_reads_everything_and_changes_nothing(settings: Settings) -> None:
    with login_in(settings, "popreg_auditor") as conn:
        for table in ("persons", "households", "household_members", "events"):
            conn.execute(f"SELECT * FROM public.{table} LIMIT 1")
        conn.execute("SELECT * FROM analyst.persons LIMIT 1")
        assert refused(conn, "UPDATE persons SET full_name = 'x'")
        assert refused(conn, "DELETE FROM events")
        assert refused(conn, "INSERT INTO consumer_positions VALUES ('x', 't', 0, 0)")
        assert refused(conn, "DROP TABLE persons")


def test_the_projector_writes_the_registry_but_cannot_reshape_it(settings: Settings) -> None:
    with login_in(settings, "popreg_projector") as conn:
        conn.execute("UPDATE persons SET full_name = full_name WHERE false")
        conn.execute("DELETE FROM households WHERE false")
        conn.rollback()
        assert refused(conn, "DROP TABLE persons")
        assert refused(conn, "ALTER TABLE persons ADD COLUMN x int")
        assert refused(conn, "CREATE TABLE public.intruder (x int)")


def test_the_analyst_cannot_write_anywhere(settings: Settings) -> None:
    with login_in(settings, "popreg_analyst") as conn:
        assert refused(conn, "DELETE FROM analyst.disclosure")  # analyst.persons: not updatable
        assert refused(conn, "UPDATE public.persons SET sex = 'x'")
        assert refused(conn, "CREATE TABLE analyst.intruder (x int)")


def test_no_log_holds_a_name_a_national_id_or_an_address(settings: Settings) -> None:
    """Publish a province's worth of people, poison included, let both processors take
    it, then search every log file of the stack for their personal data."""
    events = synthetic(Ids.new(), households=60, years=(2022, 2024), seed=31, error_rate=0.05)
    written = publish(settings, events)
    wait_projected(settings, written, timeout_s=120)
    client = writer_client(settings)
    try:
        wait_counted(client, settings, written)
    finally:
        client.close()
    personal: set[str] = set()
    for event in events:
        doc = event.model_dump(mode="json")
        people = [doc.get("person"), doc.get("child"), *(doc.get("persons") or [])]
        for person in filter(None, people):
            personal |= {person["full_name"], person.get("national_id") or ""}
        personal.add(doc.get("address") or "")
    personal.discard("")
    assert len(personal) > 100
    logs = sorted((settings.resolved_data_dir / "logs").glob("*"))
    assert logs
    for path in logs:
        text = path.read_text("utf-8", errors="replace")
        leaked = sorted(p for p in personal if p in text)
        assert not leaked, f"{path.name} holds personal data: {leaked[:5]}"


def test_the_state_projector_logs_in_as_a_projector_and_nothing_more(settings: Settings) -> None:
    """Issue 28, item 5: the state projector's session is the projector's login, which
    holds popreg_projector only: no superuser, no other role, no CREATE anywhere, and
    not the migrations' record."""
    if not settings.embedded_postgres:
        pytest.skip("the embedded stack's login; a configured server's DSN is the operator's")
    events = synthetic(Ids.new(), households=2, years=(2024, 2024), seed=3, error_rate=0)
    wait_projected(settings, publish(settings, events), timeout_s=120)  # its session is open
    with psycopg.connect(settings.postgres_url, autocommit=True) as admin:
        sessions = admin.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'popreg-state'"
        ).fetchall()
        member_of = admin.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (PROJECTOR_LOGIN,),
        ).fetchall()
        attributes = admin.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
            " FROM pg_roles WHERE rolname = %s",
            (PROJECTOR_LOGIN,),
        ).fetchone()
    assert sessions == [(PROJECTOR_LOGIN,)]
    assert member_of == [("popreg_projector",)]
    assert attributes == (False, False, False, False, False)
    with psycopg.connect(settings.login_url(PROJECTOR_LOGIN)) as conn:
        assert refused(conn, "CREATE TABLE public.intruder (x int)")
        assert refused(conn, "DELETE FROM schema_migrations")
        assert refused(conn, "CREATE ROLE intruder")
        assert refused(conn, "ALTER TABLE persons ADD COLUMN x int")
        conn.execute(f"TRUNCATE {TABLES}")
        conn.rollback()  # what `rebuild state` does, taken back
