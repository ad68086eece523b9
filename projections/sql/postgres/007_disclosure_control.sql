-- Disclosure control for analysts (docs/decisions/0004-disclosure-control.md).
--
-- 002's analyst.persons (commune, sex, birth month, ethnicity, ...) singled out most
-- persons of a synthetic province: a row that is alone in its combination of
-- quasi-identifiers is a person anyone who knows those few facts about them can find.
-- The analysts' row-level views are now k-anonymous: every combination of their
-- quasi-identifiers holds at least k rows.
--
--   1. generalise: birth date -> 5-year birth cohort (its first year), ethnicity ->
--      'Kinh' / 'other', date of death -> its year; households' dates -> their year
--      and size -> 1..6 (6: six or more);
--   2. a row whose combination holds fewer than k rows in its commune is released
--      with its commune withheld (commune_code NULL), i.e. at the level of the whole
--      registry;
--   3. a row still in a combination of fewer than k rows is left out.
--
-- k is analyst.disclosure.k, which `popreg up` writes from the setting `disclosure_k`
-- (default 5) after the migrations (projections/disclosure.py; its `release` is the
-- same rule in Python, and a test holds the views to it).

CREATE TABLE analyst.disclosure (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),  -- one row only
    k   integer NOT NULL CHECK (k >= 1)
);
INSERT INTO analyst.disclosure (k) VALUES (5);
-- Analysts may read k (they need it to read the views), not change it.
GRANT SELECT ON analyst.disclosure TO popreg_analyst, popreg_auditor;

-- Columns change, which CREATE OR REPLACE VIEW cannot do.
DROP VIEW analyst.persons;
CREATE VIEW analyst.persons AS
WITH generalised AS (
    SELECT p.commune_code,
           p.sex,
           (extract(year FROM p.birth_date)::integer / 5) * 5 AS birth_cohort,
           CASE WHEN p.ethnicity = '01' THEN 'Kinh' ELSE 'other' END AS ethnic_group,
           p.marital_status,
           p.vital_status,
           extract(year FROM p.date_of_death)::integer AS death_year,
           p.residence
    FROM persons p
), in_commune AS (
    SELECT g.*,
           count(*) OVER (PARTITION BY commune_code, sex, birth_cohort, ethnic_group,
                          marital_status, vital_status, death_year, residence) AS n
    FROM generalised g
), placed AS (
    SELECT CASE WHEN n >= (SELECT k FROM analyst.disclosure) THEN commune_code END
               AS commune_code,
           sex, birth_cohort, ethnic_group, marital_status, vital_status, death_year, residence
    FROM in_commune
), released AS (
    SELECT pl.*,
           count(*) OVER (PARTITION BY commune_code, sex, birth_cohort, ethnic_group,
                          marital_status, vital_status, death_year, residence) AS n
    FROM placed pl
)
SELECT commune_code, sex, birth_cohort, ethnic_group, marital_status, vital_status,
       death_year, residence
FROM released
WHERE n >= (SELECT k FROM analyst.disclosure);

DROP VIEW analyst.households;
CREATE VIEW analyst.households AS
WITH generalised AS (
    SELECT h.commune_code,
           extract(year FROM h.created_on)::integer AS created_year,
           extract(year FROM h.dissolved_on)::integer AS dissolved_year,
           least((SELECT count(*) FROM household_members m
                   WHERE m.household_id = h.household_id AND m.left_on IS NULL), 6)::integer
               AS current_members
    FROM households h
), in_commune AS (
    SELECT g.*,
           count(*) OVER (PARTITION BY commune_code, created_year, dissolved_year,
                          current_members) AS n
    FROM generalised g
), placed AS (
    SELECT CASE WHEN n >= (SELECT k FROM analyst.disclosure) THEN commune_code END
               AS commune_code,
           created_year, dissolved_year, current_members
    FROM in_commune
), released AS (
    SELECT pl.*,
           count(*) OVER (PARTITION BY commune_code, created_year, dissolved_year,
                          current_members) AS n
    FROM placed pl
)
SELECT commune_code, created_year, dissolved_year, current_members
FROM released
WHERE n >= (SELECT k FROM analyst.disclosure);

GRANT SELECT ON analyst.persons, analyst.households TO popreg_analyst, popreg_auditor;
