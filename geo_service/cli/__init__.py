"""The ``geo-service`` command line (Typer): ``common`` holds the apps and helpers,
``main`` the service and data commands, ``district`` ``init`` and ``import``."""

from geo_service.cli import coverage, db, district, main, report, scenarios, versions  # noqa: F401 - registers the commands
from geo_service.cli.common import app

__all__ = ["app"]
