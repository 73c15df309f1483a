"""The coordinate reference systems geo_service uses, and checks on them.

Storage and delivery are WGS 84 longitude/latitude (EPSG:4326, axis order lon, lat
as in GeoJSON). Distances and areas are only ever computed in a projected CRS in
metres: the district profile's, chosen from the data's extent by :func:`metric_crs_for`
(a CGCS2000 3-degree Gauss-Kruger zone in China, UTM elsewhere) and checked against the
data by :func:`check_metric_crs`. GCJ-02 and BD-09 are in :mod:`geo_service.datums`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from geo_service.datums import outside_china
from geo_service.errors import UnsuitableCRS

STORAGE_CRS = CRS.from_epsg(4326)


def is_storage_crs(crs: CRS | str | int | None) -> bool:
    """Whether ``crs`` is WGS 84 geographic (EPSG:4326 or OGC:CRS84)."""
    if crs is None:
        return False
    crs = CRS.from_user_input(crs)
    return crs.equals(STORAGE_CRS, ignore_axis_order=True)


def to_metric(gdf: gpd.GeoDataFrame, metric_crs: CRS | str) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to ``metric_crs``, a projected CRS in metres (the district's).

    Raises ``ValueError`` if ``gdf`` has no CRS or the target is not projected in metres.
    """
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS; cannot measure in metres")
    target = CRS.from_user_input(metric_crs)
    if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
        raise ValueError(f"{target.to_string()} is not a projected CRS in metres")
    return gdf.to_crs(target)


#: The storage grid: coordinates are kept to 1e-7 degree (about 1 cm).
STORAGE_GRID_DEG = 1e-7


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 on the storage grid (:data:`STORAGE_GRID_DEG`), kept valid."""
    gdf = gdf.to_crs(STORAGE_CRS)
    return gdf.set_geometry(shapely.set_precision(gdf.geometry.to_numpy(), STORAGE_GRID_DEG))


def storage_xy(xy: np.ndarray, crs: CRS | str) -> np.ndarray:
    """Coordinates ``xy`` (``(..., 2)``, in ``crs``) as stored: lon/lat on the storage grid,
    as :func:`to_storage` makes them (tested equal), without making geometries."""
    transformer = _to_storage_transformer(CRS.from_user_input(crs).to_wkt())
    lon, lat = transformer.transform(xy[..., 0], xy[..., 1])
    scale = round(1 / STORAGE_GRID_DEG)  # an exact integer, as GEOS's precision model
    scaled = np.stack([lon, lat], axis=-1) * scale
    below = np.floor(scaled)  # GEOS rounds halves up (towards +inf), numpy to even
    return np.where(scaled - below == 0.5, below + 1, np.rint(scaled)) / scale


#: Bounds (west, south, east, north) in lon/lat degrees.
Bounds = tuple[float, float, float, float]


def joint_bounds(frames: Iterable[gpd.GeoDataFrame]) -> Bounds:
    """The box around every non-empty frame's features, in their (shared) CRS."""
    boxes = np.array([frame.total_bounds for frame in frames if len(frame)])
    return (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))


#: EPSG code of CGCS2000 / 3-degree Gauss-Kruger CM 75E; CM 78E ... 135E follow in order.
_CGCS2000_GK_CM75 = 4534


#: The largest scale error (a fraction) a metric CRS may make anywhere on the data: 1 m
#: per km. A CRS whose area of use misses part of the data still passes within it.
MAX_SCALE_ERROR = 0.001


def _corners(bounds: Bounds) -> list[tuple[float, float]]:
    west, south, east, north = bounds
    return [(west, south), (west, north), (east, south), (east, north),
            ((west + east) / 2, (south + north) / 2)]  # fmt: skip


