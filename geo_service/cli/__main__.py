"""``python -m geo_service.cli``."""

from geo_service.cli import app

app()
