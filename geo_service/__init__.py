"""geo_service: walking-distance service-coverage mapping for community services."""

__version__ = "0.1.0"
