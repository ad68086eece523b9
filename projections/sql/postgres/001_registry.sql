-- The registry as it stands now (written by the state projector, rebuilt by
-- `popreg rebuild state`), the archive of every event, rejections, and the consumer
-- positions stored in the same transaction as the data they cover.

CREATE TABLE households (
    household_id    text PRIMARY KEY,
    commune_code    text NOT NULL,
    address         text,
    head_person_id  text,
    enumerated_on   date,
    created_on      date NOT NULL,
    dissolved_on    date,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_commune ON households (commune_code);

CREATE TABLE persons (
    person_id       text PRIMARY KEY,
    full_name       text NOT NULL,
    sex             text NOT NULL,
    birth_date      date NOT NULL,
    ethnicity       text NOT NULL,
    national_id     text,
    marital_status  text NOT NULL,
    spouse_id       text,
    mother_id       text,
    father_id       text,
    live_births     integer NOT NULL DEFAULT 0,
    vital_status    text NOT NULL,
    date_of_death   date,
    residence       text NOT NULL,
    household_id    text,
    commune_code    text,
    since           date NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_household ON persons (household_id);
CREATE INDEX persons_national_id ON persons (national_id) WHERE national_id IS NOT NULL;

CREATE TABLE household_members (
    household_id     text NOT NULL,
    person_id        text NOT NULL,
    relation_to_head text NOT NULL,
    joined_on        date NOT NULL,
    left_on          date,
    left_reason      text,
    PRIMARY KEY (household_id, person_id, joined_on)
);
CREATE INDEX household_members_person ON household_members (person_id);

-- Every decodable event, once (event_id), with where it was read. The payload never
-- changes; `outcome` is the fold's verdict and may change when a late event or a
-- correction re-folds the history it belongs to.
CREATE TABLE events (
    event_id      uuid PRIMARY KEY,
    event_type    text NOT NULL,
    household_id  text NOT NULL,
    commune_code  text NOT NULL,
    occurred_on   date NOT NULL,
    recorded_at   timestamptz NOT NULL,
    topic         text NOT NULL,
    partition     integer NOT NULL,
    "offset"      bigint NOT NULL,
    payload       jsonb NOT NULL,
    outcome       text NOT NULL,
    reason        text,
    archived_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_household ON events (household_id, occurred_on);
CREATE INDEX events_position ON events (topic, partition, "offset");

-- Which households and persons each event touches (kind 'H' or 'P'), with the
-- event's history key, so a late event's closure can be found and re-folded.
CREATE TABLE event_entities (
    kind         char(1) NOT NULL,
    entity_id    text NOT NULL,
    occurred_on  date NOT NULL,
    recorded_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL REFERENCES events (event_id),
    PRIMARY KEY (kind, entity_id, occurred_on, recorded_at, event_id)
);

-- The state of an entity after each event that touched it: a late event restores
-- the entities it reaches to their version before it and re-applies what follows.
CREATE TABLE entity_versions (
    kind         char(1) NOT NULL,
    entity_id    text NOT NULL,
    occurred_on  date NOT NULL,
    recorded_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    state        jsonb,
    PRIMARY KEY (kind, entity_id, occurred_on, recorded_at, event_id)
);

CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id <> OLD.event_id OR NEW.payload <> OLD.payload
       OR NEW.partition <> OLD.partition OR NEW."offset" <> OLD."offset" THEN
        RAISE EXCEPTION 'the event archive is immutable (event %)', OLD.event_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER events_immutable BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE FUNCTION events_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event archive is append-only; rebuild with `popreg rebuild state`';
END $$;
CREATE TRIGGER events_kept BEFORE DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_kept();

-- Messages that did not become state: undecodable bytes (event_id NULL, raw kept) and
-- events the fold rejected (their payload is in `events`).
CREATE TABLE rejected_events (
    topic         text NOT NULL,
    partition     integer NOT NULL,
    "offset"      bigint NOT NULL,
    event_id      uuid,
    event_type    text,
    commune_code  text,
    reason        text NOT NULL,
    detail        text NOT NULL,
    raw           bytea,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX rejected_events_reason ON rejected_events (reason);

-- Where each consumer stands: the next offset to read per partition, written in the
-- same transaction as the rows it covers, read back on every partition assignment.
CREATE TABLE consumer_positions (
    consumer     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);
