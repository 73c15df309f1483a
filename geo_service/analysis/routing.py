"""Walking routes from one point to the nearest facilities, along a :class:`WalkGraph`.

Metres, in the graph's CRS. The facilities are snapped once (:class:`NearestWalks`); each
origin is snapped like every other point (onto the nearest segment of the largest
connected piece, snap distance added) and one Dijkstra runs from it, bounded to the
distance the nearest facilities can be at (widened only when they are not all reached).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.distances import same_segment_pairs
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


@dataclass(frozen=True)
class Walk:
    """The walk to one facility: its row, metres, and the route (origin → facility)."""

    facility: int
    distance_m: float
    route: shapely.LineString


def _point_on_edge(graph: WalkGraph, edge: int, offset: float) -> np.ndarray:
    u, v = graph.nodes[graph.edge_u[edge]], graph.nodes[graph.edge_v[edge]]
    length = graph.edge_length[edge]
    return u + (v - u) * (offset / length if length else 0.0)


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

    def _from(self, start: Snapped) -> csr_matrix:
        """The graph plus one virtual node (the last) for the snapped origin, with edges out
        of it to both ends of its segment (snap distance plus the way along it)."""
        graph, base = self.graph, self.graph.matrix
        edge, offset, snap = start.edge[0], start.offset_m[0], start.snap_m[0]
        ends = [(graph.edge_u[edge], snap + offset)]
        ends.append((graph.edge_v[edge], snap + graph.edge_length[edge] - offset))
        ends.sort(key=lambda end: end[0])
        n = graph.n_nodes
        indices = np.concatenate([base.indices, np.array([e for e, _ in ends], base.indices.dtype)])
        data = np.concatenate([base.data, [w for _, w in ends]])
        indptr = np.concatenate([base.indptr, np.array([base.nnz + 2], base.indptr.dtype)])
        return csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))

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
        target_idx, _, direct_m = same_segment_pairs(start, targets)
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
        begin = _point_on_edge(graph, start.edge[0], start.offset_m[0])
        walks = []
        for i in order:
            finish = _point_on_edge(graph, targets.edge[i], targets.offset_m[i])
            nodes = []
            if not direct[i]:
                nodes = [int(end_node[i])]
                while predecessor[nodes[-1]] != virtual and predecessor[nodes[-1]] >= 0:
                    nodes.append(int(predecessor[nodes[-1]]))
            path = np.vstack([origin_xy, begin, graph.nodes[nodes[::-1]], finish, self.xy[rows[i]]])
            walks.append(Walk(int(rows[i]), float(total[i]), shapely.linestrings(path)))
        return walks
