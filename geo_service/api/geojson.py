"""GeoJSON responses."""

from __future__ import annotations

import geopandas as gpd
from fastapi.responses import Response

from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import feature_collection_text

GEOJSON_MEDIA_TYPE = "application/geo+json"


class GeoJSONResponse(Response):
    """A response whose body is GeoJSON text."""

    media_type = GEOJSON_MEDIA_TYPE


def layer_geojson(spec: LayerSpec, frame: gpd.GeoDataFrame) -> bytes:
    """The features of ``frame`` as a GeoJSON FeatureCollection (UTF-8 bytes)."""
    description = spec.title.en
    if spec.provenance.synthetic:
        description += " — synthetic demo data, not real."
    text = feature_collection_text(
        frame, name=spec.id, description=description, id_property=spec.id_property
    )
    return text.encode("utf-8")
