"""Check a layer's data against its catalog entry: CRS, geometry, properties, counts."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import shapely
from pandas.api import types as ptypes

from geo_service.crs import is_storage_crs
from geo_service.data.catalog import LayerSpec, PropertySpec

#: How many offending feature ids a problem message quotes.
_QUOTE = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer's data."""

    layer: str
    source: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: field '{self.field}': {self.message}"


def _ids(ids: pd.Series, mask: np.ndarray | pd.Series) -> str:
    bad = ids[np.asarray(mask)].astype(str).tolist()
    more = f" and {len(bad) - _QUOTE} more" if len(bad) > _QUOTE else ""
    return f"{len(bad)} feature(s): {', '.join(bad[:_QUOTE])}{more}"


def _type_ok(series: pd.Series, prop: PropertySpec) -> bool:
    values = series.dropna()
    if values.empty:
        return True
    if prop.type == "string":
        return ptypes.is_string_dtype(series) or (
            ptypes.is_object_dtype(series) and all(isinstance(v, str) for v in values)
        )
    if prop.type == "boolean":
        return ptypes.is_bool_dtype(series)
    if ptypes.is_bool_dtype(series) or not ptypes.is_numeric_dtype(series):
        return False
    if prop.type == "integer":
        return ptypes.is_integer_dtype(series) or bool(np.all(np.mod(values, 1) == 0))
    return True


def _check_property(gdf: gpd.GeoDataFrame, spec: LayerSpec, prop: PropertySpec) -> list[str]:
    ids = gdf[spec.id_property] if spec.id_property in gdf else pd.Series(gdf.index)
    if prop.name not in gdf.columns:
        return ["missing from the data"] if prop.required else []
    series = gdf[prop.name]
    messages: list[str] = []
    nulls = series.isna()
    if prop.required and nulls.any():
        messages.append(f"required but empty in {_ids(ids, nulls)}")
    if not _type_ok(series, prop):
        return [*messages, f"expected {prop.type}, found values of type {series.dtype}"]
    present = ~nulls
    if prop.unique and series[present].duplicated().any():
        messages.append(f"must be unique; repeated in {_ids(ids, series.duplicated(keep=False))}")
    if prop.type in ("integer", "number"):
        values = series.astype(float)
        if not np.isfinite(values[present]).all():
            messages.append(f"non-finite number in {_ids(ids, present & ~np.isfinite(values))}")
        if prop.minimum is not None and (values[present] < prop.minimum).any():
            messages.append(f"below minimum {prop.minimum} in {_ids(ids, values < prop.minimum)}")
        if prop.maximum is not None and (values[present] > prop.maximum).any():
            messages.append(f"above maximum {prop.maximum} in {_ids(ids, values > prop.maximum)}")
        if prop.type == "integer" and (values[present].abs() >= 2.0**63).any():
            messages.append(f"beyond a 64-bit integer in {_ids(ids, values.abs() >= 2.0**63)}")
    if prop.type == "string":
        messages.extend(_check_strings(series[present], ids[present], prop))
    return messages


def _check_strings(values: pd.Series, ids: pd.Series, prop: PropertySpec) -> list[str]:
    messages: list[str] = []
    nul = values.str.contains("\x00", regex=False)
    if nul.any():  # no text format or database keeps them
        messages.append(f"NUL character in {_ids(ids, nul)}")
    if prop.enum is not None:
        allowed = set(prop.enum)
        if prop.list_separator:
            bad = values.map(
                lambda v: not set(filter(None, v.split(prop.list_separator))) <= allowed
            )
        else:
            bad = ~values.isin(allowed)
        if bad.any():
            messages.append(f"values outside {sorted(allowed)} in {_ids(ids, bad)}")
    if prop.format == "opening_hours":
        bad = values.map(_bad_opening_hours)
        if bad.any():
            messages.append(f"not valid OSM opening_hours syntax in {_ids(ids, bad)}")
    return messages


def _bad_opening_hours(text: str) -> bool:
    try:
        opening_hours.OpeningHours(text)
    except (opening_hours.ParserError, ValueError):
        return True
    return False


def _check_geometry(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[str]:
    ids = gdf[spec.id_property] if spec.id_property in gdf else pd.Series(gdf.index)
    geometries = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    if missing.any():
        return [f"missing or empty geometry in {_ids(ids, missing)}"]
    messages = []
    types = shapely.get_type_id(geometries)
    wanted = shapely.GeometryType[spec.geometry_type.upper()].value
    if (types != wanted).any():
        messages.append(f"expected {spec.geometry_type} in {_ids(ids, types != wanted)}")
    invalid = ~shapely.is_valid(geometries)
    if invalid.any():
        reasons = shapely.is_valid_reason(geometries[invalid][:1])[0]
        messages.append(f"invalid geometry ({reasons}) in {_ids(ids, invalid)}")
    coords = shapely.get_coordinates(geometries)
    if not np.isfinite(coords).all():
        messages.append("non-finite coordinates")
    elif (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        messages.append("coordinates outside lon/lat range; is the layer really EPSG:4326?")
    return messages


def validate_layer(
    spec: LayerSpec, gdf: gpd.GeoDataFrame, *, whole_layer: bool = True
) -> list[Problem]:
    """Every way ``gdf`` breaks its catalog entry ``spec`` (empty list if none).
    ``whole_layer``: ``gdf`` is meant to be the layer as loaded whole (a file, an import),
    so its count must be the entry's ``expected_count``; False after feature edits, which
    add and remove features on purpose."""
    problems: list[Problem] = []

    def add(field: str, message: str) -> None:
        problems.append(Problem(spec.id, spec.source, field, message))

    if len(gdf) == 0:  # an empty layer (no parks, no gaps) is valid: nothing to check
        return count_problems(spec, 0) if whole_layer else problems
    if not is_storage_crs(gdf.crs):
        add("crs", f"expected EPSG:4326 (WGS 84 lon/lat), found {gdf.crs}")
    for message in _check_geometry(gdf, spec):
        add("geometry", message)
    declared = set(spec.property_names)
    for column in gdf.columns:
        if column != gdf.geometry.name and column not in declared:
            add(column, "not declared in the catalog entry")
    for prop in spec.properties:
        for message in _check_property(gdf, spec, prop):
            add(prop.name, message)
    if whole_layer:
        problems += count_problems(spec, len(gdf))
    return problems


def count_problems(spec: LayerSpec, features: int) -> list[Problem]:
    """The problem of a whole layer of ``features`` features whose entry expects another
    count (none if it expects none)."""
    if spec.expected_count is None or features == spec.expected_count:
        return []
    message = f"expected {spec.expected_count} features, found {features}"
    return [Problem(spec.id, spec.source, "(features)", message)]
