"""popreg: an event-sourced population registry on Kafka."""

from schemas.version import VERSION as __version__

__all__ = ["__version__"]
