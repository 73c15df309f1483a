"""Where an imported file's coordinates are: coordinate columns, and which CRS or datum.

The CRS comes from the file when it declares one (a Shapefile's ``.prj``, GeoPackage,
FlatGeobuf, KML; GeoJSON is WGS 84 by RFC 7946) or from the caller: ``wgs84``,
``cgcs2000`` (EPSG:4490), ``EPSG:nnnn``, ``gcj02`` (Amap/Gaode, Tencent) or ``bd09``
(Baidu). GCJ-02 and BD-09 are moved to WGS 84 with the iterated inverse of
:mod:`geo_service.datums`. A file with no CRS and none stated is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo_service.crs import STORAGE_CRS, is_storage_crs
from geo_service.datums import Datum, frame_to_wgs84, outside_china
from geo_service.errors import ImportFailed
from geo_service.importing.mapping import convert_value, is_blank
from geo_service.importing.reasons import RowReasons

#: Column names (compared lower-case, trimmed) taken for longitude and latitude.
LON_NAMES = ("经度", "lon", "lng", "longitude", "x")
LAT_NAMES = ("纬度", "lat", "latitude", "y")

CRS_HELP = (
    "state it with crs= one of: wgs84 (GPS, OpenStreetMap), cgcs2000 (EPSG:4490), "
    "EPSG:nnnn (e.g. EPSG:4549, CGCS2000 Gauss-Kruger CM 120E), gcj02 (Amap/Gaode, "
    "Tencent), bd09 (Baidu); or as 'crs:' in the column mapping"
)
_DATUM_NAMES = {"gcj02": "GCJ-02 (Amap/Gaode, Tencent)", "bd09": "BD-09 (Baidu)"}
_NAMED = {"wgs84": 4326, "cgcs2000": 4490}
_EPSG = re.compile(r"^(?:epsg:)?(\d{4,6})$")


#: Who said which CRS the coordinates are in: the file, the caller, or RFC 7946 (GeoJSON).
CrsSource = Literal["file", "caller", "rfc7946"]


@dataclass(frozen=True)
class CrsChoice:
    """A CRS stated by the caller: a real CRS, or lon/lat on a Chinese datum."""

    label: str
    crs: CRS | None
    datum: Datum = "wgs84"


@dataclass(frozen=True)
class CrsUsed:
    """Which CRS a file's coordinates were taken to be in, and who said so."""

    label: str
    source: CrsSource
    detail: str
    notes: tuple[str, ...] = ()


def crs_label(crs: CRS) -> str:
    """``EPSG:nnnn`` when the CRS has an EPSG code, else its name."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def parse_crs(text: str) -> CrsChoice:
    """The caller's CRS option: ``wgs84``, ``cgcs2000``, ``EPSG:nnnn``, ``gcj02`` or ``bd09``."""
    key = text.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in _DATUM_NAMES:
        return CrsChoice(label=key, crs=None, datum=key)  # type: ignore[arg-type]
    code = _NAMED.get(key)
    match = _EPSG.match(key)
    if code is None and match:
        code = int(match.group(1))
    if code is None:
        raise ImportFailed(f"unknown crs {text!r}: {CRS_HELP}")
    try:
        return CrsChoice(label=f"EPSG:{code}", crs=CRS.from_epsg(code))
    except CRSError:
        raise ImportFailed(f"unknown crs {text!r}: EPSG:{code} is not an EPSG CRS") from None


def find_coordinate_columns(
    columns: Sequence[str], *, x: str | None, y: str | None, source: str
) -> tuple[str, str]:
    """The columns holding x (longitude) and y (latitude): named by the caller, or the one
    column called lon/lng/longitude/x/经度 (lat/latitude/y/纬度)."""

    def pick(given: str | None, names: tuple[str, ...], axis: str, option: str) -> str:
        if given is not None:
            if given not in columns:
                raise ImportFailed(
                    f"{source}: no column {given!r} for {axis}; the file has: {', '.join(columns)}"
                )
            return given
        found = [c for c in columns if str(c).strip().lower() in names]
        if len(found) == 1:
            return found[0]
        if found:
            raise ImportFailed(
                f"{source}: several columns could hold the {axis} ({', '.join(found)}); "
                f"choose one with {option}=COLUMN"
            )
        raise ImportFailed(
            f"{source}: cannot find the {axis} column (looked for {', '.join(names)}); name it "
            f"with {option}=COLUMN; the file has: {', '.join(map(str, columns))}"
        )

    return pick(x, LON_NAMES, "longitude (x)", "x"), pick(y, LAT_NAMES, "latitude (y)", "y")


