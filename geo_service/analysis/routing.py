"""Walking routes from one point to the nearest facilities, along a :class:`WalkGraph`.

Metres, in the graph's CRS. The facilities are snapped once (:class:`NearestWalks`); each
origin is snapped like every other point (onto the nearest segment of the largest
connected piece, snap distance added) and one Dijkstra runs from it, bounded to the
distance the nearest facilities can be at (widened only when they are not all reached).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.network import (
    SNAP_OK,
    SNAP_PAST_ISOLATED,
    Snapped,
    WalkGraph,
    snap_points,
)
from geo_service.errors import NoRoadNearby

#: The first search radius: this many times the straight-line distance to the ``count``-th
#: nearest facility, plus :data:`_SLACK_M` (walks are longer than the crow flies).
_DETOUR = 1.5
_SLACK_M = 300.0


@dataclass(frozen=True, eq=False)
class Walk:
    """The walk to one facility: its row, metres, and the route (origin → facility) as
    ``path``, its ``(k, 2)`` vertices."""

    facility: int
    distance_m: float
    path: np.ndarray = field(repr=False)

    @cached_property
    def route(self) -> shapely.LineString:
        """The route as a line."""
        return shapely.linestrings(self.path)


def _points_on_edges(graph: WalkGraph, edge: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The ``(n, 2)`` points ``offset`` metres along segments ``edge`` from their ``edge_u``."""
    u, v = graph.nodes[graph.edge_u[edge]], graph.nodes[graph.edge_v[edge]]
    length = graph.edge_length[edge]
    along = np.divide(offset, length, out=np.zeros(len(edge)), where=length != 0)
    return u + (v - u) * along[:, None]


def _path_nodes(predecessor: np.ndarray, end: int, root: int) -> list[int]:
    """The nodes from the search's first node after ``root`` to ``end``, from the
    Dijkstra ``predecessor`` array (``end`` alone if it has no predecessor but ``root``)."""
    nodes = [end]
    node = predecessor.item(end)
    while node != root and node >= 0:
        nodes.append(node)
        node = predecessor.item(node)
    return nodes[::-1]


