"""The walking network as a graph of straight segments, and snapping points onto it.

Everything here is in metres in a projected CRS (the district's metric CRS). Pedestrians ignore
one-way rules, so the graph is undirected; of parallel segments the shortest is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from geo_service.crs import to_metric

#: Vertices closer than this (metres) are one node.
NODE_TOLERANCE_M = 0.001
#: First search radius for snapping, metres: most points lie this close to a road.
_NEAR_M = 60.0
#: Points snapped at a time: their candidate segments are found and dropped per chunk.
SNAP_CHUNK_POINTS = 50_000

SNAP_OK = "ok"
SNAP_PAST_ISOLATED = (
    "nearest_road_isolated"  # snapped to the main network; a closer road is cut off
)
SNAP_TOO_FAR = "too_far"  # farther than the limit from the main network: not snapped
SNAP_INVALID = "invalid_point"  # missing, empty or non-finite point: not snapped


@dataclass(eq=False)
class WalkGraph:
    """An undirected walking network of straight segments, in metres.

    ``nodes`` are (n, 2) coordinates in ``crs``; segment ``i`` joins ``edge_u[i]`` and
    ``edge_v[i]`` and is ``edge_length[i]`` metres long.
    """

    nodes: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    crs: str
    component: np.ndarray = field(init=False)
    main_component: int = field(init=False)

    def __post_init__(self) -> None:
        _, self.component = connected_components(self.matrix, directed=False)
        sizes = np.bincount(
            self.component[self.edge_u],
            weights=self.edge_length,
            minlength=self.component.max() + 1,
        )
        self.main_component = int(np.argmax(sizes)) if len(self.edge_u) else 0

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @cached_property
    def matrix(self) -> csr_matrix:
        """Symmetric CSR adjacency matrix of segment lengths (metres)."""
        n = len(self.nodes)
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        return coo_matrix((np.tile(self.edge_length, 2), (rows, cols)), shape=(n, n)).tocsr()

    @cached_property
    def edge_geometries(self) -> np.ndarray:
        """Each segment as a two-point LineString."""
        return shapely.linestrings(
            np.stack([self.nodes[self.edge_u], self.nodes[self.edge_v]], axis=1)
        )

    @cached_property
    def main_edges(self) -> np.ndarray:
        """Indices of the segments in the largest connected piece."""
        return np.flatnonzero(self.component[self.edge_u] == self.main_component)

    @cached_property
    def _main_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometries[self.main_edges])

    @cached_property
    def _main_near_tree(self) -> shapely.STRtree:
        """Boxes around the main segments' envelopes, ``_NEAR_M`` wider on every side: a
        point inside one may lie within ``_NEAR_M`` of that segment."""
        lo = np.minimum(self.nodes[self.edge_u], self.nodes[self.edge_v])[self.main_edges]
        hi = np.maximum(self.nodes[self.edge_u], self.nodes[self.edge_v])[self.main_edges]
        return shapely.STRtree(shapely.box(*(lo - _NEAR_M).T, *(hi + _NEAR_M).T))

    @cached_property
    def detached_edges(self) -> np.ndarray:
        """Indices of the segments outside the largest connected piece."""
        return np.flatnonzero(self.component[self.edge_u] != self.main_component)

    @cached_property
    def _detached_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometries[self.detached_edges])

    def pieces(self) -> pd.DataFrame:
        """Connected pieces: segment count and total length, largest first."""
        label = self.component[self.edge_u]
        frame = pd.DataFrame({"piece": label, "length_m": self.edge_length})
        table = frame.groupby("piece").agg(
            segments=("length_m", "size"), length_m=("length_m", "sum")
        )
        return table.sort_values("length_m", ascending=False)


def build_walk_graph(roads: gpd.GeoDataFrame, metric_crs=None) -> WalkGraph:
    """A :class:`WalkGraph` from road lines, reprojected to ``metric_crs`` (a projected CRS
    in metres; ``None``: the lines' own CRS, which must be one).

    Lines must be split at junctions (as the ``roads`` layer is): two lines are joined only
    where they share a vertex (within 1 mm).
    """
    metric_crs = roads.crs if metric_crs is None else metric_crs
    lines = to_metric(roads[["geometry"]], metric_crs).geometry.to_numpy()
    lines = shapely.get_parts(lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))])
    coords, line_index = shapely.get_coordinates(lines, return_index=True)
    same_line = line_index[1:] == line_index[:-1]
    start, end = coords[:-1][same_line], coords[1:][same_line]
    keys = np.round(np.concatenate([start, end]) / NODE_TOLERANCE_M).astype(np.int64)
    node_keys, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    nodes = np.concatenate([start, end])[first]
    u, v = inverse[: len(start)], inverse[len(start) :]
    length = np.hypot(*(nodes[v] - nodes[u]).T)
    a, b = np.minimum(u, v), np.maximum(u, v)
    keep = a != b
    a, b, length = a[keep], b[keep], length[keep]
    order = np.lexsort((length, b, a))  # shortest first within each (a, b) pair
    a, b, length = a[order], b[order], length[order]
    first_of_pair = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    del node_keys
    return WalkGraph(
        nodes, a[first_of_pair], b[first_of_pair], length[first_of_pair], crs=str(metric_crs)
    )


def _point_segment(graph: WalkGraph, xy: np.ndarray, segment: np.ndarray):
    """Distance from each point to its segment, and the offset of the nearest point on it."""
    a, b = graph.nodes[graph.edge_u[segment]], graph.nodes[graph.edge_v[segment]]
    ab = b - a
    length = graph.edge_length[segment]
    t = np.clip(np.einsum("ij,ij->i", xy - a, ab) / np.where(length > 0, length**2, 1.0), 0, 1)
    return np.hypot(*(xy - (a + ab * t[:, None])).T), t * length


def _nearest_segments(graph: WalkGraph, xy: np.ndarray, points: np.ndarray):
    """Nearest main-piece segment of each point: (segment, distance, offset), all metres.

    ``points`` are ``xy`` as shapely points. Candidates within ``_NEAR_M`` come from one
    query of the widened segment boxes and numpy distances; points with none that close
    fall back to the tree's nearest-neighbour search.
    """
    n = len(xy)
    segment = np.full(n, -1)
    distance = np.full(n, np.inf)
    offset = np.full(n, np.nan)
    point_idx, main_idx = graph._main_near_tree.query(points)
    if len(point_idx):
        d, along = _point_segment(graph, xy[point_idx], graph.main_edges[main_idx])
        near = d <= _NEAR_M
        candidates = [point_idx[near], main_idx[near], d[near], along[near]]
        if np.any(candidates[0][1:] < candidates[0][:-1]):  # group by point
            order = np.argsort(candidates[0], kind="stable")
            candidates = [c[order] for c in candidates]
        point_idx, main_idx, d, along = candidates
        if len(point_idx):  # per point the nearest; of equally near ones the lowest segment
            starts = np.flatnonzero(np.r_[True, point_idx[1:] != point_idx[:-1]])
            counts = np.diff(np.r_[starts, len(point_idx)])
            is_min = d == np.repeat(np.minimum.reduceat(d, starts), counts)
            lowest = np.minimum.reduceat(np.where(is_min, main_idx, len(graph.main_edges)), starts)
            first = np.flatnonzero(is_min & (main_idx == np.repeat(lowest, counts)))
            found = point_idx[first]
            segment[found] = graph.main_edges[main_idx[first]]
            distance[found], offset[found] = d[first], along[first]
    rest = np.flatnonzero(segment < 0)
    if len(rest):
        (hit, main_hit), _ = graph._main_tree.query_nearest(
            points[rest], return_distance=True, all_matches=False
        )
        segment[rest[hit]] = graph.main_edges[main_hit]
        distance[rest], offset[rest] = _point_segment(graph, xy[rest], segment[rest])
    return segment, distance, offset


@dataclass(frozen=True)
class Snapped:
    """Points snapped onto a :class:`WalkGraph`, one entry per point (numpy arrays).

    ``edge`` is the segment index (-1 if not snapped), ``offset_m`` the distance along it
    from ``edge_u``, ``snap_m`` the straight-line distance from the point to the segment,
    ``status`` one of ``ok``, ``nearest_road_isolated``, ``too_far``, ``invalid_point``.
    """

    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    status: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    @property
    def ok(self) -> np.ndarray:
        """Indices of the points that are snapped."""
        return np.flatnonzero(self.edge >= 0)

    def take(self, rows) -> Snapped:
        """The entries at ``rows`` (indices, a boolean mask or a slice)."""
        return Snapped(self.edge[rows], self.offset_m[rows], self.snap_m[rows], self.status[rows])

    def to_frame(self) -> pd.DataFrame:
        """The snap table as a DataFrame."""
        return pd.DataFrame(
            {
                "edge": self.edge,
                "offset_m": self.offset_m,
                "snap_m": self.snap_m,
                "status": self.status,
            }
        )


def point_coordinates(points: np.ndarray) -> np.ndarray:
    """``(n, 2)`` coordinates of shapely points; NaN rows for missing, empty, multi-part or
    non-finite ones."""
    points = np.asarray(points, dtype=object)
    xy = np.full((len(points), 2), np.nan)
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    single = present & (shapely.get_num_coordinates(points) == 1)
    xy[single] = shapely.get_coordinates(points[single])
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    return xy


def snap_points(graph: WalkGraph, points: np.ndarray, *, max_snap_m: float) -> Snapped:
    """Snap points (shapely geometries in the graph's CRS) onto the nearest segment of the
    largest connected piece; see :class:`Snapped`.

    A point farther than ``max_snap_m`` is not snapped (``too_far``); one whose nearest
    road is a detached piece is snapped to the main network and flagged
    (``nearest_road_isolated``); a missing, empty or non-finite point is ``invalid_point``.
    """
    return snap_xy(graph, point_coordinates(points), max_snap_m=max_snap_m)


def snap_xy(
    graph: WalkGraph,
    xy: np.ndarray,
    *,
    max_snap_m: float,
    chunk_points: int = SNAP_CHUNK_POINTS,
) -> Snapped:
    """:func:`snap_points` for ``(n, 2)`` coordinates (metres, the graph's CRS); rows
    that are not finite are ``invalid_point``. ``chunk_points`` points are snapped at a
    time (the same result for any chunk size)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    edge = np.full(n, -1)
    offset = np.full(n, np.nan)
    snap = np.full(n, np.nan)
    status = np.full(n, SNAP_INVALID, dtype=object)
    valid = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not len(graph.main_edges):
        valid = valid[:0]
    for start in range(0, len(valid), chunk_points):  # a chunk's candidates at a time
        rows = valid[start : start + chunk_points]
        points = shapely.points(xy[rows])
        segment, distance, along = _nearest_segments(graph, xy[rows], points)
        edge[rows], snap[rows], offset[rows] = segment, distance, along
        status[rows] = SNAP_OK
        if len(graph.detached_edges):  # is a detached road closer than the main network?
            (hit, _), nearest_detached = graph._detached_tree.query_nearest(
                points, return_distance=True, all_matches=False
            )
            status[rows[hit[nearest_detached < distance[hit] - 1e-9]]] = SNAP_PAST_ISOLATED
        too_far = rows[distance > max_snap_m]
        status[too_far] = SNAP_TOO_FAR
        edge[too_far] = -1
    return Snapped(edge, offset, snap, status)
