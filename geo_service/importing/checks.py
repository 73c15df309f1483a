"""Check imported features one by one against a layer's catalog entry.

The rules are those of :func:`geo_service.data.validation.validate_layer` — geometry type,
valid and non-empty geometry, lon/lat range, required properties, types, enums and list
enums, minimum/maximum, unique values, opening_hours syntax — applied per feature, so
that a bad feature is left out with its reasons instead of failing the whole file.
Single geometries are promoted to Multi* when the layer wants Multi*, and one-part Multi*
geometries demoted when it wants single ones (both lossless, both noted).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.data.catalog import LayerSpec, PropertySpec
from geo_service.importing.files import ReadResult
from geo_service.importing.mapping import convert_column, is_blank
from geo_service.importing.reasons import Rejection, RowReasons

_SINGLE = {
    "MultiPoint": (shapely.GeometryType.POINT, shapely.multipoints),
    "MultiLineString": (shapely.GeometryType.LINESTRING, shapely.multilinestrings),
    "MultiPolygon": (shapely.GeometryType.POLYGON, shapely.multipolygons),
}
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
#: How many rows a "repeated in rows ..." reason quotes.
_QUOTE = 5
#: Opening hours repeat a lot within a layer; each distinct text is parsed once.
_valid_hours = lru_cache(maxsize=4096)(opening_hours.validate)


@dataclass(frozen=True, eq=False)  # holds a GeoDataFrame
class Checked:
    """The outcome of checking a file's features against a layer."""

    accepted: gpd.GeoDataFrame
    rejected: list[Rejection]
    dropped_columns: list[str]
    notes: list[str]


def _fit_type(geometries: np.ndarray, wanted: str, notes: list[str]) -> np.ndarray:
    """Promote single geometries to ``wanted`` Multi*, or demote one-part Multi*."""
    geometries = geometries.copy()
    if wanted in _SINGLE:
        single, make_multi = _SINGLE[wanted]
        fits = shapely.get_type_id(geometries) == single.value
        if fits.any():
            geometries[fits] = make_multi(geometries[fits][:, np.newaxis])
            notes.append(f"promoted {int(fits.sum())} single {wanted[5:]}(s) to {wanted}")
    else:
        multi = shapely.GeometryType[_MULTI[wanted].upper()].value
        fits = (shapely.get_type_id(geometries) == multi) & (
            shapely.get_num_geometries(geometries) == 1
        )
        if fits.any():
            geometries[fits] = shapely.get_geometry(geometries[fits], 0)
            notes.append(f"demoted {int(fits.sum())} one-part {_MULTI[wanted]}(s) to {wanted}")
    return geometries


def _range_message(geometry: shapely.Geometry) -> str:
    west, south, east, north = shapely.bounds(geometry)
    where = (
        f"lon {west:g}, lat {south:g}"
        if (west, south) == (east, north)
        else (f"lon {west:g}..{east:g}, lat {south:g}..{north:g}")
    )
    swapped = max(abs(south), abs(north)) <= 180 and max(abs(west), abs(east)) <= 90
    hint = "; are x and y swapped?" if swapped else "; is the CRS right?"
    return f"{where} outside lon -180..180, lat -90..90{hint}"


