"""Service-circle polygons: the streets reached within a walking distance, buffered.

For display only: coverage is decided by network distance, never by these polygons.
Metres throughout, in the graph's CRS.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.distances import NodeDistances, node_distances
from geo_service.analysis.network import Snapped, WalkGraph, snap_points
from geo_service.coverage_params import CoverageParams


def reached_intervals(
    graph: WalkGraph, nodes: NodeDistances, sources: Snapped, threshold_m: float
) -> pd.DataFrame:
    """The reached stretch of every segment: ``edge``, ``start_m``, ``end_m`` (metres from
    ``edge_u``). A segment reached from both ends past its middle is reached whole."""
    length = graph.edge_length
    left = np.clip(threshold_m - nodes.distance_m[graph.edge_u], 0.0, length)  # from u
    right = np.clip(threshold_m - nodes.distance_m[graph.edge_v], 0.0, length)  # from v
    whole = left + right >= length
    edges = np.arange(len(length))
    frames = [
        pd.DataFrame({"edge": edges[whole], "start_m": 0.0, "end_m": length[whole]}),
        pd.DataFrame(
            {"edge": edges[~whole & (left > 0)], "start_m": 0.0, "end_m": left[~whole & (left > 0)]}
        ),
        pd.DataFrame(
            {
                "edge": edges[~whole & (right > 0)],
                "start_m": (length - right)[~whole & (right > 0)],
                "end_m": length[~whole & (right > 0)],
            }
        ),
    ]
    # A facility also reaches along its own segment in both directions.
    ok = sources.ok
    reach = threshold_m - sources.snap_m[ok]
    own = reach > 0
    edge = sources.edge[ok][own]
    offset = sources.offset_m[ok][own]
    frames.append(
        pd.DataFrame(
            {
                "edge": edge,
                "start_m": np.clip(offset - reach[own], 0.0, length[edge]),
                "end_m": np.clip(offset + reach[own], 0.0, length[edge]),
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


def walks_from_each_set(
    graph: WalkGraph, sets: dict[str, gpd.GeoDataFrame], params: CoverageParams
) -> Iterator[tuple[str, gpd.GeoDataFrame, Snapped, NodeDistances]]:
    """Per facility set with at least one facility on the network: its key, its
    facilities, where they join the network and the walk from the nearest of them to
    every node (one multi-source run, up to the widest circle). Metric CRS. A set none
    of whose facilities joins the network reaches nothing and is left out."""
    for key, facilities in sets.items():
        if facilities.empty:
            continue
        sources = snap_points(graph, facilities.geometry.to_numpy(), max_snap_m=params.max_snap_m)
        if not len(sources.ok):
            continue
        yield key, facilities, sources, node_distances(graph, sources, limit_m=params.widest_m)


def interval_lines(graph: WalkGraph, intervals: pd.DataFrame) -> np.ndarray:
    """Each interval as a LineString along its (straight) segment."""
    return shapely.linestrings(interval_ends(graph, intervals))


def interval_ends(graph: WalkGraph, intervals: pd.DataFrame) -> np.ndarray:
    """Where each interval starts and ends along its segment: ``(n, 2, 2)`` coordinates
    in the graph's CRS."""
    edge = intervals["edge"].to_numpy()
    start, end = graph.nodes[graph.edge_u[edge]], graph.nodes[graph.edge_v[edge]]
    fraction = np.divide(
        1.0, graph.edge_length[edge], out=np.zeros(len(edge)), where=graph.edge_length[edge] > 0
    )
    direction = (end - start) * fraction[:, None]
    a = start + direction * intervals["start_m"].to_numpy()[:, None]
    b = start + direction * intervals["end_m"].to_numpy()[:, None]
    return np.stack([a, b], axis=1)


def circle_polygon(lines: np.ndarray, *, buffer_m: float) -> shapely.Geometry:
    """The reached streets as one (multi)polygon, ``buffer_m`` either side.

    Each line is buffered on its own (coarse round ends) and the buffers are unioned:
    measured faster than buffering their union.
    """
    if not len(lines):
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=2))


def facility_circles(
    graph: WalkGraph, points: np.ndarray, params: CoverageParams
) -> list[shapely.Geometry]:
    """One facility's service circles (one polygon per life circle), built on demand from
    a single Dijkstra run limited to the widest circle. ``points`` are where the facility
    is entered (one point, or both ends of a trail), in the graph's CRS. Empty polygons if
    no point is within ``max_snap_m`` of the network."""
    sources = snap_points(graph, np.asarray(points, dtype=object), max_snap_m=params.max_snap_m)
    nodes = node_distances(graph, sources, limit_m=params.widest_m)
    return [
        circle_polygon(
            interval_lines(graph, reached_intervals(graph, nodes, sources, c.distance_m)),
            buffer_m=params.circle_buffer_m,
        )
        for c in params.circles
    ]


def area_circles(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame,
    area: shapely.Geometry,
    params: CoverageParams,
) -> list[shapely.Geometry]:
    """The service circles of one facility set within one area, built on demand: one
    polygon per life circle, the district's dissolved circle cut to ``area``.

    ``facilities``: the set's access points (metric CRS, the graph's); ``area``: a polygon
    in the same CRS. The walk starts from the facilities within the widest circle and the
    buffer of the area in a straight line, inside it or not (a walk of *d* metres never
    leaves the disc of radius *d*); the reached streets near enough to the area for their
    buffer to reach it are buffered and dissolved as in :func:`circle_polygon`, then cut
    to the area (its polygons only). So the result is the district-wide circle's part in
    the area, at a fraction of its cost."""
    empty = [shapely.Polygon() for _ in params.circles]
    reach_m = params.widest_m + params.circle_buffer_m  # the walk, then its buffer
    near = facilities[shapely.dwithin(facilities.geometry.to_numpy(), area, reach_m)]
    if near.empty:
        return empty
    sources = snap_points(graph, near.geometry.to_numpy(), max_snap_m=params.max_snap_m)
    if not len(sources.ok):
        return empty
    nodes = node_distances(graph, sources, limit_m=params.widest_m)
    a, b = graph.nodes[graph.edge_u], graph.nodes[graph.edge_v]
    west, south, east, north = (
        shapely.bounds(area) + np.array([-1, -1, 1, 1]) * params.circle_buffer_m
    )
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    nearby = (lo[:, 0] <= east) & (hi[:, 0] >= west) & (lo[:, 1] <= north) & (hi[:, 1] >= south)
    polygons = []
    for circle in params.circles:
        intervals = reached_intervals(graph, nodes, sources, circle.distance_m)
        intervals = intervals[nearby[intervals["edge"].to_numpy()]]
        polygon = circle_polygon(interval_lines(graph, intervals), buffer_m=params.circle_buffer_m)
        polygons.append(_polygonal(shapely.intersection(polygon, area)))
    return polygons


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geometry`` (a cut may leave a line where a circle touches the
    area's edge): a Polygon or MultiPolygon, empty if none."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()
