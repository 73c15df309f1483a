"""The coordinate reference systems geo_service uses, and checks on them.

Storage and delivery are WGS 84 longitude/latitude (EPSG:4326, axis order lon, lat
as in GeoJSON). Distances and areas are only ever computed in a projected CRS in
metres: the district profile's, chosen from the data's extent by :func:`metric_crs_for`
(a CGCS2000 3-degree Gauss-Kruger zone in China, UTM elsewhere) and checked against the
data by :func:`check_metric_crs`. GCJ-02 and BD-09 are in :mod:`geo_service.datums`.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
from pyproj import CRS, Proj

from geo_service.datums import outside_china
from geo_service.errors import UnsuitableCRS

STORAGE_CRS = CRS.from_epsg(4326)
DEFAULT_METRIC_CRS = CRS.from_epsg(4549)


def is_storage_crs(crs: CRS | str | int | None) -> bool:
    """Whether ``crs`` is WGS 84 geographic (EPSG:4326 or OGC:CRS84)."""
    if crs is None:
        return False
    crs = CRS.from_user_input(crs)
    return crs.equals(STORAGE_CRS, ignore_axis_order=True)


def to_metric(
    gdf: gpd.GeoDataFrame, metric_crs: CRS | str = DEFAULT_METRIC_CRS
) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to a projected CRS in metres (default EPSG:4549).

    Raises ``ValueError`` if ``gdf`` has no CRS or the target is not projected in metres.
    """
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS; cannot measure in metres")
    target = CRS.from_user_input(metric_crs)
    if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
        raise ValueError(f"{target.to_string()} is not a projected CRS in metres")
    return gdf.to_crs(target)


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to WGS 84 lon/lat (EPSG:4326)."""
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS")
    return gdf.to_crs(STORAGE_CRS)


#: Bounds (west, south, east, north) in lon/lat degrees.
Bounds = tuple[float, float, float, float]

#: EPSG code of CGCS2000 / 3-degree Gauss-Kruger CM 75E; CM 78E ... 135E follow in order.
_CGCS2000_GK_CM75 = 4534


def metric_crs_for(bounds: Bounds) -> CRS:
    """The projected CRS in metres to measure data with these lon/lat ``bounds``.

    In China (the data's centre inside the GCJ-02 rectangle): the CGCS2000 3-degree
    Gauss-Kruger zone whose central meridian is nearest (EPSG:4534-4554; Wuxi: EPSG:4549,
    CM 120E). Elsewhere: the WGS 84 UTM zone of the centre (EPSG:326xx north, 327xx south).
    """
    west, south, east, north = bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    if not bool(outside_china(lon, lat)):
        central_meridian = min(max(3 * round(lon / 3), 75), 135)
        return CRS.from_epsg(_CGCS2000_GK_CM75 + (central_meridian - 75) // 3)
    zone = min(int((lon + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def scale_error(crs: CRS, lon: float, lat: float) -> float:
    """How much longer (positive) or shorter a distance measured in ``crs`` comes out at
    ``lon``, ``lat`` than on the ground: the larger of the meridional and parallel scale
    errors, as a fraction (0.28 = 28% too long)."""
    factors = Proj(crs).get_factors(lon, lat)
    errors = (factors.meridional_scale - 1, factors.parallel_scale - 1)
    worst = max(errors, key=abs)
    return float(worst) if math.isfinite(worst) else math.inf


def check_metric_crs(crs: CRS | str, bounds: Bounds) -> CRS:
    """``crs`` if it is projected in metres and its area of use covers ``bounds`` (lon/lat).

    Raises :class:`~geo_service.errors.UnsuitableCRS` otherwise, stating the scale error
    the CRS would make at the data's centre.
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise UnsuitableCRS(f"{crs.to_string()} is not a projected CRS in metres")
    area = crs.area_of_use
    west, south, east, north = bounds
    if area is None or not (
        area.west <= west and east <= area.east and area.south <= south and north <= area.north
    ):
        lon, lat = (west + east) / 2, (south + north) / 2
        error = scale_error(crs, lon, lat)
        covers = (
            f"{area.name} ({area.west:g}..{area.east:g}E, {area.south:g}..{area.north:g}N)"
            if area is not None
            else "an undeclared area"
        )
        raise UnsuitableCRS(
            f"metric CRS {crs.to_string()} is for {covers}; the data "
            f"({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}) lies outside it: lengths "
            f"there come out {error:+.1%} off. Use {metric_crs_for(bounds).to_string()} "
            "(metric_crs in district.yaml)"
        )
    return crs


def frame_bounds(frames: list[gpd.GeoDataFrame]) -> Bounds:
    """The lon/lat bounds of every geometry of ``frames`` (EPSG:4326)."""
    boxes = np.array([f.total_bounds for f in frames if len(f) and f.geometry.notna().any()])
    if not len(boxes):
        raise ValueError("no geometries to take bounds of")
    return (
        float(np.nanmin(boxes[:, 0])),
        float(np.nanmin(boxes[:, 1])),
        float(np.nanmax(boxes[:, 2])),
        float(np.nanmax(boxes[:, 3])),
    )
