-- The login the ingest gateway reads the registry as, to check that a commune's token
-- changes only its own commune's records (producers/gateway/authority.py): the ids and
-- commune codes of households, persons and events, and nothing else (no names, national
-- IDs, addresses or payloads). No password here: `popreg up` sets the embedded server's
-- from <data>/secrets/postgres-gateway.password (infra/postgres.py).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'popreg_gateway_login') THEN
        CREATE ROLE popreg_gateway_login LOGIN;
    END IF;
END $$;

ALTER ROLE popreg_gateway_login
    LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT USAGE ON SCHEMA public TO popreg_gateway_login;
GRANT SELECT (household_id, commune_code) ON households TO popreg_gateway_login;
GRANT SELECT (person_id, commune_code) ON persons TO popreg_gateway_login;
GRANT SELECT (event_id, commune_code) ON events TO popreg_gateway_login;
