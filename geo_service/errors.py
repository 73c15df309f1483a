"""One error hierarchy. Each error knows its HTTP status; only ``api`` maps them to responses."""

from __future__ import annotations


class GeoServiceError(Exception):
    """Base of every error geo_service raises on purpose."""

    status_code: int = 500


class CatalogError(GeoServiceError, ValueError):
    """A layer catalog entry is broken (raised at load, names the file and field)."""


class DataValidationError(GeoServiceError, ValueError):
    """A data file does not match its catalog entry."""


class LayerNotFound(GeoServiceError, KeyError):
    """No layer with that id is visible to the caller."""

    status_code = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "layer not found"


class FeatureNotFound(LayerNotFound):
    """No feature with that id in the layer."""


class InvalidQuery(GeoServiceError, ValueError):
    """A request parameter is malformed or out of range."""

    status_code = 400


class InvalidParameter(GeoServiceError, ValueError):
    """An analysis parameter is out of range (zero or negative distance, speed of 0, ...)."""

    status_code = 400
