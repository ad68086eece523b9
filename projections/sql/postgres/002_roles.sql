-- Who may read what. Group roles (NOLOGIN): grant them to login roles.
--   popreg_projector  writes the registry (the state projector, `popreg rebuild state`)
--   popreg_auditor    reads everything, including the event archive and personal data
--   popreg_analyst    reads the `analyst` schema only: no names, national IDs,
--                     addresses, registry ids or exact birth dates
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['popreg_projector', 'popreg_auditor', 'popreg_analyst'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO popreg_projector, popreg_auditor;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO popreg_projector;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO popreg_auditor;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO popreg_projector;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO popreg_auditor;

CREATE SCHEMA analyst;
GRANT USAGE ON SCHEMA analyst TO popreg_analyst, popreg_auditor;

CREATE VIEW analyst.households AS
SELECT h.commune_code,
       h.created_on,
       h.dissolved_on,
       (SELECT count(*) FROM household_members m
         WHERE m.household_id = h.household_id AND m.left_on IS NULL) AS current_members
FROM households h;

CREATE VIEW analyst.persons AS
SELECT p.sex,
       date_trunc('month', p.birth_date)::date AS birth_month,
       p.ethnicity,
       p.marital_status,
       p.vital_status,
       date_trunc('month', p.date_of_death)::date AS death_month,
       p.residence,
       p.commune_code
FROM persons p;

CREATE VIEW analyst.rejections AS
SELECT coalesce(commune_code, '') AS commune_code, reason, count(*) AS events
FROM rejected_events
GROUP BY 1, 2;

GRANT SELECT ON ALL TABLES IN SCHEMA analyst TO popreg_analyst, popreg_auditor;
