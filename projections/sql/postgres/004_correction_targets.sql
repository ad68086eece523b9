-- Corrections by the event they target: every batch asks whether its events were
-- corrected before they arrived, and every re-fold gathers the corrections it reaches.
CREATE INDEX events_correction_target ON events (((payload->>'target_event_id')::uuid))
    WHERE event_type IN ('EventVoided', 'EventAmended');
