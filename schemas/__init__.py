"""The event contract: Avro schemas (`avro/`), their pydantic models and the codec."""
