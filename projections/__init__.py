"""Out and back: the pure fold, PostgreSQL state, ClickHouse indicators, and replay."""
