-- Corrections by the event they target: every batch asks whether its events were
-- corrected before they arrived, and every re-fold gathers the corrections it reaches.
CREATE INDEX events_correction_target ON events (((payload->>'target_event_id')::uuid))
    WHERE event_type IN ('EventVoided', 'EventAmended');

-- Links by event: a re-fold replaces the links of the events it re-applies.
CREATE INDEX event_entities_event ON event_entities (event_id);
