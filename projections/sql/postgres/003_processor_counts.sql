-- What each processor has done, kept exact in the same transaction as its data so that
-- `popreg status` can show it without counting the archive: events whose current
-- outcome is applied / rejected / voided, duplicates skipped, undecodable messages.
CREATE TABLE processor_counts (
    consumer     text PRIMARY KEY,
    applied      bigint NOT NULL DEFAULT 0,
    rejected     bigint NOT NULL DEFAULT 0,
    voided       bigint NOT NULL DEFAULT 0,
    duplicates   bigint NOT NULL DEFAULT 0,
    undecodable  bigint NOT NULL DEFAULT 0,
    refolded     bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON processor_counts TO popreg_auditor;
