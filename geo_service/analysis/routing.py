"""Walking routes from one point to the nearest facilities, along a :class:`WalkGraph`.

Metres, in the graph's CRS. One Dijkstra run from the origin (snapped like every other
point: onto the nearest segment of the largest connected piece, snap distance added).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.distances import AugmentedGraph, same_segment_pairs
from geo_service.analysis.network import (
    SNAP_OK,
    SNAP_PAST_ISOLATED,
    WalkGraph,
    snap_points,
)
from geo_service.errors import InvalidQuery


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


def walks_to_nearest(
    graph: WalkGraph,
    origin: shapely.Point,
    facilities: np.ndarray,
    *,
    count: int,
    max_snap_m: float,
    limit_m: float = np.inf,
) -> list[Walk]:
    """The ``count`` facilities (points, graph CRS) nearest ``origin`` on foot, nearest
    first, each with its walking distance and route. :class:`InvalidQuery` if the origin
    is not within ``max_snap_m`` of the network."""
    start = snap_points(graph, np.array([origin], dtype=object), max_snap_m=max_snap_m)
    if start.status[0] not in (SNAP_OK, SNAP_PAST_ISOLATED):
        raise InvalidQuery(f"the point is more than {max_snap_m:g} m from any walkable road")
    targets = snap_points(graph, facilities, max_snap_m=max_snap_m)
    augmented = AugmentedGraph(graph, start)
    virtual = augmented.virtual_of[0]
    distance, predecessor = dijkstra(
        augmented.matrix, directed=True, indices=virtual, limit=limit_m, return_predecessors=True
    )
    ok = targets.ok
    e, offset, snap = targets.edge[ok], targets.offset_m[ok], targets.snap_m[ok]
    via_u = distance[graph.edge_u[e]] + offset
    via_v = distance[graph.edge_v[e]] + graph.edge_length[e] - offset
    total = np.full(len(targets), np.inf)
    total[ok] = np.minimum(via_u, via_v) + snap
    end_node = np.full(len(targets), -1)
    end_node[ok] = np.where(via_u <= via_v, graph.edge_u[e], graph.edge_v[e])
    direct = np.full(len(targets), False)
    target_idx, _, direct_m = same_segment_pairs(start, targets)
    shorter = direct_m < total[target_idx]
    total[target_idx[shorter]] = direct_m[shorter]
    direct[target_idx[shorter]] = True
    order = [int(i) for i in np.argsort(total, kind="stable")[:count] if np.isfinite(total[i])]
    begin = _point_on_edge(graph, start.edge[0], start.offset_m[0])
    origin_xy = np.array(origin.coords[0])
    walks = []
    for i in order:
        finish = _point_on_edge(graph, targets.edge[i], targets.offset_m[i])
        path = [origin_xy, begin]
        if not direct[i]:
            nodes = [int(end_node[i])]
            while predecessor[nodes[-1]] != virtual and predecessor[nodes[-1]] >= 0:
                nodes.append(int(predecessor[nodes[-1]]))
            path += list(graph.nodes[nodes[::-1]])
        path += [finish, np.array(shapely.get_coordinates(facilities[i])[0])]
        walks.append(Walk(i, float(total[i]), shapely.LineString(path)))
    return walks
