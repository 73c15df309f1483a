"""The coordinate reference systems geo_service uses, and checks on them.

Storage and delivery are WGS 84 longitude/latitude (EPSG:4326, axis order lon, lat
as in GeoJSON). Distances and areas are only ever computed in a projected CRS in
metres, by default EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E).
"""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS

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


# GCJ-02 ("Mars coordinates", used by Amap/Gaode and Tencent) and BD-09 (Baidu): the
# published forward transforms from WGS 84, for handing a point to a phone map app.
_A = 6378245.0
_EE = 0.00669342162296594323


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    )
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 lon/lat to GCJ-02 (Amap/Gaode); offsets of ~0.3–0.7 km in China."""
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 to BD-09 (Baidu)."""
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 lon/lat to BD-09 (Baidu)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
