"""China's obfuscated datums: GCJ-02 (Amap/Gaode, Tencent) and BD-09 (Baidu).

Both are published forward transforms from WGS 84 lon/lat; neither has a closed-form
inverse. The inverses here iterate the forward transform until it reproduces the input
(a fixed point), which lands within 1e-9 degree (~0.1 mm) of the true WGS 84 point: a
one-step inverse (subtracting the offset measured at the shifted point) is ~1-2 m off.

Outside mainland China (the published rectangle, see :func:`outside_china`) GCJ-02 is
WGS 84: the shift is applied only inside it. Every function takes and returns lon, lat
in degrees, as scalars or NumPy arrays.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

Datum = Literal["wgs84", "gcj02", "bd09"]

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
#: Iterations stop when the forward transform reproduces the input to this (degrees).
_TOLERANCE_DEG = 1e-11
_MAX_ITERATIONS = 30


def outside_china(lon, lat):
    """Whether a point lies outside the rectangle where GCJ-02 shifts (True: no shift)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    waves_x = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2 / 3
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + waves_x
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2 / 3
        + (160.0 * np.sin(y / 12.0 * pi) + 320 * np.sin(y * pi / 30.0)) * 2 / 3
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + waves_x
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2 / 3
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2 / 3
    )
    rad = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    outside = outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _scalar_or_array(lon, lat, out_lon, out_lat):
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def wgs84_to_gcj02(lon, lat):
    """WGS 84 lon/lat to GCJ-02 (offsets of ~0.3-0.7 km in China; none outside it)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(x, y)
    return _scalar_or_array(lon, lat, x + dlon, y + dlat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to BD-09 (Baidu)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _scalar_or_array(lon, lat, z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def wgs84_to_bd09(lon, lat):
    """WGS 84 lon/lat to BD-09 (Baidu)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon, lat):
    """The point ``p`` with ``forward(p) == (lon, lat)``, by fixed-point iteration."""
    target_x, target_y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = target_x.copy(), target_y.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        error_x, error_y = np.asarray(fx) - target_x, np.asarray(fy) - target_y
        x, y = x - error_x, y - error_y
        if np.nanmax(np.abs(np.concatenate([np.ravel(error_x), np.ravel(error_y)])), initial=0) < (
            _TOLERANCE_DEG
        ):
            break
    return _scalar_or_array(lon, lat, x, y)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 lon/lat to WGS 84, iterated to ~1e-9 degree (a one-step inverse is ~1-2 m off)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon, lat):
    """BD-09 (Baidu) lon/lat to WGS 84, iterated like :func:`gcj02_to_wgs84`."""
    return _invert(wgs84_to_bd09, lon, lat)


def one_step_gcj02_to_wgs84(lon, lat):
    """The common one-step inverse (subtract the offset at the shifted point); ~1-2 m off.
    Kept to show why the iterated inverse is used."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(x, y)
    return _scalar_or_array(lon, lat, x - dlon, y - dlat)


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _transform_frame(frame: gpd.GeoDataFrame, function) -> gpd.GeoDataFrame:
    def move(xy: np.ndarray) -> np.ndarray:
        x, y = function(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return frame.set_geometry(shapely.transform(frame.geometry.to_numpy(), move))


def frame_to_wgs84(frame: gpd.GeoDataFrame, datum: Datum) -> gpd.GeoDataFrame:
    """A lon/lat frame whose coordinates are in ``datum``, moved to WGS 84 (EPSG:4326)."""
    if datum == "wgs84":
        return frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
    frame = frame.set_crs(4326, allow_override=True)
    return _transform_frame(frame, _TO_WGS84[datum])


def frame_from_wgs84(frame: gpd.GeoDataFrame, datum: Datum) -> gpd.GeoDataFrame:
    """A WGS 84 lon/lat frame shifted into ``datum`` (what Amap or Baidu would show)."""
    if datum == "wgs84":
        return frame
    return _transform_frame(frame, _FROM_WGS84[datum])
