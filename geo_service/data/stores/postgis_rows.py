"""Rows of the PostGIS store as the store's answers: frames typed like the file store's,
the GeoJSON text of a feature as SQL builds it, cell values as JSON carries them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql

from geo_service.crs import STORAGE_CRS
from geo_service.data.catalog import LayerSpec


def rows_frame(spec: LayerSpec, rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows of the layer's ``_select`` (``_seq``, the properties, WKB) as a frame typed
    like the file store's, indexed by feature id, EPSG:4326."""
    data = {}
    for i, prop in enumerate(spec.properties, start=1):
        values = [row[i] for row in rows]
        has_none = any(v is None for v in values)
        if prop.type == "integer":
            data[prop.name] = np.array(
                [np.nan if v is None else v for v in values],
                dtype="float64" if has_none else "int64",
            )
        elif prop.type == "number":
            data[prop.name] = np.array(
                [np.nan if v is None else v for v in values], dtype="float64"
            )
        elif prop.type == "boolean":
            data[prop.name] = np.array(values, dtype=object if has_none else bool)
        else:  # strings as the file store reads them: pandas' str, NaN for missing
            data[prop.name] = pd.array(values, dtype="str")
    wkb = len(spec.properties) + 1
    geometry = shapely.from_wkb([row[wkb] for row in rows]) if rows else []
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=STORAGE_CRS))
    frame.index = pd.Index(frame[spec.id_property].astype(str).to_numpy(), dtype=object)
    return frame


def feature_text_sql(spec: LayerSpec) -> sql.Composable:
    """The SQL expression of a row's GeoJSON Feature text: compact, properties in catalog
    order, coordinates to 7 decimals (as the file store's texts; numbers may be written
    differently, e.g. ``100`` for ``100.0``, with the same value). Joined with ``||``:
    ``concat`` takes at most 100 arguments."""
    properties = sql.SQL(" || ',' || ").join(
        sql.SQL("{} || COALESCE(to_json({})::text, 'null')").format(
            sql.Literal(f'"{name}":'), sql.Identifier(name)
        )
        for name in spec.property_names
    )
    return sql.SQL(
        '(\'{{"type":"Feature","id":\' || COALESCE(to_json({})::text, \'null\') || '
        "',\"properties\":{{' || {} || '}},\"geometry\":' || "
        "COALESCE(ST_AsGeoJSON(geom, 7), 'null') || '}}')"
    ).format(sql.Identifier(spec.id_property), properties)


def id_frame(spec: LayerSpec, ids: list) -> gpd.GeoDataFrame:
    """A page's frame when its texts carry the features: the ids alone (no geometry
    column: a frame of empty geometries costs more than the page's query)."""
    return gpd.GeoDataFrame(
        {spec.id_property: ids}, index=pd.Index([str(i) for i in ids], dtype=object)
    )


def plain_value(value):
    """A cell value as JSON can carry it (numpy scalars as Python ones, NaN as None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and np.isnan(value) else value
    return value
