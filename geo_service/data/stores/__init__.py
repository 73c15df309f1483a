"""Stores hand back layers as GeoDataFrames (EPSG:4326), opened by URL from one setting
(:func:`open_store`). ``file:`` (the layers' GeoJSON files, in memory) is the default."""

from geo_service.data.stores.base import FeaturePage, FeatureQuery, LayerStore
from geo_service.data.stores.file import FileStore
from geo_service.data.stores.registry import open_configured_store, open_store, store_schemes

__all__ = [
    "FeaturePage",
    "FeatureQuery",
    "FileStore",
    "LayerStore",
    "open_configured_store",
    "open_store",
    "store_schemes",
]
