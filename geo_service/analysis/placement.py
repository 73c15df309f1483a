"""Where a layer's features sit: representative points, and the datum that fits the network.

A polygon or line stands for its representative point (``shapely.point_on_surface``).
Lon/lat is WGS 84 (EPSG:4326); metres are in a projected CRS, the walking graph's.

A layer stored in GCJ-02 or BD-09 but declared WGS 84 sits 0.3-1.2 km off its true place,
all in one direction. On a dense urban network that leaves it only 40-70 m (median) off
the roads, about as far as random points: distance alone does not tell. What does is the
inverse: applied to a shifted layer it puts features back on their roads, applied to a
true one it pushes them off. :func:`fit_datum` asks for both a large drop of the median
distance and a consistent one (a sign test). The thresholds below come from experiments
on the demo district: its layers as they are, shifted, jittered, subsampled, and random points.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.special import bdtrc

from geo_service import datums
from geo_service.analysis.network import WalkGraph, snap_xy
from geo_service.crs import STORAGE_CRS, is_storage_crs, metric_crs_for, to_metric

#: A datum is judged on at least this many located features: with fewer, even "all of
#: them closer after the inverse" is not significant at :data:`DATUM_MAX_P` (0.5**10).
DATUM_MIN_FEATURES = 10
#: A layer whose median distance to the network is below this (metres) fits as it is.
#: Shifted demo layers sit 39-70 m (median) off the network, random points 35-87 m.
DATUM_MIN_OFFSET_M = 10.0
#: The median distance must drop at least this many times after the inverse. Shifted demo
#: layers drop 3.8 times (service centres, set 15 m back from the road) to over 1000 times
#: (features on roads); true or unrelated layers of 20+ features at most 2.5 times.
DATUM_MIN_IMPROVEMENT = 2.0
#: The drop must be consistent: more features closer after the inverse than farther, with
#: a chance probability (one-sided sign test) at most this. True or unrelated demo layers
#: of 20+ features have at most 70% closer (p >= 0.05); shifted ones 86-100% (p < 1e-11).
DATUM_MAX_P = 1e-3
#: Distances differing by less than this (metres) are a tie in the sign test.
_TIE_M = 0.01

#: The inverse transform of each datum a layer may secretly be in.
INVERSES = {"gcj02": datums.gcj02_to_wgs84, "bd09": datums.bd09_to_wgs84}


def representative_lonlat(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature's representative point.

    Parameters
    ----------
    frame : GeoDataFrame
        Any geometries, in EPSG:4326 (reprojected if in another CRS; no CRS is read as
        lon/lat, so that wrongly ordered or shifted coordinates reach the checks as they
        are).

    Returns
    -------
    ndarray
        ``(n, 2)`` lon, lat in degrees, in ``frame``'s order; NaN for a missing or empty
        geometry.
    """
    if frame.crs is not None and not is_storage_crs(frame.crs):
        frame = frame.to_crs(STORAGE_CRS)
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    lonlat = np.full((len(points), 2), np.nan)
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    lonlat[present] = shapely.get_coordinates(points[present])
    lonlat[~np.isfinite(lonlat).all(axis=1)] = np.nan
    return lonlat


def valid_lonlat(lonlat: np.ndarray) -> np.ndarray:
    """Which ``(n, 2)`` lon/lat rows are in range (|lon| <= 180, |lat| <= 90 degrees)."""
    return (np.abs(lonlat[:, 0]) <= 180) & (np.abs(lonlat[:, 1]) <= 90)


@lru_cache(maxsize=16)
def _transformer(metric_crs: str) -> Transformer:
    return Transformer.from_crs(STORAGE_CRS, CRS.from_user_input(metric_crs), always_xy=True)


def lonlat_to_metric(lonlat: np.ndarray, metric_crs: CRS | str) -> np.ndarray:
    """``(n, 2)`` lon/lat degrees to ``(n, 2)`` metres in ``metric_crs``; NaN rows where
    the lon/lat is missing or out of range."""
    xy = np.full_like(lonlat, np.nan)
    ok = valid_lonlat(lonlat)
    x, y = _transformer(CRS.from_user_input(metric_crs).to_string()).transform(*lonlat[ok].T)
    xy[ok] = np.column_stack([x, y])
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    return xy