def _same_segment(start: Snapped, targets: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """The ``targets`` snapped onto the origin's segment, and the walk to each along it
    (metres), like :func:`~geo_service.analysis.distances.same_segment_pairs` for one
    origin."""
    target = np.flatnonzero(targets.edge == start.edge[0])
    direct = np.abs(targets.offset_m[target] - start.offset_m[0]) + targets.snap_m[target]
    return target, direct + start.snap_m[0]


def _take(snapped: Snapped, rows: np.ndarray) -> Snapped:
    return Snapped(
        snapped.edge[rows], snapped.offset_m[rows], snapped.snap_m[rows], snapped.status[rows]
    )


class NearestWalks:
    """Walks from any origin to the nearest of a fixed set of ``facilities`` (points in the
    graph's CRS), snapped once here; see :meth:`walks`."""

    def __init__(self, graph: WalkGraph, facilities: np.ndarray, *, max_snap_m: float):
        self.graph = graph
        self.max_snap_m = max_snap_m
        facilities = np.asarray(facilities, dtype=object)
        self.targets = snap_points(graph, facilities, max_snap_m=max_snap_m)
        self.xy = np.full((len(facilities), 2), np.nan)
        ok = self.targets.ok  # snapped, so single finite points
        self.xy[ok] = shapely.get_coordinates(facilities[ok])
        self._per_thread = threading.local()

    def _from(self, start: Snapped) -> csr_matrix:
        """The graph plus one virtual node (the last) for the snapped origin, with edges out
        of it to both ends of its segment (snap distance plus the way along it).

        The matrix is made once per thread, with room for the virtual node's two edges,
        which each call overwrites: valid until the thread's next call.
        """
        graph = self.graph
        matrix = getattr(self._per_thread, "matrix", None)
        if matrix is None:
            base, n = graph.matrix, graph.n_nodes
            matrix = self._per_thread.matrix = csr_matrix(
                (
                    np.concatenate([base.data, [0.0, 0.0]]),
                    np.concatenate([base.indices, np.array([0, 1], base.indices.dtype)]),
                    np.concatenate([base.indptr, np.array([base.nnz + 2], base.indptr.dtype)]),
                ),
                shape=(n + 1, n + 1),
            )
        edge, offset, snap = start.edge[0], start.offset_m[0], start.snap_m[0]
        ends = [(graph.edge_u[edge], snap + offset)]
        ends.append((graph.edge_v[edge], snap + graph.edge_length[edge] - offset))
        ends.sort(key=lambda end: end[0])
        matrix.indices[-2:] = [e for e, _ in ends]
        matrix.data[-2:] = [w for _, w in ends]
        return matrix

    def _first_bound(self, origin_xy: np.ndarray, rows: np.ndarray, count: int) -> float:
        xy = self.xy[rows]
        crow = np.hypot(*(xy[np.isfinite(xy[:, 0])] - origin_xy).T)
        if len(crow) < count:
            return np.inf
        return _DETOUR * float(np.partition(crow, count - 1)[count - 1]) + _SLACK_M

    def walks(
        self,
        origin: shapely.Point,
        *,
        count: int,
        subset: np.ndarray | None = None,
        limit_m: float = np.inf,
        radius_m: float | None = None,
    ) -> list[Walk]:
        """The ``count`` facilities (of ``subset``, indices; all by default) nearest
        ``origin`` on foot, nearest first (ties in facility order), each with its walking
        distance and route; none farther than ``limit_m``. :class:`InvalidQuery` if the
        origin is not within ``max_snap_m`` of the network.

        The search is bounded, and exact: one bounded to ``r`` metres finds every
        facility within ``r`` with its true distance and puts every other one beyond
        ``r``; so if ``count`` are found within ``r``, they are the nearest. If not, it
        runs again out to the ``count``-th distance found (an upper bound), or without
        bound if fewer were found. The first ``r`` is ``radius_m``, by default 1.5 times
        the straight-line distance to the ``count``-th nearest facility plus 300 m.
        """
        graph = self.graph
        start = snap_points(graph, np.array([origin], dtype=object), max_snap_m=self.max_snap_m)
        if start.status[0] not in (SNAP_OK, SNAP_PAST_ISOLATED):
            raise NoRoadNearby(
                f"the point is more than {self.max_snap_m:g} m from any walkable road"
            )
        rows = np.arange(len(self.targets)) if subset is None else np.asarray(subset, dtype=int)
        targets = _take(self.targets, rows)
        ok = targets.ok
        if count < 1 or not len(ok):
            return []
        origin_xy = np.array(origin.coords[0])
        matrix = self._from(start)
        virtual = graph.n_nodes
        e, offset, snap = targets.edge[ok], targets.offset_m[ok], targets.snap_m[ok]
        target_idx, direct_m = _same_segment(start, targets)
        if radius_m is None:
            radius_m = self._first_bound(origin_xy, rows, count)
        bound = min(limit_m, radius_m)
        while True:
            distance, predecessor = dijkstra(
                matrix, directed=True, indices=virtual, limit=bound, return_predecessors=True
            )
            via_u = distance[graph.edge_u[e]] + offset
            via_v = distance[graph.edge_v[e]] + graph.edge_length[e] - offset
            total = np.full(len(targets), np.inf)
            total[ok] = np.minimum(via_u, via_v) + snap
            shorter = direct_m < total[target_idx]
            total[target_idx[shorter]] = direct_m[shorter]
            if bound >= limit_m:
                break
            found = np.sort(total[np.isfinite(total)])
            if len(found) >= count and found[count - 1] <= bound:
                break
            wider = float(found[count - 1]) if len(found) >= count else limit_m
            bound = wider if wider > bound else limit_m
        end_node = np.full(len(targets), -1)
        end_node[ok] = np.where(via_u <= via_v, graph.edge_u[e], graph.edge_v[e])
        direct = np.full(len(targets), False)
        direct[target_idx[shorter]] = True
        order = [
            int(i)
            for i in np.argsort(total, kind="stable")[:count]
            if np.isfinite(total[i]) and total[i] <= limit_m
        ]
        # Each route: the origin, where it meets its segment, the nodes walked through,
        # where the facility's segment is left, the facility.
        begin = _points_on_edges(graph, start.edge[:1], start.offset_m[:1])
        head = np.concatenate([origin_xy[None], begin])
        finish = _points_on_edges(graph, targets.edge[order], targets.offset_m[order])
        tails = np.stack([finish, self.xy[rows[order]]], axis=1)
        walks = []
        for i, tail in zip(order, tails, strict=True):
            nodes = [] if direct[i] else _path_nodes(predecessor, int(end_node[i]), virtual)
            path = np.concatenate([head, graph.nodes[nodes], tail])
            walks.append(Walk(int(rows[i]), float(total[i]), path))
        return walks
