-- What a population forecast measures its rates from (docs/forecasts.md): a unit's
-- events and residents over a base window [start, end], placed in the unit as
-- indicator_values places them (003_indicator_views.sql, 002_units.sql). One row per
-- (measure, sex, age group) with its value:
--
--   deaths            by sex and abridged age group (0, 1-4, 5-9 … 95-99, 100+), age at death
--   births            by sex of the child (age_from -1)
--   births_by_mother  by the mother's five-year group 15-19 … 45-49 (younger or older
--                     mothers in the nearest group; sex '')
--   in_migrants, out_migrants
--                     persons moving in or out across the unit's border, by sex and
--                     five-year age group (0-4 … 100+) on the day of the move: each
--                     person of a move, as the registry's residents changed
--   population_before, population_end
--                     residents by sex and abridged age group on the day before start
--                     and on end (the exposures are their mean times the window's years)
--
-- Sexes other than MALE and FEMALE are left out: the projection is by two sexes.

CREATE OR REPLACE VIEW popreg.forecast_window AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {start:Date32} AS p_start,
    {end:Date32} AS p_end,
    toDate32('2025-07-01') AS reform,
    p_level = 'nation' AS everywhere,
    p_start - 1 AS p_before,
    -- an abridged age group from completed years
    age -> toInt32(multiIf(age < 1, 0, age < 5, 1, least(intDiv(age, 5) * 5, 100))) AS abridged,
    -- completed years on `day` of someone born on `birth` (negative: not born yet)
    (birth, day) -> intDiv(toInt32(toYYYYMMDD(day)) - toInt32(toYYYYMMDD(birth)), 10000) AS age_on,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            + throwIf(p_end < p_start, 'the window ends before it starts')
            AS failed
    ),

    (SELECT (any_reading, after, before, before_mapped) FROM popreg.unit_code_sets
     WHERE level = p_level AND unit = p_code) AS code_sets,
    code_sets.1 AS unit_codes,
    code_sets.2 AS after_codes,
    if(p_units = 'current', code_sets.4, code_sets.3) AS event_codes,
    if(p_units = 'current' OR p_before >= reform, code_sets.4, code_sets.3) AS before_day_codes,
    if(p_units = 'current' OR p_end >= reform, code_sets.4, code_sets.3) AS end_day_codes,

    -- the unit's events in the window, each placed in the units in force when it occurred
    events AS (
        SELECT event_id, event_type, sex, age, mother_age, sign,
               other_commune = '' OR NOT (everywhere OR if(occurred_on >= reform,
                   other_commune IN after_codes, other_commune IN event_codes)) AS crosses
        FROM popreg.vital_events
        WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MovedIn', 'MovedOut')
          AND occurred_on BETWEEN p_start AND p_end
          AND (everywhere OR (commune_code IN unit_codes AND if(occurred_on >= reform,
                   commune_code IN after_codes, commune_code IN event_codes)))
    ),

    moves AS (
        SELECT d.sex AS sex, e.event_type AS event_type,
               toInt32(least(greatest(intDiv(age_on(d.birth_date, d.on_date), 5) * 5, 0), 100))
                   AS age_from,
               sum(d.delta) AS net
        FROM popreg.population_deltas AS d
        INNER JOIN (SELECT event_id, event_type FROM events
                    WHERE event_type IN ('MovedIn', 'MovedOut') AND crosses) AS e
            ON d.event_id = e.event_id
        WHERE d.sex IN ('MALE', 'FEMALE')
        GROUP BY sex, event_type, age_from
    ),

    -- residents on the day before the window and on its last day, as in the pyramid
    residents AS (
        SELECT day, sex, abridged(age_on(birth_date, day)) AS age_from, sum(delta) AS persons
        FROM popreg.population_deltas
        ARRAY JOIN [p_before, p_end] AS day
        WHERE on_date <= day AND sex IN ('MALE', 'FEMALE')
          AND age_on(birth_date, day) >= 0
          AND (everywhere OR (commune_code IN unit_codes AND if(on_date >= reform,
                   commune_code IN after_codes,
                   commune_code IN if(day = p_before, before_day_codes, end_day_codes))))
        GROUP BY day, sex, age_from
    )

SELECT measure, sex, age_from, toFloat64(value) AS value
FROM
(
    SELECT 'deaths' AS measure, sex, abridged(age) AS age_from, sum(sign) AS value
    FROM events
    WHERE event_type = 'DeathRegistered' AND sex IN ('MALE', 'FEMALE') AND age IS NOT NULL
    GROUP BY sex, age_from
    UNION ALL
    SELECT 'births', sex, -1, sum(sign)
    FROM events
    WHERE event_type = 'BirthRegistered' AND sex IN ('MALE', 'FEMALE')
    GROUP BY sex
    UNION ALL
    SELECT 'births_by_mother', '',
           toInt32(least(greatest(intDiv(ifNull(mother_age, 30), 5) * 5, 15), 45)), sum(sign)
    FROM events
    WHERE event_type = 'BirthRegistered'
    GROUP BY 3
    UNION ALL
    SELECT if(event_type = 'MovedIn', 'in_migrants', 'out_migrants'), sex, age_from,
           if(event_type = 'MovedIn', net, -net)
    FROM moves
    UNION ALL
    SELECT if(day = p_before, 'population_before', 'population_end'), sex, age_from, persons
    FROM residents
) AS measured
CROSS JOIN checks
WHERE value != 0
ORDER BY measure, sex, age_from;

-- Stored forecasts (`popreg forecast --store`), for analysts and the portal: a run's
-- assumptions, and its projected population and summary by year. Aggregates only: the
-- analyst reads these tables as they are.
CREATE TABLE IF NOT EXISTS popreg.forecast_runs
(
    run_id      UUID,
    created_at  DateTime64(3, 'UTC'),
    level       LowCardinality(String),
    code        LowCardinality(String),
    units       LowCardinality(String),
    base_date   Date32,
    until_year  Int32,
    variant     LowCardinality(String),
    assumptions String -- JSON: the window, TFR, sex ratio at birth, e0, the standards
)
ENGINE = MergeTree
ORDER BY (level, code, created_at);

CREATE TABLE IF NOT EXISTS popreg.forecast_population
(
    run_id   UUID,
    on_date  Date32,
    sex      LowCardinality(String), -- 'male' | 'female'
    age_from Int32,                  -- five-year groups, 100 = 100 and over
    persons  Float64
)
ENGINE = MergeTree
ORDER BY (run_id, on_date, sex, age_from);

CREATE TABLE IF NOT EXISTS popreg.forecast_summary
(
    run_id  UUID,
    on_date Date32,
    measure LowCardinality(String), -- population, births, deaths, net_migration, tfr, ...
    value   Float64
)
ENGINE = MergeTree
ORDER BY (run_id, on_date, measure);