def district_in_metres(
    district_geometry, metric_crs: CRS | str | None = None
) -> tuple[shapely.Geometry, CRS]:
    """A district as one prepared geometry in metres, and the CRS it is in.

    ``district_geometry`` is a shapely geometry in lon/lat, or a GeoSeries/GeoDataFrame
    (without a CRS: lon/lat); ``metric_crs`` by default the CRS
    :func:`~geo_service.crs.metric_crs_for` picks for it.
    """
    if isinstance(district_geometry, gpd.GeoDataFrame | gpd.GeoSeries):
        series = district_geometry.geometry
        series = series if series.crs is not None else series.set_crs(STORAGE_CRS)
    else:
        series = gpd.GeoSeries([district_geometry], crs=STORAGE_CRS)
    if metric_crs is None:
        metric_crs = metric_crs_for(tuple(series.to_crs(STORAGE_CRS).total_bounds))
    crs = CRS.from_user_input(metric_crs)
    district = shapely.union_all(to_metric(gpd.GeoDataFrame(geometry=series), crs).geometry)
    shapely.prepare(district)
    return district, crs


def within_distance(geometry: shapely.Geometry, xy: np.ndarray, distance_m: float) -> np.ndarray:
    """Which ``(n, 2)`` points (metres, ``geometry``'s CRS) lie within ``distance_m`` of
    ``geometry``; NaN rows do not."""
    near = np.zeros(len(xy), dtype=bool)
    ok = np.isfinite(xy).all(axis=1)
    near[ok] = shapely.dwithin(geometry, shapely.points(xy[ok]), distance_m)
    return near


def network_offsets(frame: gpd.GeoDataFrame, graph: WalkGraph) -> pd.DataFrame:
    """Distance from each feature to the walking network, as it is and after each inverse.

    Parameters
    ----------
    frame : GeoDataFrame
        Features in EPSG:4326 (see :func:`representative_lonlat`).
    graph : WalkGraph
        The network, in its metric CRS.

    Returns
    -------
    DataFrame
        Indexed like ``frame``: ``wgs84_m`` (as it is), ``gcj02_m`` and ``bd09_m`` (after
        that inverse), metres from the representative point to the nearest segment of the
        main network piece; NaN where the feature has no valid lon/lat point.
    """
    lonlat = representative_lonlat(frame)
    ok = valid_lonlat(lonlat)
    columns = {}
    for datum in ("wgs84", *INVERSES):
        moved = lonlat.copy()
        if datum in INVERSES:
            moved[ok] = np.column_stack(INVERSES[datum](*lonlat[ok].T))
        xy = lonlat_to_metric(moved, graph.crs)
        columns[f"{datum}_m"] = snap_xy(graph, xy, max_snap_m=np.inf).snap_m
    return pd.DataFrame(columns, index=frame.index)


@dataclass(frozen=True)
class DatumFit:
    """How much better a layer fits the network after the inverse of ``datum``.

    ``features`` were measured; their median distance to the network is ``median_m``
    metres as they are and ``median_after_m`` after the inverse, which brings ``closer`` of
    them closer and ``farther`` farther (ties left out); ``p_value`` is the chance of so
    many closer if the inverse did not matter (one-sided sign test).
    """

    datum: str
    features: int
    median_m: float
    median_after_m: float
    closer: int
    farther: int
    p_value: float

    @property
    def fits(self) -> bool:
        """Whether the layer is, by the thresholds above, in ``datum``."""
        return (
            self.features >= DATUM_MIN_FEATURES
            and self.median_m >= DATUM_MIN_OFFSET_M
            and self.median_m >= DATUM_MIN_IMPROVEMENT * self.median_after_m
            and self.p_value <= DATUM_MAX_P
        )


def datum_fits(offsets: pd.DataFrame) -> list[DatumFit]:
    """A :class:`DatumFit` per inverse, from :func:`network_offsets` (located rows only)."""
    distances = offsets.dropna()
    as_is = distances["wgs84_m"].to_numpy()
    fits = []
    for datum in INVERSES:
        after = distances[f"{datum}_m"].to_numpy()
        closer = int(np.sum(after < as_is - _TIE_M))
        farther = int(np.sum(after > as_is + _TIE_M))
        p_value = float(bdtrc(closer - 1, closer + farther, 0.5)) if closer else 1.0
        median = float(np.median(as_is)) if len(as_is) else np.nan
        median_after = float(np.median(after)) if len(after) else np.nan
        fits.append(DatumFit(datum, len(as_is), median, median_after, closer, farther, p_value))
    return fits


def fit_datum(offsets: pd.DataFrame) -> DatumFit | None:
    """The datum a layer is in, if not WGS 84: of the inverses that fit (see
    :attr:`DatumFit.fits`), the one leaving the smaller median distance; else ``None``."""
    fitting = [fit for fit in datum_fits(offsets) if fit.fits]
    return min(fitting, key=lambda fit: fit.median_after_m) if fitting else None
