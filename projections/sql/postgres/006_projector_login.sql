-- The login the state projector and `popreg rebuild state` connect as (issue 28, item 5):
-- it holds popreg_projector and nothing else, so a fault or a compromise of the
-- projector can write the registry's rows but not reshape the schema, read or change
-- other databases, create roles or bypass row security, as the superuser could.
-- No password here: `popreg up` sets the embedded server's from
-- <data>/secrets/postgres-projector.password (infra/postgres.py); on another server the
-- operator sets it. Without one the role cannot log in (scram-sha-256 only).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'popreg_projector_login') THEN
        CREATE ROLE popreg_projector_login LOGIN;
    END IF;
END $$;

ALTER ROLE popreg_projector_login
    LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT popreg_projector TO popreg_projector_login;

-- 002 granted popreg_projector every table of the schema, which then included the
-- migrator's own record: a projector that could delete from it could make `popreg up`
-- run old migrations again, as the superuser.
REVOKE ALL ON schema_migrations FROM popreg_projector;
