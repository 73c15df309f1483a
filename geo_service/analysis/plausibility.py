"""Plausibility checks: is each layer where it should be, in the datum it claims, on the
network, with unique ids?

Pure functions: layers come in as GeoDataFrames in WGS 84 lon/lat (EPSG:4326), the
walking graph in its metric CRS; each check returns a :class:`Finding` or ``None``, and
:func:`check_layers` runs the relevant ones on a set of layers. Polygons and lines are
judged at their representative point; distances are metres in a projected CRS (the
measuring is in :mod:`geo_service.analysis.placement`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from geo_service.analysis.findings import ERROR, INFO, WARNING, Finding, feature_ids, metres
from geo_service.analysis.network import (
    NODE_TOLERANCE_M,
    SNAP_OK,
    SNAP_PAST_ISOLATED,
    SNAP_TOO_FAR,
    WalkGraph,
    snap_xy,
)
from geo_service.analysis.placement import (
    district_in_metres,
    fit_datum,
    lonlat_to_metric,
    network_offsets,
    representative_lonlat,
    valid_lonlat,
    within_distance,
)
from geo_service.crs import to_metric

#: Features this close (metres) outside the district still count as inside: a district
#: boundary often runs along a road centreline, and a building across it is 15-30 m out.
OUTSIDE_TOLERANCE_M = 50.0
#: Share of features not snapped above which :func:`unsnapped` warns (below: info).
UNSNAPPED_WARN_SHARE = 0.05
#: Share of the network's length on detached pieces above which :func:`isolated_network`
#: warns (below: info; clipping an extract at the boundary leaves a few short stubs).
ISOLATED_WARN_SHARE = 0.01
#: Layers whose features should stand on the walking network: the demo catalog's
#: ``facilities`` and ``demand`` groups (a district profile passes its own).
DEFAULT_POINT_LAYERS = (
    "service_centres",
    "pocket_parks",
    "trails",
    "compounds",
    "compound_entrances",
)
_DATUM_NAMES = {"gcj02": ("GCJ-02", "Amap, Tencent"), "bd09": ("BD-09", "Baidu")}


def outside_district(
    layer: str,
    frame: gpd.GeoDataFrame,
    district_geometry,
    *,
    id_column: str = "id",
    tolerance_m: float = OUTSIDE_TOLERANCE_M,
    metric_crs: CRS | str | None = None,
) -> Finding | None:
    """Features lying outside the district (a warning).

    Parameters
    ----------
    layer : str
        Layer id, for the finding.
    frame : GeoDataFrame
        The features, EPSG:4326, judged at their representative points (features without
        a geometry are not checked).
    district_geometry : shapely geometry, GeoSeries or GeoDataFrame
        The district, EPSG:4326.
    id_column : str
        Column of the feature ids (the index if absent).
    tolerance_m : float
        Metres outside the boundary that still count as inside.
    metric_crs : CRS or str, optional
        Where to measure; by default :func:`~geo_service.crs.metric_crs_for` the district.
    """
    district, crs = district_in_metres(district_geometry, metric_crs)
    lonlat = representative_lonlat(frame)
    located = np.isfinite(lonlat).all(axis=1)
    xy = lonlat_to_metric(lonlat, crs)
    outside = located & ~within_distance(district, xy, tolerance_m)
    if not outside.any():
        return None
    measurable = xy[outside & np.isfinite(xy).all(axis=1)]
    farthest = float(shapely.distance(district, shapely.points(measurable)).max(initial=0))
    count, total = int(outside.sum()), int(located.sum())
    message = (
        f"{count} of {total} features lie more than {metres(tolerance_m)} outside the "
        f"district (farthest {metres(farthest)}); check their coordinates or the district "
        "boundary"
    )
    ids = tuple(feature_ids(frame, id_column)[outside])
    measures = {"tolerance_m": tolerance_m, "farthest_m": farthest}
    return Finding(layer, "outside_district", WARNING, count, total, ids, message, measures)


def swapped_axes(
    layer: str,
    frame: gpd.GeoDataFrame,
    district_geometry=None,
    *,
    id_column: str = "id",
    tolerance_m: float = OUTSIDE_TOLERANCE_M,
    metric_crs: CRS | str | None = None,
) -> Finding | None:
    """Features stored as (lat, lon) instead of (lon, lat) (an error).

    Flagged: coordinates that are not valid lon/lat but are valid swapped (latitude over
    90 degrees, as always in China), and, given a district, features outside it (beyond
    ``tolerance_m`` metres) that are inside it swapped. Parameters as for
    :func:`outside_district`; ``district_geometry`` may be ``None``.
    """
    lonlat = representative_lonlat(frame)
    located = np.isfinite(lonlat).all(axis=1)
    swapped = lonlat[:, ::-1]
    flagged = located & ~valid_lonlat(lonlat) & valid_lonlat(swapped)
    if district_geometry is not None:
        district, crs = district_in_metres(district_geometry, metric_crs)
        inside = within_distance(district, lonlat_to_metric(lonlat, crs), tolerance_m)
        inside_swapped = within_distance(district, lonlat_to_metric(swapped, crs), tolerance_m)
        flagged |= located & ~inside & inside_swapped
    if not flagged.any():
        return None
    count, total = int(flagged.sum()), int(located.sum())
    where = "inside the district" if district_geometry is not None else "valid lon/lat"
    message = (
        f"{count} of {total} features have latitude and longitude swapped (read as lat, lon "
        f"they are {where}); swap the coordinate columns (x = longitude) and import again"
    )
    ids = tuple(feature_ids(frame, id_column)[flagged])
    return Finding(layer, "swapped_axes", ERROR, count, total, ids, message)


def _graph_crs(graph: WalkGraph, metric_crs: CRS | str) -> CRS:
    crs = CRS.from_user_input(metric_crs)
    if not crs.equals(CRS.from_user_input(graph.crs)):
        raise ValueError(f"metric_crs {crs.to_string()} is not the graph's CRS {graph.crs}")
    return crs


def datum_offset(
    layer: str,
    frame: gpd.GeoDataFrame,
    graph: WalkGraph,
    *,
    metric_crs: CRS | str,
    id_column: str = "id",
) -> Finding | None:
    """A layer in GCJ-02 or BD-09 declared as WGS 84 (an error, ``datum_gcj02`` or
    ``datum_bd09``, concerning every located feature).

    The layer sits off the network and fits it markedly and consistently better after that
    datum's inverse (thresholds: :func:`~geo_service.analysis.placement.fit_datum`). Only
    layers standing on the network (facilities, entrances) show it; a shift of scattered
    points (households) cannot be seen this way.

    Parameters
    ----------
    layer : str
        Layer id, for the finding.
    frame : GeoDataFrame
        The features, EPSG:4326 as declared.
    graph : WalkGraph
        The walking network.
    metric_crs : CRS or str
        The graph's projected CRS (metres); ``ValueError`` if it is not.
    id_column : str
        Column of the feature ids (the index if absent).
    """
    _graph_crs(graph, metric_crs)
    offsets = network_offsets(frame, graph)
    fit = fit_datum(offsets)
    if fit is None:
        return None
    located = offsets.notna().all(axis=1).to_numpy()
    name, sources = _DATUM_NAMES[fit.datum]
    message = (
        f"looks like {name} ({sources}): {fit.features} features sit {metres(fit.median_m)} "
        f"(median) off the network, {metres(fit.median_after_m)} after a {name} inverse "
        f"that brings {fit.closer} of them closer; import with --crs {fit.datum}"
    )
    ids, measures = tuple(feature_ids(frame, id_column)[located]), asdict(fit)
    del measures["datum"]
    n = fit.features
    return Finding(layer, f"datum_{fit.datum}", ERROR, n, n, ids, message, measures)


def unsnapped(
    layer: str,
    frame: gpd.GeoDataFrame,
    graph: WalkGraph,
    *,
    max_snap_m: float,
    warn_share: float = UNSNAPPED_WARN_SHARE,
    id_column: str = "id",
) -> Finding | None:
    """Features (EPSG:4326) that do not snap cleanly onto the main network piece: farther
    than ``max_snap_m`` metres (in the graph's CRS), nearest a detached road piece, or
    without a valid point (see :func:`~geo_service.analysis.network.snap_xy`). A warning
    if more than ``warn_share`` of the features, else info."""
    xy = lonlat_to_metric(representative_lonlat(frame), graph.crs)
    status = snap_xy(graph, xy, max_snap_m=max_snap_m).status
    bad = status != SNAP_OK
    if not bad.any():
        return None
    count, total = int(bad.sum()), len(frame)
    kinds = {
        f"farther than {metres(max_snap_m)} from it": int(np.sum(status == SNAP_TOO_FAR)),
        "nearest a cut-off road piece": int(np.sum(status == SNAP_PAST_ISOLATED)),
    }
    kinds["without a valid point"] = count - sum(kinds.values())
    reasons = ", ".join(f"{n} {reason}" for reason, n in kinds.items() if n)
    message = (
        f"{count} of {total} features ({count / total:.1%}) do not snap onto the walking "
        f"network ({reasons}); check their positions or the roads near them"
    )
    severity = WARNING if count / total > warn_share else INFO
    ids, measures = tuple(feature_ids(frame, id_column)[bad]), {"share": count / total}
    return Finding(layer, "unsnapped", severity, count, total, ids, message, measures)


def isolated_network(
    graph: WalkGraph,
    roads_frame: gpd.GeoDataFrame,
    *,
    layer: str = "roads",
    id_column: str = "id",
    warn_share: float = ISOLATED_WARN_SHARE,
) -> Finding | None:
    """Road pieces cut off from the main (longest) piece of ``graph``.

    ``roads_frame`` (any CRS) is what ``graph`` was built from; its lines with a vertex on
    a detached piece are reported. A warning if the detached pieces hold more than
    ``warn_share`` of the network's length, else info; ``measures``: ``pieces``
    (detached), their ``length_m`` (metres) and ``share`` of the length.
    """
    pieces = graph.pieces()
    if len(pieces) < 2:
        return None
    lines = to_metric(roads_frame[[roads_frame.geometry.name]], graph.crs).geometry.to_numpy()
    coords, row = shapely.get_coordinates(lines, return_index=True)
    gap, node = cKDTree(graph.nodes).query(coords, distance_upper_bound=2 * NODE_TOLERANCE_M)
    found = np.isfinite(gap)
    detached = np.zeros(len(roads_frame), dtype=bool)
    detached[row[found][graph.component[node[found]] != graph.main_component]] = True
    total_m = float(pieces["length_m"].sum())
    detached_m = total_m - float(pieces.loc[graph.main_component, "length_m"])
    share, count = detached_m / total_m, int(detached.sum())
    message = (
        f"{len(pieces) - 1} road pieces ({metres(detached_m)}, {share:.1%} of the network, "
        f"{count} road features) are cut off from the main network and nothing on them is "
        "reachable on foot; join them to it or drop them"
    )
    severity = WARNING if share > warn_share else INFO
    ids, total = tuple(feature_ids(roads_frame, id_column)[detached]), len(roads_frame)
    measures = {"pieces": len(pieces) - 1, "length_m": detached_m, "share": share}
    return Finding(layer, "isolated_network", severity, count, total, ids, message, measures)


def duplicate_ids(layer: str, frame: gpd.GeoDataFrame, id_column: str = "id") -> Finding | None:
    """Features sharing an id with another one (an error; null ids are not compared):
    ``ids`` holds each shared id once, ``count`` the features carrying them. ``None`` if
    ``frame`` has no ``id_column``."""
    if id_column not in frame.columns:
        return None
    values = frame[id_column]
    shared = values.notna() & values.duplicated(keep=False)
    if not shared.any():
        return None
    ids = tuple(values[shared].astype(str).unique())
    count = int(shared.sum())
    message = (
        f"{len(ids)} ids are shared by {count} of {len(frame)} features ({', '.join(ids[:3])}"
        f"{', ...' if len(ids) > 3 else ''}); give every feature an id of its own"
    )
    return Finding(layer, "duplicate_ids", ERROR, count, len(frame), ids, message)


def check_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    graph: WalkGraph,
    metric_crs: CRS | str,
    district_geometry=None,
    point_layers: tuple[str, ...] = DEFAULT_POINT_LAYERS,
    roads_layer: str = "roads",
    max_snap_m: float = 250.0,
    id_columns: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every relevant check on every layer, in the order of ``layers``.

    All layers get :func:`duplicate_ids` and :func:`swapped_axes`; ``roads_layer``
    :func:`isolated_network`; ``point_layers`` :func:`outside_district`,
    :func:`datum_offset` and :func:`unsnapped`. Without ``district_geometry`` the district
    checks are skipped (:func:`swapped_axes` then only tests lon/lat ranges).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer id to features, EPSG:4326.
    graph : WalkGraph
        The walking network, built from ``layers[roads_layer]`` in ``metric_crs``.
    metric_crs : CRS or str
        The graph's projected CRS (metres); every distance is measured in it.
    district_geometry : shapely geometry, GeoSeries or GeoDataFrame, optional
        The district, EPSG:4326.
    point_layers : tuple of str
        Layers whose features should stand on the network (facilities, demand).
    roads_layer : str
        The road layer.
    max_snap_m : float
        Metres beyond which a feature does not snap.
    id_columns : mapping of str to str, optional
        Layer id to its id column (default ``"id"``).
    """
    crs = _graph_crs(graph, metric_crs)
    found: list[Finding | None] = []
    for layer, frame in layers.items():
        ids = (id_columns or {}).get(layer, "id")
        found.append(duplicate_ids(layer, frame, ids))
        found.append(swapped_axes(layer, frame, district_geometry, id_column=ids, metric_crs=crs))
        if layer == roads_layer:
            found.append(isolated_network(graph, frame, layer=layer, id_column=ids))
        if layer not in point_layers:
            continue
        if district_geometry is not None:
            found.append(
                outside_district(layer, frame, district_geometry, id_column=ids, metric_crs=crs)
            )
        found.append(datum_offset(layer, frame, graph, metric_crs=crs, id_column=ids))
        found.append(unsnapped(layer, frame, graph, max_snap_m=max_snap_m, id_column=ids))
    return [finding for finding in found if finding is not None]
