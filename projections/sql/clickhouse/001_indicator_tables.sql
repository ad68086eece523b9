-- De-identified rows the indicators are sums over (projections/domain/indicator_rows.py).
-- No names, national IDs, addresses or raw person ids: persons are pseudonymous keys.
-- Every row ends with a signed count; a correction writes negative rows, so every
-- figure is a SUM of sign (or delta), never a count of rows.

CREATE TABLE IF NOT EXISTS popreg.vital_events
(
    event_id      UUID,
    event_type    LowCardinality(String),
    commune_code  LowCardinality(String),
    occurred_on   Date32,
    recorded_at   DateTime64(3, 'UTC'),
    channel       LowCardinality(String),
    delay_days    Int32,
    subject_key   UInt64,
    sex           LowCardinality(String),
    age           Nullable(Int16),
    mother_age    Nullable(Int16),
    persons       UInt16,
    detail        LowCardinality(String),
    other_commune LowCardinality(String),
    sign          Int8,
    -- the rows are in occurrence order; queries by recording time (communes online,
    -- the freshness bench's polls) skip the granules recorded outside their window
    INDEX recorded_at_minmax recorded_at TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
ORDER BY (event_type, commune_code, occurred_on);

-- for a table created without the index: parts written after this (and every part after
-- `popreg rebuild indicators`) have it; parts written before are read whole
ALTER TABLE popreg.vital_events
    ADD INDEX IF NOT EXISTS recorded_at_minmax recorded_at TYPE minmax GRANULARITY 1;

CREATE TABLE IF NOT EXISTS popreg.population_deltas
(
    event_id       UUID,
    commune_code   LowCardinality(String),
    sex            LowCardinality(String),
    birth_date     Date32,
    marital_status LowCardinality(String),
    on_date        Date32,
    delta          Int8
)
ENGINE = MergeTree
ORDER BY (commune_code, on_date);

CREATE TABLE IF NOT EXISTS popreg.household_deltas
(
    event_id     UUID,
    commune_code LowCardinality(String),
    on_date      Date32,
    delta        Int8
)
ENGINE = MergeTree
ORDER BY (commune_code, on_date);

CREATE TABLE IF NOT EXISTS popreg.rejections
(
    event_id     UUID,
    event_type   LowCardinality(String),
    commune_code LowCardinality(String),
    reason       LowCardinality(String),
    occurred_on  Nullable(Date32),
    recorded_at  Nullable(DateTime64(3, 'UTC')),
    channel      LowCardinality(String),
    sign         Int8
)
ENGINE = MergeTree
ORDER BY (reason, commune_code);

-- Where the indicator processor has read to, per partition: written after the rows
-- of each batch; the newest row per partition wins.
CREATE TABLE IF NOT EXISTS popreg.consumer_positions
(
    consumer    LowCardinality(String),
    topic       LowCardinality(String),
    partition   Int32,
    next_offset Int64,
    written_at  DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (consumer, topic, partition);

-- The population deltas summed as the indicator stocks read them (003_indicator_views.sql):
-- a province's few million deltas are a fraction as many rows. Stocks are taken only on
-- the 1st or the last day of a month (the 28th or later), so a date's day can be coarsened
-- to the 1st, the 2nd (for the 2nd to the 28th) or the 29th (the 29th to the 31st):
-- whether a delta is dated by a stock date, and the age in completed years on it, come
-- out the same. The view below fills the table as deltas are inserted; the indicator
-- processor adds what it lacks on every start (`IndicatorSink.settle`: the first time,
-- and after a crash between the two inserts).
CREATE OR REPLACE FUNCTION popregStockDay AS (day) ->
    day - toDayOfMonth(day) + multiIf(toDayOfMonth(day) = 1, 1, toDayOfMonth(day) <= 28, 2, 29);

CREATE TABLE IF NOT EXISTS popreg.population_stock_deltas
(
    commune_code   LowCardinality(String),
    sex            LowCardinality(String),
    marital_status LowCardinality(String),
    birth_key      Date32, -- popregStockDay(birth_date)
    on_key         Date32, -- popregStockDay(on_date)
    delta          Int64
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, on_key, sex, marital_status, birth_key);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.population_stock_filler
TO popreg.population_stock_deltas AS
SELECT commune_code, sex, marital_status, popregStockDay(birth_date) AS birth_key,
       popregStockDay(on_date) AS on_key, toInt64(delta) AS delta
FROM popreg.population_deltas;

-- What population_stock_deltas lacks against population_deltas, as rows to add to it.
CREATE OR REPLACE VIEW popreg.population_stock_missing AS
SELECT commune_code, sex, marital_status, birth_key, on_key, sum(d) AS delta
FROM
(
    SELECT commune_code, sex, marital_status, popregStockDay(birth_date) AS birth_key,
           popregStockDay(on_date) AS on_key, toInt64(delta) AS d
    FROM popreg.population_deltas
    UNION ALL
    SELECT commune_code, sex, marital_status, birth_key, on_key, -delta AS d
    FROM popreg.population_stock_deltas
)
GROUP BY commune_code, sex, marital_status, birth_key, on_key
HAVING delta != 0;

-- The vital events summed as the indicator grid (004_indicator_grid.sql) reads them: a
-- province's million events are a tenth as many rows, and a series of eleven years read
-- from them costs a fraction of reading the events. Three tables, one per way the grid
-- dates an event, each filled like population_stock_deltas (a view on insert, settled on
-- start; `IndicatorSink.settle`):
-- - by the month it occurred in, with what the flows count by (the mother's five-year age
--   group as `intDiv(mother_age, 5) * 5`, 0 when unknown; the age at death as a band:
--   0 under one, 1 from one to four, 2 older or unknown): births, deaths, marriages,
--   divorces and moves;
-- - by the month it was recorded in, in Vietnam, with its channel and registration delay;
-- - by the day it was recorded online (phone or web), for the communes online: the 30
--   days to a period's last day are not whole months.
-- Periods run from the first to the last day of a month, and the reform took effect on
-- the first of a month, so which side of it an event occurred on is its month's side.
CREATE TABLE IF NOT EXISTS popreg.vital_event_months
(
    commune_code   LowCardinality(String),
    occurred_month Date32,
    event_type     LowCardinality(String),
    other_commune  LowCardinality(String),
    sex            LowCardinality(String),
    age_band       UInt8,
    mother_group   Int16,
    events         Int64, -- sum of sign
    persons        Int64  -- sum of persons * sign
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, occurred_month, event_type, other_commune, sex, age_band, mother_group);

CREATE OR REPLACE VIEW popreg.vital_event_months_of AS
SELECT commune_code, toDate32(toStartOfMonth(occurred_on)) AS occurred_month, event_type,
       other_commune, sex, toUInt8(multiIf(age < 1, 0, age < 5, 1, 2)) AS age_band,
       toInt16(intDiv(ifNull(mother_age, -1), 5) * 5) AS mother_group,
       toInt64(sign) AS events, toInt64(persons) * sign AS persons
FROM popreg.vital_events
WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                     'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.vital_event_months_filler
TO popreg.vital_event_months AS
SELECT commune_code, toDate32(toStartOfMonth(occurred_on)) AS occurred_month, event_type,
       other_commune, sex, toUInt8(multiIf(age < 1, 0, age < 5, 1, 2)) AS age_band,
       toInt16(intDiv(ifNull(mother_age, -1), 5) * 5) AS mother_group,
       toInt64(sign) AS events, toInt64(persons) * sign AS persons
FROM popreg.vital_events
WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                     'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_event_months_missing AS
SELECT commune_code, occurred_month, event_type, other_commune, sex, age_band, mother_group,
       sum(e) AS events, sum(p) AS persons
FROM
(
    SELECT commune_code, occurred_month, event_type, other_commune, sex, age_band,
           mother_group, events AS e, persons AS p
    FROM popreg.vital_event_months_of
    UNION ALL
    SELECT commune_code, occurred_month, event_type, other_commune, sex, age_band,
           mother_group, -events AS e, -persons AS p
    FROM popreg.vital_event_months
)
GROUP BY commune_code, occurred_month, event_type, other_commune, sex, age_band, mother_group
HAVING events != 0 OR persons != 0;

CREATE TABLE IF NOT EXISTS popreg.vital_recorded_months
(
    commune_code   LowCardinality(String),
    recorded_month Date32,
    after_reform   UInt8, -- occurred on or after 2025-07-01
    channel        LowCardinality(String),
    delay_days     Int32,
    events         Int64
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, recorded_month, after_reform, channel, delay_days);

CREATE OR REPLACE VIEW popreg.vital_recorded_months_of AS
SELECT commune_code,
       toDate32(toStartOfMonth(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform, channel, delay_days,
       toInt64(sign) AS events
FROM popreg.vital_events
WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                     'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.vital_recorded_months_filler
TO popreg.vital_recorded_months AS
SELECT commune_code,
       toDate32(toStartOfMonth(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform, channel, delay_days,
       toInt64(sign) AS events
FROM popreg.vital_events
WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                     'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_recorded_months_missing AS
SELECT commune_code, recorded_month, after_reform, channel, delay_days, sum(e) AS events
FROM
(
    SELECT commune_code, recorded_month, after_reform, channel, delay_days, events AS e
    FROM popreg.vital_recorded_months_of
    UNION ALL
    SELECT commune_code, recorded_month, after_reform, channel, delay_days, -events AS e
    FROM popreg.vital_recorded_months
)
GROUP BY commune_code, recorded_month, after_reform, channel, delay_days
HAVING events != 0;

-- The events recorded online by day, which online_windows replaced: dropped where an
-- earlier popreg made them.
DROP VIEW IF EXISTS popreg.online_recorded_days_filler;
DROP VIEW IF EXISTS popreg.online_recorded_days_missing;
DROP VIEW IF EXISTS popreg.online_recorded_days_of;
DROP TABLE IF EXISTS popreg.online_recorded_days;

-- The events recorded online (from a phone or the web) by commune and by the month ends
-- whose 30 days (the day itself and the 29 before) hold the day: what the grid's
-- communes online read for a series of periods, instead of every day between them. A day is in at most two such windows: its month's and,
-- when that month ends in under 30 days, the next month's.
CREATE OR REPLACE FUNCTION popregWindowEnds AS (day) ->
    arrayFilter(e -> e - 29 <= day,
                [toLastDayOfMonth(day), toLastDayOfMonth(toLastDayOfMonth(day) + 1)]);

CREATE TABLE IF NOT EXISTS popreg.online_windows
(
    window_end   Date32, -- a month's last day
    commune_code LowCardinality(String),
    after_reform UInt8,
    events       Int64   -- net events recorded online in the 30 days to it
)
ENGINE = SummingMergeTree
ORDER BY (window_end, commune_code, after_reform);

CREATE OR REPLACE VIEW popreg.online_windows_of AS
SELECT window_end, commune_code, after_reform, events
FROM
(
    SELECT commune_code, toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform,
           toInt64(sign) AS events, toDate32(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh')) AS day
    FROM popreg.vital_events
    WHERE channel IN ('MOBILE', 'WEB')
)
ARRAY JOIN popregWindowEnds(day) AS window_end;

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.online_windows_filler
TO popreg.online_windows AS
SELECT window_end, commune_code, after_reform, events
FROM
(
    SELECT commune_code, toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform,
           toInt64(sign) AS events, toDate32(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh')) AS day
    FROM popreg.vital_events
    WHERE channel IN ('MOBILE', 'WEB')
)
ARRAY JOIN popregWindowEnds(day) AS window_end;

CREATE OR REPLACE VIEW popreg.online_windows_missing AS
SELECT window_end, commune_code, after_reform, sum(e) AS events
FROM
(
    SELECT window_end, commune_code, after_reform, events AS e FROM popreg.online_windows_of
    UNION ALL
    SELECT window_end, commune_code, after_reform, -events AS e FROM popreg.online_windows
)
GROUP BY window_end, commune_code, after_reform
HAVING events != 0;

-- Every event read, accepted or not, by commune and month recorded (in Vietnam): what
-- `rejections_by_reason` divides the rejected ones by ("submitted"), without reading
-- the events of the period one by one.
CREATE TABLE IF NOT EXISTS popreg.submitted_months
(
    commune_code   LowCardinality(String),
    recorded_month Date32,
    after_reform   UInt8, -- occurred on or after 2025-07-01
    events         Int64
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, recorded_month, after_reform);

CREATE OR REPLACE VIEW popreg.submitted_months_of AS
SELECT commune_code,
       toDate32(toStartOfMonth(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform, toInt64(sign) AS events
FROM popreg.vital_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.submitted_months_filler
TO popreg.submitted_months AS
SELECT commune_code,
       toDate32(toStartOfMonth(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(occurred_on >= toDate32('2025-07-01')) AS after_reform, toInt64(sign) AS events
FROM popreg.vital_events;

CREATE OR REPLACE VIEW popreg.submitted_months_missing AS
SELECT commune_code, recorded_month, after_reform, sum(e) AS events
FROM
(
    SELECT commune_code, recorded_month, after_reform, events AS e
    FROM popreg.submitted_months_of
    UNION ALL
    SELECT commune_code, recorded_month, after_reform, -events AS e
    FROM popreg.submitted_months
)
GROUP BY commune_code, recorded_month, after_reform
HAVING events != 0;

-- The province sums: the rows above summed by the provinces their commune code lands in
-- (by reading, `province_landing`) instead of by commune, for the pages of a province and
-- of the nation, which then read a few thousand rows instead of millions. A province's
-- people are summed by the dates of a year series only (1 July and 31 December: the
-- stock dates of calendar years), their birth dates by year and whether the birthday
-- comes after 1 July; flows by month, as above. Filled and settled like the tables above.
-- A code that lands in no province (there is none among the official tables) keeps ''.

-- The provinces each commune code lands in, by reading: `load_units` refills it with the
-- unit tables, before any processor starts.
CREATE TABLE IF NOT EXISTS popreg.province_landing
(
    code   LowCardinality(String),
    after  LowCardinality(String),
    before LowCardinality(String),
    mapped LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY code;

-- the first stock date of a year series on or after `day`
CREATE OR REPLACE FUNCTION popregYearAnchor AS (day) ->
    if(day <= makeDate32(toYear(day), 7, 1), makeDate32(toYear(day), 7, 1),
       makeDate32(toYear(day), 12, 31));

CREATE TABLE IF NOT EXISTS popreg.population_year_sums
(
    province_after  LowCardinality(String),
    province_before LowCardinality(String),
    province_mapped LowCardinality(String),
    after_row       UInt8,  -- dated on or after 2025-07-01
    anchor          Date32, -- popregYearAnchor(on_date): counted on it and after
    birth_year      Int32,
    birth_rank      UInt8,  -- 1 when the birthday comes after 1 July
    sex             LowCardinality(String),
    marital         UInt8,  -- 0 never married, 1 married at some time, 2 unknown
    delta           Int64
)
ENGINE = SummingMergeTree
ORDER BY (province_after, province_before, province_mapped, anchor, after_row, birth_year, birth_rank, sex, marital);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.population_year_sums_filler
TO popreg.population_year_sums AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt32(toYear(d.birth_date)) AS birth_year,
       toUInt8(toMonth(d.birth_date) * 100 + toDayOfMonth(d.birth_date) > 701) AS birth_rank,
       d.sex AS sex,
       toUInt8(multiIf(d.marital_status = 'NEVER_MARRIED', 0, d.marital_status = 'UNKNOWN', 2, 1))
           AS marital,
       toInt64(d.delta) AS delta
FROM popreg.population_deltas AS d
LEFT JOIN popreg.province_landing AS l ON l.code = d.commune_code
;

CREATE OR REPLACE VIEW popreg.population_year_sums_of AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt32(toYear(d.birth_date)) AS birth_year,
       toUInt8(toMonth(d.birth_date) * 100 + toDayOfMonth(d.birth_date) > 701) AS birth_rank,
       d.sex AS sex,
       toUInt8(multiIf(d.marital_status = 'NEVER_MARRIED', 0, d.marital_status = 'UNKNOWN', 2, 1))
           AS marital,
       toInt64(d.delta) AS delta
FROM popreg.population_deltas AS d
LEFT JOIN popreg.province_landing AS l ON l.code = d.commune_code
;

CREATE OR REPLACE VIEW popreg.population_year_sums_missing AS
SELECT province_after, province_before, province_mapped, after_row, anchor, birth_year, birth_rank, sex, marital, sum(delta) AS delta
FROM
(
    SELECT * FROM popreg.population_year_sums_of
    UNION ALL
    SELECT province_after, province_before, province_mapped, after_row, anchor, birth_year, birth_rank, sex, marital, -delta AS delta FROM popreg.population_year_sums
)
GROUP BY province_after, province_before, province_mapped, after_row, anchor, birth_year, birth_rank, sex, marital
HAVING delta != 0;

CREATE TABLE IF NOT EXISTS popreg.household_year_sums
(
    province_after  LowCardinality(String),
    province_before LowCardinality(String),
    province_mapped LowCardinality(String),
    after_row       UInt8,
    anchor          Date32,
    delta           Int64
)
ENGINE = SummingMergeTree
ORDER BY (province_after, province_before, province_mapped, anchor, after_row);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.household_year_sums_filler
TO popreg.household_year_sums AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt64(d.delta) AS delta
FROM popreg.household_deltas AS d
LEFT JOIN popreg.province_landing AS l ON l.code = d.commune_code
;

CREATE OR REPLACE VIEW popreg.household_year_sums_of AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt64(d.delta) AS delta
FROM popreg.household_deltas AS d
LEFT JOIN popreg.province_landing AS l ON l.code = d.commune_code
;

CREATE OR REPLACE VIEW popreg.household_year_sums_missing AS
SELECT province_after, province_before, province_mapped, after_row, anchor, sum(delta) AS delta
FROM
(
    SELECT * FROM popreg.household_year_sums_of
    UNION ALL
    SELECT province_after, province_before, province_mapped, after_row, anchor, -delta AS delta FROM popreg.household_year_sums
)
GROUP BY province_after, province_before, province_mapped, after_row, anchor
HAVING delta != 0;

-- The same year series by commune code, for a commune's calendar years (its page, a
-- province's map of communes): a third of the rows of population_stock_deltas, which
-- they replace when every period asked for is a calendar year.
CREATE TABLE IF NOT EXISTS popreg.population_commune_year_sums
(
    commune_code LowCardinality(String),
    after_row    UInt8,
    anchor       Date32,
    birth_year   Int32,
    birth_rank   UInt8,
    sex          LowCardinality(String),
    marital      UInt8,
    delta        Int64
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, anchor, after_row, birth_year, birth_rank, sex, marital);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.population_commune_year_sums_filler
TO popreg.population_commune_year_sums AS
SELECT d.commune_code AS commune_code,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt32(toYear(d.birth_date)) AS birth_year,
       toUInt8(toMonth(d.birth_date) * 100 + toDayOfMonth(d.birth_date) > 701) AS birth_rank,
       d.sex AS sex,
       toUInt8(multiIf(d.marital_status = 'NEVER_MARRIED', 0, d.marital_status = 'UNKNOWN', 2, 1))
           AS marital,
       toInt64(d.delta) AS delta
FROM popreg.population_deltas AS d;

CREATE OR REPLACE VIEW popreg.population_commune_year_sums_of AS
SELECT d.commune_code AS commune_code,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt32(toYear(d.birth_date)) AS birth_year,
       toUInt8(toMonth(d.birth_date) * 100 + toDayOfMonth(d.birth_date) > 701) AS birth_rank,
       d.sex AS sex,
       toUInt8(multiIf(d.marital_status = 'NEVER_MARRIED', 0, d.marital_status = 'UNKNOWN', 2, 1))
           AS marital,
       toInt64(d.delta) AS delta
FROM popreg.population_deltas AS d;

CREATE OR REPLACE VIEW popreg.population_commune_year_sums_missing AS
SELECT commune_code, after_row, anchor, birth_year, birth_rank, sex, marital, sum(delta) AS delta
FROM
(
    SELECT * FROM popreg.population_commune_year_sums_of
    UNION ALL
    SELECT commune_code, after_row, anchor, birth_year, birth_rank, sex, marital, -delta AS delta
    FROM popreg.population_commune_year_sums
)
GROUP BY commune_code, after_row, anchor, birth_year, birth_rank, sex, marital
HAVING delta != 0;

CREATE TABLE IF NOT EXISTS popreg.household_commune_year_sums
(
    commune_code LowCardinality(String),
    after_row    UInt8,
    anchor       Date32,
    delta        Int64
)
ENGINE = SummingMergeTree
ORDER BY (commune_code, anchor, after_row);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.household_commune_year_sums_filler
TO popreg.household_commune_year_sums AS
SELECT d.commune_code AS commune_code,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt64(d.delta) AS delta
FROM popreg.household_deltas AS d;

CREATE OR REPLACE VIEW popreg.household_commune_year_sums_of AS
SELECT d.commune_code AS commune_code,
       toUInt8(d.on_date >= toDate32('2025-07-01')) AS after_row,
       popregYearAnchor(d.on_date) AS anchor, toInt64(d.delta) AS delta
FROM popreg.household_deltas AS d;

CREATE OR REPLACE VIEW popreg.household_commune_year_sums_missing AS
SELECT commune_code, after_row, anchor, sum(delta) AS delta
FROM
(
    SELECT * FROM popreg.household_commune_year_sums_of
    UNION ALL
    SELECT commune_code, after_row, anchor, -delta AS delta FROM popreg.household_commune_year_sums
)
GROUP BY commune_code, after_row, anchor
HAVING delta != 0;

CREATE TABLE IF NOT EXISTS popreg.vital_event_province_months
(
    province_after  LowCardinality(String),
    province_before LowCardinality(String),
    province_mapped LowCardinality(String),
    occurred_month  Date32,
    event_type      LowCardinality(String),
    other_given     UInt8, -- other_commune != ''
    other_after     LowCardinality(String), -- the other commune's provinces by reading
    other_before    LowCardinality(String),
    other_mapped    LowCardinality(String),
    sex             LowCardinality(String),
    age_band        UInt8,
    mother_group    Int16,
    events          Int64,
    persons         Int64
)
ENGINE = SummingMergeTree
ORDER BY (province_after, province_before, province_mapped, occurred_month, event_type, other_given, other_after, other_before, other_mapped, sex, age_band, mother_group);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.vital_event_province_months_filler
TO popreg.vital_event_province_months AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toDate32(toStartOfMonth(e.occurred_on)) AS occurred_month, e.event_type AS event_type,
       toUInt8(e.other_commune != '') AS other_given, o.after AS other_after,
       o.before AS other_before, o.mapped AS other_mapped, e.sex AS sex,
       toUInt8(multiIf(e.age < 1, 0, e.age < 5, 1, 2)) AS age_band,
       toInt16(intDiv(ifNull(e.mother_age, -1), 5) * 5) AS mother_group,
       toInt64(e.sign) AS events, toInt64(e.persons) * e.sign AS persons
FROM popreg.vital_events AS e
LEFT JOIN popreg.province_landing AS l ON l.code = e.commune_code
LEFT JOIN popreg.province_landing AS o ON o.code = e.other_commune
WHERE e.event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                       'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_event_province_months_of AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toDate32(toStartOfMonth(e.occurred_on)) AS occurred_month, e.event_type AS event_type,
       toUInt8(e.other_commune != '') AS other_given, o.after AS other_after,
       o.before AS other_before, o.mapped AS other_mapped, e.sex AS sex,
       toUInt8(multiIf(e.age < 1, 0, e.age < 5, 1, 2)) AS age_band,
       toInt16(intDiv(ifNull(e.mother_age, -1), 5) * 5) AS mother_group,
       toInt64(e.sign) AS events, toInt64(e.persons) * e.sign AS persons
FROM popreg.vital_events AS e
LEFT JOIN popreg.province_landing AS l ON l.code = e.commune_code
LEFT JOIN popreg.province_landing AS o ON o.code = e.other_commune
WHERE e.event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                       'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_event_province_months_missing AS
SELECT province_after, province_before, province_mapped, occurred_month, event_type, other_given, other_after, other_before, other_mapped, sex, age_band, mother_group, sum(events) AS events, sum(persons) AS persons
FROM
(
    SELECT * FROM popreg.vital_event_province_months_of
    UNION ALL
    SELECT province_after, province_before, province_mapped, occurred_month, event_type, other_given, other_after, other_before, other_mapped, sex, age_band, mother_group, -events AS events, -persons AS persons FROM popreg.vital_event_province_months
)
GROUP BY province_after, province_before, province_mapped, occurred_month, event_type, other_given, other_after, other_before, other_mapped, sex, age_band, mother_group
HAVING events != 0 OR persons != 0;

CREATE TABLE IF NOT EXISTS popreg.vital_recorded_province_months
(
    province_after  LowCardinality(String),
    province_before LowCardinality(String),
    province_mapped LowCardinality(String),
    recorded_month  Date32,
    after_reform    UInt8,
    channel         LowCardinality(String),
    delay_days      Int32,
    events          Int64
)
ENGINE = SummingMergeTree
ORDER BY (province_after, province_before, province_mapped, recorded_month, after_reform, channel, delay_days);

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.vital_recorded_province_months_filler
TO popreg.vital_recorded_province_months AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toDate32(toStartOfMonth(toTimezone(e.recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(e.occurred_on >= toDate32('2025-07-01')) AS after_reform, e.channel AS channel,
       e.delay_days AS delay_days, toInt64(e.sign) AS events
FROM popreg.vital_events AS e
LEFT JOIN popreg.province_landing AS l ON l.code = e.commune_code
WHERE e.event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                       'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_recorded_province_months_of AS
SELECT l.after AS province_after, l.before AS province_before, l.mapped AS province_mapped,
       toDate32(toStartOfMonth(toTimezone(e.recorded_at, 'Asia/Ho_Chi_Minh'))) AS recorded_month,
       toUInt8(e.occurred_on >= toDate32('2025-07-01')) AS after_reform, e.channel AS channel,
       e.delay_days AS delay_days, toInt64(e.sign) AS events
FROM popreg.vital_events AS e
LEFT JOIN popreg.province_landing AS l ON l.code = e.commune_code
WHERE e.event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                       'DivorceRegistered', 'MovedIn', 'MovedOut');

CREATE OR REPLACE VIEW popreg.vital_recorded_province_months_missing AS
SELECT province_after, province_before, province_mapped, recorded_month, after_reform, channel, delay_days, sum(events) AS events
FROM
(
    SELECT * FROM popreg.vital_recorded_province_months_of
    UNION ALL
    SELECT province_after, province_before, province_mapped, recorded_month, after_reform, channel, delay_days, -events AS events FROM popreg.vital_recorded_province_months
)
GROUP BY province_after, province_before, province_mapped, recorded_month, after_reform, channel, delay_days
HAVING events != 0;

-- The programme's collaborator figures (collaborators_active, collaborators_mobile_share
-- in 003 and 004): who recorded each event, and the collaborators' roster, both
-- de-identified (pseudonymous keys; no name, no id).

-- One row per event read from the log, refused or voided ones too: a recording is a fact
-- about the log (projections/domain/recordings.py). Written by the indicator processor
-- before its positions, so a batch read again after a crash writes its rows again: one
-- row per event is kept on merge, and the figures count distinct collaborators, which
-- a repeated row leaves unchanged.
CREATE TABLE IF NOT EXISTS popreg.recordings
(
    event_id     UUID,
    reporter_key UInt64,
    commune_code LowCardinality(String),
    channel      LowCardinality(String),
    recorded_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (recorded_at, event_id);

-- Who recorded from a phone in the 30 days to each month's end (popregWindowEnds): what
-- the grid's collaborators_mobile reads for a series of periods. A set: a recording
-- written twice (a batch read again) adds nothing.
CREATE TABLE IF NOT EXISTS popreg.mobile_windows
(
    window_end   Date32,
    reporter_key UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (window_end, reporter_key);

CREATE OR REPLACE VIEW popreg.mobile_windows_of AS
SELECT DISTINCT window_end, reporter_key
FROM
(
    SELECT reporter_key, toDate32(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh')) AS day
    FROM popreg.recordings
    WHERE channel = 'MOBILE'
)
ARRAY JOIN popregWindowEnds(day) AS window_end;

CREATE MATERIALIZED VIEW IF NOT EXISTS popreg.mobile_windows_filler
TO popreg.mobile_windows AS
SELECT DISTINCT window_end, reporter_key
FROM
(
    SELECT reporter_key, toDate32(toTimezone(recorded_at, 'Asia/Ho_Chi_Minh')) AS day
    FROM popreg.recordings
    WHERE channel = 'MOBILE'
)
ARRAY JOIN popregWindowEnds(day) AS window_end;

CREATE OR REPLACE VIEW popreg.mobile_windows_missing AS
SELECT window_end, reporter_key FROM popreg.mobile_windows_of
WHERE (window_end, reporter_key) NOT IN (SELECT window_end, reporter_key FROM popreg.mobile_windows);

-- The collaborators' accounts (producers/gateway/collaborators.py), loaded whole from the
-- gateway's roster by `popreg up` and after every change to it: the commune an account
-- belongs to (today's code) and the days, in Vietnam, it was enrolled and revoked.
CREATE TABLE IF NOT EXISTS popreg.collaborators
(
    collaborator_key UInt64,
    commune_code     LowCardinality(String),
    enrolled_on      Date32,
    revoked_on       Nullable(Date32)
)
ENGINE = MergeTree
ORDER BY (commune_code, collaborator_key);
