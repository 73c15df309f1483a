"""Stores hand back layers as GeoDataFrames (EPSG:4326). ``file`` is the default store."""

from geo_service.data.stores.base import LayerStore
from geo_service.data.stores.file import FileStore

__all__ = ["FileStore", "LayerStore"]
