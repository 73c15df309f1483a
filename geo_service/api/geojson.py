"""GeoJSON responses."""

from __future__ import annotations

from fastapi.responses import Response

GEOJSON_MEDIA_TYPE = "application/geo+json"


class GeoJSONResponse(Response):
    """A response whose body is GeoJSON text."""

    media_type = GEOJSON_MEDIA_TYPE
