"""The columns and types of the layers an OpenStreetMap import produces (the catalog
schemas of imported districts). Geometry is the last column of each, in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

#: Text that may be null: pandas' ``str`` dtype (missing values are NaN).
TEXT = "str"

#: The first columns of a layer of named OSM objects (nodes, ways or relations).
_NAMED_OSM_FEATURE = {
    "id": TEXT,
    "osm_id": "int64",
    "osm_type": TEXT,
    "name": TEXT,
    "name_en": TEXT,
    "name_zh": TEXT,
}

LAYER_SCHEMAS: dict[str, dict[str, str]] = {
    "roads": {
        "id": TEXT,
        "osm_id": "int64",
        "road_class": TEXT,
        "name": TEXT,
        "bridge": "bool",
        "tunnel": "bool",
        "length_m": "float64",
    },
    "service_centres": {
        **_NAMED_OSM_FEATURE,
        "level": TEXT,
        "kind": TEXT,
        "services": TEXT,
        "opening_hours": TEXT,
        "address": TEXT,
        "phone": TEXT,
        "community_id": TEXT,
    },
    "landmarks": {
        **_NAMED_OSM_FEATURE,
        "aliases": TEXT,
        "kind": TEXT,
        "community_id": TEXT,
    },
    "pocket_parks": {
        **_NAMED_OSM_FEATURE,
        "area_m2": "float64",
        "community_id": TEXT,
    },
    "trails": {
        "id": TEXT,
        "osm_id": "int64",
        "name": TEXT,
        "name_en": TEXT,
        "name_zh": TEXT,
        "length_m": "float64",
        "community_id": TEXT,
    },
    "compounds": {
        **_NAMED_OSM_FEATURE,
        "population": "int64",
        "households": "Int64",
        "population_source": TEXT,
        "floor_area_m2": "float64",
        "community_id": TEXT,
    },
    "communities": {
        "id": TEXT,
        "name": TEXT,
        "name_en": TEXT,
        "name_zh": TEXT,
        "admin_level": "int64",
        "osm_id": "int64",
    },
    "district": {"id": TEXT, "name": TEXT, "name_en": TEXT, "name_zh": TEXT},
}

#: The geometry type of each layer's features.
GEOMETRY_TYPES = {
    "roads": "LineString",
    "service_centres": "Point",
    "landmarks": "Point",
    "pocket_parks": "MultiPolygon",
    "trails": "LineString",
    "compounds": "MultiPolygon",
    "communities": "MultiPolygon",
    "district": "MultiPolygon",
}


def conform(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """``frame`` with exactly the columns of ``layer``'s schema, in order and typed, and a
    fresh 0..n-1 index."""
    schema = LAYER_SCHEMAS[layer]
    columns = {
        name: pd.array(frame[name].to_numpy(dtype=object), dtype=dtype)
        if dtype in (TEXT, "Int64")
        else frame[name].to_numpy().astype(dtype)
        for name, dtype in schema.items()
    }
    return gpd.GeoDataFrame(columns, geometry=frame.geometry.to_numpy(), crs=frame.crs)