def points_from_columns(frame: pd.DataFrame, x: str, y: str, reasons: RowReasons) -> np.ndarray:
    """A Point per row from columns ``x`` and ``y`` (None, with a reason, where either is
    missing or not a number)."""
    numbers = {}
    problems: dict[int, list[str]] = {}
    for column in (x, y):
        parsed = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(~np.isfinite(parsed)):  # the few that need a closer look
            value = frame[column].iat[i]
            if is_blank(value):
                problems.setdefault(i, []).append(f"no value in {column}")
                continue
            try:
                parsed[i] = convert_value(value, "number")
            except ValueError as exc:
                problems.setdefault(i, []).append(f"{column}: {exc}")
        numbers[column] = parsed
    points = shapely.points(numbers[x], numbers[y])
    for i, found in problems.items():
        points[i] = None
        reasons.add_rows([frame.index[i]], "geometry", "coordinates", "; ".join(found))
    return points


def _looks_like(frame: gpd.GeoDataFrame) -> str:
    geometries = frame.geometry.to_numpy()
    coords = shapely.get_coordinates(geometries[~shapely.is_missing(geometries)])
    coords = coords[np.isfinite(coords).all(axis=1)]
    if not len(coords):
        return ""
    x, y = np.median(coords[:, 0]), np.median(coords[:, 1])
    sample = f"(median x {x:.4f}, y {y:.4f})"
    if abs(x) <= 180 and abs(y) <= 90:
        where = ""
        if not outside_china(x, y):
            where = (
                ". They lie in China, where coordinates from Chinese sources are usually "
                "GCJ-02 (Amap/Gaode, Tencent: crs=gcj02) or BD-09 (Baidu: crs=bd09); GPS "
                "and OpenStreetMap give WGS 84 (crs=wgs84)"
            )
        return f" The coordinates look like longitude/latitude in degrees {sample}{where}."
    if abs(x) <= 90 and abs(y) <= 180:
        return f" The coordinates look like latitude/longitude the wrong way round {sample}."
    return f" The coordinates look projected, in metres {sample}: state the projected CRS."


def no_crs_error(frame: gpd.GeoDataFrame, source: str) -> ImportFailed:
    """The error for a file that does not say what CRS its coordinates are in."""
    return ImportFailed(
        f"{source} does not say which coordinate reference system its coordinates are in; "
        f"{CRS_HELP}.{_looks_like(frame)}"
    )


def to_wgs84(
    frame: gpd.GeoDataFrame,
    *,
    declared: CRS | None,
    stated: CrsChoice | None,
    rfc7946: bool,
    source: str,
) -> tuple[gpd.GeoDataFrame, CrsUsed]:
    """``frame`` moved to WGS 84 lon/lat (EPSG:4326), and the record of how.

    ``declared`` is the file's own CRS (None if it has none), ``stated`` the caller's,
    which wins; ``rfc7946`` marks a GeoJSON file whose CRS is WGS 84 by definition.
    """
    if stated is None:
        if declared is None:
            raise no_crs_error(frame, source)
        label = crs_label(declared)
        how = "GeoJSON is WGS 84 by RFC 7946" if rfc7946 else "declared by the file"
        moved = frame.set_crs(declared, allow_override=True)
        moved = moved if is_storage_crs(declared) else moved.to_crs(STORAGE_CRS)
        return moved, CrsUsed(label, "rfc7946" if rfc7946 else "file", f"{label}, {how}")
    notes: tuple[str, ...] = ()
    if declared is not None and not rfc7946:
        notes = (f"the file declares {crs_label(declared)}; the caller's {stated.label} was used",)
    if stated.crs is not None:
        moved = frame.set_crs(stated.crs, allow_override=True).to_crs(STORAGE_CRS)
        detail = f"{stated.label} ({stated.crs.name}), stated by the caller"
        return moved, CrsUsed(stated.label, "caller", detail, notes)
    detail = f"{_DATUM_NAMES[stated.datum]} lon/lat, stated by the caller"
    if declared is not None and not declared.is_geographic:
        frame = frame.set_crs(declared, allow_override=True).to_crs(STORAGE_CRS)
        detail = f"{crs_label(declared)} coordinates on the {_DATUM_NAMES[stated.datum]} datum"
    detail += "; converted to WGS 84 by the iterated inverse"
    return frame_to_wgs84(frame, stated.datum), CrsUsed(stated.label, "caller", detail, notes)
