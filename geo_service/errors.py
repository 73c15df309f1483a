"""One error hierarchy. Each error knows its HTTP status; only ``api`` maps them to responses."""

from __future__ import annotations


class GeoServiceError(Exception):
    """Base of every error geo_service raises on purpose."""

    status_code: int = 500


class CatalogError(GeoServiceError, ValueError):
    """A layer catalog entry is broken (raised at load, names the file and field)."""


class DataValidationError(GeoServiceError, ValueError):
    """Data do not match their catalog entry (a file read, a write refused)."""

    status_code = 422


class ProfileError(GeoServiceError, ValueError):
    """The district profile (``district.yaml``) is broken or does not fit the data."""


class UnsuitableCRS(ProfileError):
    """A metric CRS whose area of use misses the data (lengths would be wrong)."""


class ImportFailed(GeoServiceError, ValueError):
    """A file to import cannot be read or mapped onto its layer (nothing was written)."""

    status_code = 400


class LayerNotFound(GeoServiceError, KeyError):
    """No layer with that id is visible to the caller."""

    status_code = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "layer not found"


class FeatureNotFound(LayerNotFound):
    """No feature with that id in the layer."""


class TileNotFound(LayerNotFound):
    """A tile outside the tile matrix set's limits (OGC API - Tiles answers 404)."""


class InvalidQuery(GeoServiceError, ValueError):
    """A request parameter is malformed or out of range."""

    status_code = 400


class OutsideArea(InvalidQuery):
    """A point lies outside the area the service covers (e.g. the district)."""


class NoRoadNearby(InvalidQuery):
    """A point is too far from any walkable road to be reached on foot."""


class InvalidParameter(GeoServiceError, ValueError):
    """An analysis parameter is out of range (zero or negative distance, speed of 0, ...)."""

    status_code = 400


class Unauthorized(GeoServiceError, PermissionError):
    """The credentials sent are unknown, revoked or expired."""

    status_code = 401


class Forbidden(GeoServiceError, PermissionError):
    """The caller is known but its role does not allow this."""

    status_code = 403


class PayloadTooLarge(GeoServiceError, ValueError):
    """The request body is over the size limit."""

    status_code = 413


class UnsupportedMediaType(GeoServiceError, ValueError):
    """The request body has a content type the route does not take."""

    status_code = 415


class TooManyRequests(GeoServiceError, RuntimeError):
    """The caller sent too many expensive requests; ``retry_after`` seconds to wait."""

    status_code = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(GeoServiceError, KeyError):
    """No such record (a saved scenario, ...)."""

    status_code = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class VersionNotFound(NotFound):
    """No such version of a layer (never made, or pruned by the retention setting)."""


class Conflict(GeoServiceError, ValueError):
    """The request clashes with what is stored (a name already taken, a store full)."""

    status_code = 409


class PreconditionRequired(GeoServiceError, ValueError):
    """A write must say which version it is based on (``If-Match``) and did not."""

    status_code = 428


class Unprocessable(GeoServiceError, ValueError):
    """The request is well formed, but what it asks would break the layer (rejected
    features, failed checks): nothing is written."""

    status_code = 422


class PreconditionFailed(GeoServiceError, ValueError):
    """A write based on a version that is no longer the current one (``If-Match``)."""

    status_code = 412


class StoreFull(GeoServiceError, OSError):
    """The store ran out of space in the middle of a write; the write was undone and the
    layer is as it was."""

    status_code = 507


class StoreUnavailable(GeoServiceError, RuntimeError):
    """The store (a database) cannot be reached now."""

    status_code = 503


class RequestTimeout(GeoServiceError, TimeoutError):
    """The work of a request ran longer than the request timeout and was stopped."""

    status_code = 503


class ComputeUnavailable(GeoServiceError, RuntimeError):
    """The worker process computing the answer died (killed for memory, or crashed); the
    pool has started another, so the request can be sent again."""

    status_code = 503


class SolverFailed(GeoServiceError, RuntimeError):
    """The optimisation solver ended without an answer (not for lack of time: then the
    best answer found is returned)."""

    status_code = 500


class BatchFailed(GeoServiceError, RuntimeError):
    """A batch coverage run could not finish (a part failed, or its worker died more
    often than allowed); nothing of it was written."""

    status_code = 500
