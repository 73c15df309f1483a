"""Read a file to import — GeoJSON, GeoPackage, Shapefile (plain or zipped), KML,
FlatGeobuf, CSV or XLSX — into a GeoDataFrame in WGS 84 lon/lat (EPSG:4326).

The formats are read by :mod:`.readers`; here the coordinate columns of a spreadsheet
become points, the column mapping is applied and the coordinates are moved to WGS 84
(:mod:`.coordinates`). Nothing here knows the layer catalog: checking the features
against a layer is :func:`geo_service.importing.report.plan_import`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.errors import ImportFailed
from geo_service.importing.archive import DEFAULT_LIMITS, ArchiveLimits
from geo_service.importing.coordinates import (
    CrsSource,
    CrsUsed,
    find_coordinate_columns,
    parse_crs,
    points_from_columns,
    to_wgs84,
)
from geo_service.importing.mapping import ColumnMapping, apply_mapping, load_mapping
from geo_service.importing.readers import FORMATS, RawRead, read_raw
from geo_service.importing.reasons import Reason, RowReasons

_TEXT_FORMATS = ("CSV", "Shapefile")


@dataclass(frozen=True, eq=False)  # holds a GeoDataFrame
class ReadResult:
    """A file read for import, before it is checked against a layer.

    ``frame`` is in EPSG:4326, indexed by row number (for CSV and XLSX the spreadsheet
    row, header = 1; otherwise the feature's position from 1); ``row_reasons`` holds the
    rows that could not be read whole (a coordinate or a mapped type that would not
    convert). ``crs_source`` is ``"file"``, ``"caller"`` or ``"rfc7946"`` (GeoJSON).
    """

    frame: gpd.GeoDataFrame
    crs_used: str
    crs_source: CrsSource
    encoding: str | None
    rows_read: int
    source: str
    format: str
    layer: str | None = None
    crs_detail: str = ""
    encoding_detail: str | None = None
    row_reasons: Mapping[int, tuple[Reason, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _drop_z(frame: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    geometries = frame.geometry.to_numpy()
    has_z = shapely.has_z(geometries)
    if not has_z.any():
        return frame
    heights = shapely.get_coordinates(geometries[has_z], include_z=True)[:, 2]
    if (np.nan_to_num(heights) != 0).any():
        notes.append(f"dropped the heights (z) of {int(has_z.sum())} feature(s)")
    return frame.set_geometry(shapely.force_2d(geometries))


def read_import_file(
    path: Path | str,
    *,
    layer: str | None = None,
    crs: str | None = None,
    mapping: Path | str | Mapping[str, Any] | ColumnMapping | None = None,
    x: str | None = None,
    y: str | None = None,
    encoding: str | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ReadResult:
    """Read ``path`` for import into a layer: features in WGS 84 lon/lat (EPSG:4326).

    Parameters
    ----------
    path
        A ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (a Shapefile's parts),
        ``.kml``, ``.fgb``, ``.csv`` or ``.xlsx`` file.
    layer
        The GeoPackage or KML layer, XLSX sheet, or Shapefile inside the zip; default the
        first (the report says which others there were).
    crs
        The CRS of the coordinates when the file does not declare one (CSV, XLSX, a
        Shapefile without ``.prj``) or to override it: ``wgs84``, ``cgcs2000``
        (EPSG:4490), ``EPSG:nnnn``, ``gcj02`` or ``bd09``.
    mapping
        A column mapping, as a YAML file or a dict (see :mod:`.mapping`); its ``x``,
        ``y``, ``crs``, ``encoding`` and ``layer`` apply unless given here.
    x, y
        The CSV/XLSX columns of longitude and latitude (or easting and northing); default
        the one column named like lon/lng/longitude/x/经度 and lat/latitude/y/纬度.
    encoding
        The text encoding of a CSV file or a Shapefile's ``.dbf``; default detected.
    limits
        What a zip (a zipped Shapefile, an XLSX workbook) may unpack to
        (:mod:`.archive`).

    Raises
    ------
    ImportFailed
        The file cannot be read, the mapping does not fit it, or its CRS is unknown and
        none is stated (the message says how to state it).
    """
    path = Path(path)
    source = path.name
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed(
            f"{source}: unsupported file type; import one of {', '.join(sorted(FORMATS))}"
        )
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    columns = load_mapping(mapping)
    encoding = encoding or columns.encoding
    crs = crs or columns.crs
    stated = parse_crs(crs) if crs else None
    if encoding is not None and fmt not in _TEXT_FORMATS:
        raise ImportFailed(f"{source}: encoding= applies to CSV and Shapefile; {fmt} is UTF-8")
    if (x is not None or y is not None) and fmt not in ("CSV", "XLSX"):
        raise ImportFailed(f"{source}: x= and y= apply to CSV and XLSX; {fmt} has geometries")
    raw = read_raw(
        path, layer=layer or columns.layer, encoding=encoding, source=source, limits=limits
    )
    reasons = RowReasons()
    frame = raw.frame
    frame.index = pd.RangeIndex(2 if raw.tabular else 1, len(frame) + (2 if raw.tabular else 1))
    if raw.tabular:
        xcol, ycol = find_coordinate_columns(
            list(frame.columns), x=x or columns.x, y=y or columns.y, source=source
        )
        points = points_from_columns(frame, xcol, ycol, reasons)
        frame = gpd.GeoDataFrame(frame.drop(columns=[xcol, ycol]), geometry=points)
    frame = apply_mapping(frame, columns, reasons, source=source)
    frame, used = to_wgs84(
        frame, declared=raw.declared, stated=stated, rfc7946=raw.rfc7946, source=source
    )
    notes = [*raw.notes, *used.notes]
    frame = _drop_z(frame, notes)
    return _result(frame, raw, used, fmt, source, reasons, notes)


def _result(
    frame: gpd.GeoDataFrame,
    raw: RawRead,
    used: CrsUsed,
    fmt: str,
    source: str,
    reasons: RowReasons,
    notes: list[str],
) -> ReadResult:
    return ReadResult(
        frame=frame,
        crs_used=used.label,
        crs_source=used.source,
        encoding=raw.encoding.name if raw.encoding else None,
        rows_read=len(frame),
        source=source,
        format=fmt,
        layer=raw.layer,
        crs_detail=used.detail,
        encoding_detail=raw.encoding.describe() if raw.encoding else None,
        row_reasons=reasons.as_dict(),
        notes=tuple(notes),
    )