def _per_geometry(flags: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Whether any coordinate of each geometry is flagged."""
    return np.bincount(owner[flags], minlength=count) > 0


def _check_geometry(
    geometries: np.ndarray, rows: pd.Index, spec: LayerSpec, reasons: RowReasons
) -> None:
    """Reasons for missing, mistyped, non-finite, invalid and out-of-range geometries
    (the first that applies), for the rows without a geometry reason yet."""
    count = len(geometries)
    coords, owner = shapely.get_coordinates(geometries, return_index=True)
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    mistyped = shapely.get_type_id(geometries) != shapely.GeometryType[spec.geometry_type.upper()]
    nonfinite = _per_geometry(~np.isfinite(coords).all(axis=1), owner, count)
    invalid = ~shapely.is_valid(geometries)
    outside = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    outside = _per_geometry(outside, owner, count)
    known = reasons.rows_with("geometry")
    for i in np.flatnonzero(missing | mistyped | nonfinite | invalid | outside):
        row, geometry = rows[i], geometries[i]
        if row in known:
            continue
        if missing[i]:
            reasons.add_rows([row], "geometry", "geometry_missing", "missing or empty geometry")
        elif mistyped[i]:
            message = f"expected {spec.geometry_type}, found {geometry.geom_type}"
            reasons.add_rows([row], "geometry", "geometry_type", message)
        elif nonfinite[i]:
            reasons.add_rows([row], "geometry", "geometry_invalid", "non-finite coordinate")
        elif invalid[i]:
            message = f"invalid geometry: {shapely.is_valid_reason(geometry)}"
            reasons.add_rows([row], "geometry", "geometry_invalid", message)
        else:
            reasons.add_rows([row], "geometry", "lonlat_range", _range_message(geometry))


def _normalise_list(value: str | None, separator: str) -> str | None:
    if value is None:
        return None
    return separator.join(item.strip() for item in value.split(separator) if item.strip())


def _value_reason(value: object, prop: PropertySpec) -> tuple[str, str] | None:
    """The (code, message) of the first rule ``value`` (not None) breaks, or None."""
    if prop.type in ("integer", "number"):
        if prop.minimum is not None and value < prop.minimum:  # type: ignore[operator]
            return "minimum", f"{value} is below the minimum {prop.minimum:g}"
        if prop.maximum is not None and value > prop.maximum:  # type: ignore[operator]
            return "maximum", f"{value} is above the maximum {prop.maximum:g}"
    if prop.type != "string":
        return None
    if prop.enum is not None:
        allowed = ", ".join(prop.enum)
        if prop.list_separator:
            unknown = [i for i in str(value).split(prop.list_separator) if i not in prop.enum]
            if unknown:
                items = ", ".join(map(repr, unknown))
                return "enum", f"unknown item(s) {items} (allowed: {allowed})"
        elif value not in prop.enum:
            return "enum", f"{value!r} is not one of {allowed}"
    if prop.format == "opening_hours" and not _valid_hours(str(value)):
        return "opening_hours", f"{value!r} is not OSM opening_hours syntax"
    return None


def _check_property(
    frame: gpd.GeoDataFrame, prop: PropertySpec, reasons: RowReasons, notes: list[str]
) -> pd.Series:
    if prop.name not in frame.columns:
        if prop.required:
            notes.append(f"required property {prop.name!r} has no column in the file")
            message = "required, and the file has no such column (map one with columns:)"
            reasons.add_rows(frame.index, prop.name, "required", message)
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = convert_column(frame[prop.name], prop.type, reasons, field=prop.name)
    if prop.list_separator:
        values = values.map(lambda v: _normalise_list(v, prop.list_separator)).astype(object)
    failed = reasons.rows_with(prop.name)  # did not convert: already has its reason
    for row, value in values.items():
        if value is None:
            if prop.required and row not in failed:
                reasons.add_rows([row], prop.name, "required", "required but empty")
            continue
        broken = _value_reason(value, prop)
        if broken:
            reasons.add_rows([row], prop.name, *broken)
    if prop.unique:
        _check_unique(values, prop.name, reasons)
    return values


def _check_unique(values: pd.Series, name: str, reasons: RowReasons) -> None:
    rows_of: defaultdict[object, list[int]] = defaultdict(list)
    for row, value in values.items():
        if value is not None:
            rows_of[value].append(row)
    for value, rows in rows_of.items():
        if len(rows) > 1:
            quoted = ", ".join(map(str, rows[:_QUOTE])) + (" ..." if len(rows) > _QUOTE else "")
            message = f"{value!r} must be unique; repeated in rows {quoted}"
            reasons.add_rows(rows, name, "unique", message)


def _typed(values: pd.Series, prop: PropertySpec) -> pd.Series:
    """The column as it should be written: integers and booleans keep their type when no
    value is missing (object otherwise, so the writer writes null, not NaN or 1.0)."""
    has_none = values.map(lambda v: v is None).any()
    if prop.type == "number":
        return values.astype(float)
    if prop.type == "integer" and not has_none:
        return values.astype("int64")
    if prop.type == "boolean" and not has_none:
        return values.astype(bool)
    return values.astype(object)


def check_features(spec: LayerSpec, incoming: ReadResult) -> Checked:
    """Split ``incoming``'s features into those that fit ``spec`` and those that do not.

    The accepted frame has exactly the catalog's properties, in catalog order, converted
    to the catalog types, and keeps the row numbers as its index; extra columns are
    dropped and named.
    """
    frame = incoming.frame
    declared = set(spec.property_names)
    reasons = RowReasons(
        {  # a column that will be dropped cannot reject a feature
            row: [r for r in found if r.field in declared or r.field == "geometry"]
            for row, found in incoming.row_reasons.items()
        }
    )
    notes: list[str] = []
    geometry_name = frame.geometry.name
    dropped = [str(c) for c in frame.columns if c != geometry_name and c not in declared]
    geometries = _fit_type(frame.geometry.to_numpy(), spec.geometry_type, notes)
    _check_geometry(geometries, frame.index, spec, reasons)
    columns = {prop.name: _check_property(frame, prop, reasons, notes) for prop in spec.properties}
    keep = np.array([row not in reasons for row in frame.index], dtype=bool)
    accepted = gpd.GeoDataFrame(
        {prop.name: _typed(columns[prop.name][keep], prop) for prop in spec.properties},
        geometry=geometries[keep],
        index=frame.index[keep],
        crs=STORAGE_CRS,
    )
    ids = frame[spec.id_property] if spec.id_property in frame.columns else None
    rejected = [
        Rejection(row, _id_text(ids, row), found) for row, found in reasons.as_dict().items()
    ]
    return Checked(accepted, rejected, dropped, notes)


def _id_text(ids: pd.Series | None, row: int) -> str | None:
    if ids is None or row not in ids.index or is_blank(ids[row]):
        return None
    value = ids[row]
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