def _candidates(bounds: Bounds) -> list[CRS]:
    west, south, east, north = bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    found = []
    if not bool(outside_china(lon, lat)):
        central_meridian = min(max(3 * round(lon / 3), 75), 135)
        found.append(CRS.from_epsg(_CGCS2000_GK_CM75 + (central_meridian - 75) // 3))
    zone = min(int((lon + 180) // 6) + 1, 60)
    found.append(CRS.from_epsg((32600 if lat >= 0 else 32700) + zone))
    return found


def metric_crs_for(bounds: Bounds) -> CRS:
    """The projected CRS in metres to measure data with these lon/lat ``bounds``.

    The first whose area of use holds the data of: the CGCS2000 3-degree Gauss-Kruger zone
    whose central meridian is nearest (EPSG:4534-4554; Wuxi: EPSG:4549, CM 120E), which
    covers onshore China only; the WGS 84 UTM zone of the data's centre (EPSG:326xx north,
    327xx south). Data across a UTM zone's edge gets a transverse Mercator centred on it (a
    PROJ definition, not an EPSG code). Data so wide that lengths at its edges would come
    out more than :data:`MAX_SCALE_ERROR` long on that meridian gets a scale factor below 1
    that spreads the error either side (as UTM's 0.9996 does).
    """
    west, south, east, north = bounds
    for crs in _candidates(bounds):
        area = crs.area_of_use
        if area.west <= west and east <= area.east and area.south <= south and north <= area.north:
            return crs
    lon = (bounds[0] + bounds[2]) / 2
    centred = _transverse_mercator(lon, 1.0)
    error = worst_scale_error(centred, bounds)
    if error <= MAX_SCALE_ERROR or not math.isfinite(error):
        return centred
    return _transverse_mercator(lon, round(1 / (1 + error / 2), 6))


def _transverse_mercator(lon: float, scale: float) -> CRS:
    """A transverse Mercator on meridian ``lon`` with this central ``scale`` factor."""
    return CRS.from_proj4(
        f"+proj=tmerc +lat_0=0 +lon_0={lon:.4f} +k={scale:g} +x_0=500000 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


def scale_error(crs: CRS, lon: float, lat: float) -> float:
    """How much longer (positive) or shorter a distance measured in ``crs`` comes out at
    ``lon``, ``lat`` than on the ground: the larger of the meridional and parallel scale
    errors, as a fraction (0.28 = 28% too long)."""
    factors = Proj(crs).get_factors(lon, lat)
    errors = (factors.meridional_scale - 1, factors.parallel_scale - 1)
    worst = max(errors, key=abs)
    return float(worst) if math.isfinite(worst) else math.inf


def worst_scale_error(crs: CRS, bounds: Bounds) -> float:
    """The largest :func:`scale_error` of ``crs`` at the corners and centre of ``bounds``."""
    return max((scale_error(crs, lon, lat) for lon, lat in _corners(bounds)), key=abs)


def check_metric_crs(crs: CRS | str, bounds: Bounds) -> CRS:
    """``crs`` if it is projected in metres and fits data with lon/lat ``bounds``: its
    area of use holds them, or its scale error on them stays within
    :data:`MAX_SCALE_ERROR` (a zone's edge a little way off).

    Raises :class:`~geo_service.errors.UnsuitableCRS` otherwise, stating the scale error
    the CRS would make on the data and a CRS that fits.
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise UnsuitableCRS(f"{crs.to_string()} is not a projected CRS in metres")
    area = crs.area_of_use
    west, south, east, north = bounds
    inside = area is not None and (
        area.west <= west and east <= area.east and area.south <= south and north <= area.north
    )
    if inside:
        return crs
    error = worst_scale_error(crs, bounds)
    if abs(error) <= MAX_SCALE_ERROR:
        return crs
    covers = (
        f"{area.name} ({area.west:g}..{area.east:g}E, {area.south:g}..{area.north:g}N)"
        if area is not None
        else "an undeclared area"
    )
    problem = (
        f"metric CRS {crs.to_string()} is for {covers}; the data "
        f"({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}) lies outside it: lengths "
        f"there come out up to {error:+.2%} off"
    )
    fitting = metric_crs_for(bounds)
    if abs(worst_scale_error(fitting, bounds)) > MAX_SCALE_ERROR:
        raise UnsuitableCRS(
            f"{problem}, and the data is too wide for any one transverse Mercator to measure "
            f"within {MAX_SCALE_ERROR:.1%}: split it into districts of a few degrees each"
        )
    raise UnsuitableCRS(f"{problem}. Use {fitting.to_string()} (metric_crs in district.yaml)")


@functools.lru_cache(maxsize=8)
def _to_storage_transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), STORAGE_CRS, always_xy=True)
