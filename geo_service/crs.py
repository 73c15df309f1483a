"""The coordinate reference systems geo_service uses, and checks on them.

Storage and delivery are WGS 84 longitude/latitude (EPSG:4326, axis order lon, lat
as in GeoJSON). Distances and areas are only ever computed in a projected CRS in
metres, by default EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E).
"""

from __future__ import annotations

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
