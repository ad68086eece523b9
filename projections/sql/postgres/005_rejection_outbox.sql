-- The rejected topic is fed from here, as from a transactional outbox: a batch stores
-- its new rejections unannounced in the same transaction as its positions and marks
-- them announced once the broker has acknowledged them; a worker that died in between
-- announces them when it starts again (at least once: a notice may come twice, keyed
-- by its offset). Earlier rows, and rows a rebuild writes, count as announced.
ALTER TABLE rejected_events ADD COLUMN announced boolean NOT NULL DEFAULT true;
CREATE INDEX rejected_events_unannounced ON rejected_events (topic) WHERE NOT announced;
