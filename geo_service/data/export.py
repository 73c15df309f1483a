"""Write a layer's features to the download formats GIS software opens.

GeoPackage, zipped Shapefile (UTF-8 ``.cpg``, ``.prj``, long field names mapped and listed
in ``fields.csv``), CSV (UTF-8 with BOM so Excel reads Chinese; lon/lat columns for points,
WKT otherwise), FlatGeobuf, KML and GeoJSON, each written to a file in a folder the caller
owns (binary formats with GDAL, through pyogrio), so that it can be streamed from there.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo_service.crs import STORAGE_CRS, is_storage_crs
from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import feature_collection_text

SHAPEFILE_FIELD_LENGTH = 10


@dataclass(frozen=True)
class Export:
    """A written download: the file, its media type and the name to save it as."""

    path: Path
    media_type: str
    filename: str


FORMATS = {
    "gpkg": ("GPKG", "application/geopackage+sqlite3", "{id}.gpkg"),
    "shp": ("ESRI Shapefile", "application/zip", "{id}-shapefile.zip"),
    "csv": (None, "text/csv; charset=utf-8", "{id}.csv"),
    "fgb": ("FlatGeobuf", "application/flatgeobuf", "{id}.fgb"),
    "kml": ("LIBKML", "application/vnd.google-earth.kml+xml", "{id}.kml"),
    "geojson": (None, "application/geo+json", "{id}.geojson"),
    "xlsx": (
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "{id}.xlsx",
    ),
}


def shapefile_field_names(names: list[str]) -> dict[str, str]:
    """Original name → a unique name of at most 10 characters (dBase's limit)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        short = name[:SHAPEFILE_FIELD_LENGTH]
        n = 1
        while short.lower() in used:
            suffix = str(n)
            short = name[: SHAPEFILE_FIELD_LENGTH - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        mapping[name] = short
    return mapping


def export_layer(frame: gpd.GeoDataFrame, spec: LayerSpec, fmt: str, folder: Path) -> Export:
    """``frame`` (any CRS; KML and GeoJSON default to WGS 84) written as a ``fmt`` file in
    ``folder``."""
    driver, media_type, pattern = FORMATS[fmt]
    filename = pattern.format(id=spec.id)
    path = Path(folder) / filename
    if fmt == "geojson":
        frame = frame if is_storage_crs(frame.crs) else frame.to_crs(STORAGE_CRS)
        text = feature_collection_text(
            frame, name=spec.id, description=spec.title.en, id_property=spec.id_property
        )
        path.write_text(text, encoding="utf-8")
    elif fmt == "csv":
        path.write_bytes(_csv(frame, spec))
    elif fmt == "xlsx":
        _xlsx(frame, spec, path)
    elif fmt == "shp":
        with tempfile.TemporaryDirectory(prefix="geo-service-export-") as parts:
            _shapefile_zip(frame, spec, Path(parts) / f"{spec.id}.shp", path)
    else:
        if fmt == "kml" and not is_storage_crs(frame.crs):
            frame = frame.to_crs(STORAGE_CRS)
        pyogrio.write_dataframe(frame, path, driver=driver, layer=spec.id)
    return Export(path, media_type, filename)


def _table(frame: gpd.GeoDataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Properties plus ``lon``/``lat`` (points; ``x``/``y`` in a projected CRS) or ``WKT``."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    geometry = frame.geometry.to_numpy()
    if spec.geometry_type == "Point":
        x_name, y_name = ("lon", "lat") if frame.crs.is_geographic else ("x", "y")
        table[x_name] = shapely.get_x(geometry)
        table[y_name] = shapely.get_y(geometry)
    else:
        table["WKT"] = shapely.to_wkt(geometry, rounding_precision=-1)
    return table


def _csv(frame: gpd.GeoDataFrame, spec: LayerSpec) -> bytes:
    """:func:`_table` as CSV, UTF-8 with a byte-order mark; headers are the field names."""
    return _table(frame, spec).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


#: Headers of the coordinate columns in a workbook.
_COORDINATE_TITLES = {"lon": "经度 Longitude", "lat": "纬度 Latitude", "x": "X (m)",
                      "y": "Y (m)", "WKT": "几何 Geometry (WKT)"}  # fmt: skip


def column_title(spec: LayerSpec, name: str) -> str:
    """A column's header for people: its catalog title (or description) in Chinese and
    English, and the field name: ``常住人口 Residents (population)``."""
    if name in _COORDINATE_TITLES:
        return _COORDINATE_TITLES[name]
    try:
        prop = spec.get_property(name)
    except KeyError:
        return name
    label = prop.title or prop.description
    return f"{label.zh} {label.en} ({name})"


def _xlsx(frame: gpd.GeoDataFrame, spec: LayerSpec, path: Path) -> None:
    """:func:`_table` as an Excel workbook, one sheet, headers titled for people."""
    table = _table(frame, spec)
    table.columns = [column_title(spec, c) for c in table.columns]
    pyogrio.write_dataframe(table, path, driver="XLSX", layer=spec.id[:31])


def _shapefile_zip(frame: gpd.GeoDataFrame, spec: LayerSpec, path: Path, target: Path) -> None:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    mapping = shapefile_field_names(columns)
    renamed = frame.rename(columns=mapping)
    pyogrio.write_dataframe(renamed, path, driver="ESRI Shapefile", ENCODING="UTF-8")
    listing = io.StringIO()
    writer = csv.writer(listing)
    writer.writerow(["shapefile_field", "property", "description_zh", "description_en"])
    described = {p.name: p for p in spec.properties}
    for name, short in mapping.items():
        prop = described.get(name)
        writer.writerow(
            [short, name, prop.description.zh if prop else "", prop.description.en if prop else ""]
        )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(path.parent.glob(f"{path.stem}.*")):
            archive.write(part, part.name)
        archive.writestr("fields.csv", "\ufeff" + listing.getvalue())
