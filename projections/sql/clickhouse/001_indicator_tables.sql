-- De-identified rows the indicators are sums over (projections/indicator_rows.py).
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

-- for a table created without it: parts written from now on (and by `popreg rebuild
-- indicators`) have it; older ones are read whole, as before
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
