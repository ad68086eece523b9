-- Administrative units for the indicators, from the official GSO tables
-- (schemas/data/admin-units/); `projections.indicator_units.load_units` fills them.
--
-- A commune code names a commune only together with a date: until 2025-06-30 the
-- 10,051 old communes (63 provinces), from 2025-07-01 the 3,321 new ones (34 provinces).
-- New communes often reuse an old code.
--
-- Two readings of a unit:
--   as_was   a row's commune is the commune its code named on the row's date, counted
--            in the units in force on the date the figure refers to: an event's own
--            date; for a population stock its reference date, so a row from before the
--            reform in a stock on or after 2025-07-01 is carried to the successor.
--   current  today's units: every old commune is carried onto its successor.
-- An old commune has ONE successor (no fractional persons): the new commune whose link
-- carries all its population (merged whole, or part of its area with all its
-- population); for a split commune, the first new commune by code that took part of
-- it (part of area and population, or part of the population); failing both, the first
-- it went to by code. 28 old communes are not in the conversion table: they have no
-- successor and count only at nation level in today's units.

CREATE TABLE IF NOT EXISTS popreg.communes
(
    commune_code  LowCardinality(String),
    commune_name  String,
    province_code LowCardinality(String),
    province_name String,
    regime        LowCardinality(String), -- 'before' (to 2025-06-30) | 'after' (from 2025-07-01)
    valid_from    Date32,                 -- 1900-01-01: valid since before the tables begin
    valid_to      Date32                  -- 2299-12-31: still valid
)
ENGINE = MergeTree
ORDER BY (regime, commune_code);

CREATE TABLE IF NOT EXISTS popreg.commune_successor
(
    old_code          LowCardinality(String),
    new_code          LowCardinality(String),
    new_province_code LowCardinality(String),
    link_kind         LowCardinality(String) -- schemas.admin_units.LinkKind of the chosen link
)
ENGINE = MergeTree
ORDER BY old_code;

-- Where a row's commune code lands, by how it is read:
--   'before'         a row dated before the reform, in the units of its date,
--   'before_mapped'  a row dated before the reform, carried onto today's units,
--   'after'          a row dated from the reform on. Its code is a new commune's, except
--                    in the stock rows of a household found before the reform, which keep
--                    its old code: a code that is no new commune's is read as the old one
--                    and carried to its successor (a reused code is read as the new one).
-- (code, reading) is unique.
CREATE OR REPLACE VIEW popreg.commune_places AS
SELECT commune_code AS code, 'before' AS reading, commune_code AS commune, province_code AS province
FROM popreg.communes
WHERE regime = 'before'
UNION ALL
SELECT old_code AS code, 'before_mapped' AS reading, new_code AS commune, new_province_code AS province
FROM popreg.commune_successor
UNION ALL
SELECT commune_code AS code, 'after' AS reading, commune_code AS commune, province_code AS province
FROM popreg.communes
WHERE regime = 'after'
UNION ALL
SELECT old_code AS code, 'after' AS reading, new_code AS commune, new_province_code AS province
FROM popreg.commune_successor
WHERE old_code NOT IN (SELECT commune_code FROM popreg.communes WHERE regime = 'after');

-- Which codes land in each unit, by reading: commune_places for both levels, as a
-- table the indicator views read a unit's codes from (one primary-key range instead of
-- the view's four scans). `load_units` refills it after the two tables above.
CREATE TABLE IF NOT EXISTS popreg.unit_places
(
    level   LowCardinality(String), -- 'province' | 'commune'
    unit    LowCardinality(String), -- the province's or the commune's code
    reading LowCardinality(String),
    code    LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (level, unit, reading, code);

-- Each unit's codes as arrays, in any reading and by reading, for the indicator views to
-- take in one scalar subquery (003_indicator_views.sql says why arrays).
CREATE OR REPLACE VIEW popreg.unit_code_sets AS
SELECT
    level,
    unit,
    groupArray(code) AS any_reading,
    groupArrayIf(code, reading = 'after') AS after,
    groupArrayIf(code, reading = 'before') AS before,
    groupArrayIf(code, reading = 'before_mapped') AS before_mapped
FROM popreg.unit_places
GROUP BY level, unit;
