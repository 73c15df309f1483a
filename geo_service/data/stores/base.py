"""The interface every store implements (files now, PostGIS later)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import geopandas as gpd

from geo_service.data.catalog import Catalog

BBox = tuple[float, float, float, float]


class LayerStore(Protocol):
    """Read access to the layers of a catalog, in EPSG:4326 lon/lat."""

    catalog: Catalog

    def count(self, layer_id: str) -> int:
        """Number of features in the layer."""
        ...

    def query(
        self,
        layer_id: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features of the layer intersecting ``bbox`` (lon/lat) whose properties equal
        ``where``; all features without filters, in stored order."""
        ...

    def feature(self, layer_id: str, feature_id: str) -> gpd.GeoDataFrame:
        """The one-row frame of feature ``feature_id``; ``FeatureNotFound`` if absent."""
        ...
