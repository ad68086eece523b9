"""popreg: an event-sourced population registry on Kafka."""

__version__ = "0.1.0"
