"""Walking distances along a :class:`WalkGraph` from snapped facilities to snapped points.

Multi-source Dijkstra (``scipy.sparse.csgraph``) on the graph augmented with one virtual
node per facility, joined to both ends of its segment by directed edges that carry the
facility's snap distance and its offset along the segment. Metres throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.network import WalkGraph


@dataclass(frozen=True)
class NodeDistances:
    """Distance (metres) from the nearest facility to every graph node, and which one."""

    distance_m: np.ndarray  # (n_nodes,), inf where unreached
    facility: np.ndarray  # (n_nodes,), facility row index, -1 where unreached


def _snapped(table: pd.DataFrame) -> np.ndarray:
    return np.flatnonzero(table["edge"].to_numpy() >= 0)


def augmented_matrix(graph: WalkGraph, sources: pd.DataFrame) -> tuple[csr_matrix, np.ndarray]:
    """The graph plus one virtual node per snapped facility (directed edges out of it).

    Returns the matrix and the facility row index of each virtual node.
    """
    rows = _snapped(sources)
    edge = sources["edge"].to_numpy()[rows]
    offset = sources["offset_m"].to_numpy()[rows]
    snap = sources["snap_m"].to_numpy()[rows]
    n, k = graph.n_nodes, len(rows)
    virtual = np.arange(n, n + k)
    u, v, length = graph.edge_u, graph.edge_v, graph.edge_length
    src = np.concatenate([u, v, virtual, virtual])
    dst = np.concatenate([v, u, u[edge], v[edge]])
    weight = np.concatenate([length, length, snap + offset, snap + length[edge] - offset])
    return coo_matrix((weight, (src, dst)), shape=(n + k, n + k)).tocsr(), rows


def node_distances(
    graph: WalkGraph, sources: pd.DataFrame, *, limit_m: float = np.inf
) -> NodeDistances:
    """Distance from the nearest snapped facility to every node (one multi-source run)."""
    matrix, rows = augmented_matrix(graph, sources)
    if not len(rows):
        return NodeDistances(np.full(graph.n_nodes, np.inf), np.full(graph.n_nodes, -1))
    distance, _, origin = dijkstra(
        matrix,
        directed=True,
        indices=np.arange(graph.n_nodes, matrix.shape[0]),
        min_only=True,
        limit=limit_m,
        return_predecessors=True,
    )
    reached = origin >= 0
    facility = np.full(matrix.shape[0], -1)
    facility[reached] = rows[origin[reached] - graph.n_nodes]
    return NodeDistances(distance[: graph.n_nodes], facility[: graph.n_nodes])


def point_distances(
    graph: WalkGraph,
    nodes: NodeDistances,
    sources: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    limit_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance (metres) from the nearest facility to each snapped target point,
    and that facility's row index (-1 and inf where none is within ``limit_m``).

    A target reaches its segment's ends through its offset; a facility on the same
    segment is also reached directly along it.
    """
    edge = targets["edge"].to_numpy()
    ok = edge >= 0
    distance = np.full(len(targets), np.inf)
    facility = np.full(len(targets), -1)
    e = edge[ok]
    offset = targets["offset_m"].to_numpy()[ok]
    snap = targets["snap_m"].to_numpy()[ok]
    via_u = nodes.distance_m[graph.edge_u[e]] + offset
    via_v = nodes.distance_m[graph.edge_v[e]] + graph.edge_length[e] - offset
    best = np.minimum(via_u, via_v) + snap
    best_facility = np.where(
        via_u <= via_v, nodes.facility[graph.edge_u[e]], nodes.facility[graph.edge_v[e]]
    )
    distance[ok], facility[ok] = best, best_facility
    same = _same_segment(sources, targets)
    if len(same):
        same = same.loc[same.groupby("target")["direct_m"].idxmin()]
        better = same["direct_m"].to_numpy() < distance[same["target"].to_numpy()]
        distance[same["target"].to_numpy()[better]] = same["direct_m"].to_numpy()[better]
        facility[same["target"].to_numpy()[better]] = same["source"].to_numpy()[better]
    beyond = distance > limit_m
    distance[beyond], facility[beyond] = np.inf, -1
    return distance, facility


def _same_segment(sources: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Every (target, source) pair on one segment, walked directly along it (metres)."""
    s = sources.iloc[_snapped(sources)].reset_index(drop=True).assign(source=_snapped(sources))
    t = targets.iloc[_snapped(targets)].reset_index(drop=True).assign(target=_snapped(targets))
    pairs = t.merge(s, on="edge", suffixes=("_t", "_s"))
    pairs["direct_m"] = (
        (pairs["offset_m_t"] - pairs["offset_m_s"]).abs() + pairs["snap_m_t"] + pairs["snap_m_s"]
    )
    return pairs[["target", "source", "direct_m"]]


def facility_catchments(
    graph: WalkGraph,
    sources: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    limit_m: float,
    chunk: int = 64,
) -> csr_matrix:
    """Sparse (n_sources, n_targets) matrix of walking distances (metres) within
    ``limit_m``: one Dijkstra run per facility, ``chunk`` facilities at a time.

    Stored entries are the reachable pairs (a distance of 0 is an explicit entry).
    """
    matrix, rows = augmented_matrix(graph, sources)
    t_rows = _snapped(targets)
    e = targets["edge"].to_numpy()[t_rows]
    offset = targets["offset_m"].to_numpy()[t_rows]
    snap = targets["snap_m"].to_numpy()[t_rows]
    u, v, length = graph.edge_u[e], graph.edge_v[e], graph.edge_length[e]
    out_r, out_c, out_d = [], [], []
    for start in range(0, len(rows), chunk):
        virtual = graph.n_nodes + np.arange(start, min(start + chunk, len(rows)))
        d = dijkstra(matrix, directed=True, indices=virtual, limit=limit_m)
        to_target = np.minimum(d[:, u] + offset, d[:, v] + length - offset) + snap
        r, c = np.nonzero(to_target <= limit_m)
        out_r.append(rows[start + r])
        out_c.append(t_rows[c])
        out_d.append(to_target[r, c])
    catchment = coo_matrix(
        (
            np.concatenate(out_d or [[]]),
            (np.concatenate(out_r or [[]]).astype(int), np.concatenate(out_c or [[]]).astype(int)),
        ),
        shape=(len(sources), len(targets)),
    ).tocsr()
    same = _same_segment(sources, targets)
    same = same[same["direct_m"] <= limit_m]
    if len(same):
        direct = coo_matrix(
            (same["direct_m"], (same["source"], same["target"])), shape=catchment.shape
        ).tocsr()
        catchment = _elementwise_min(catchment, direct)
    return catchment


def _elementwise_min(a: csr_matrix, b: csr_matrix) -> csr_matrix:
    """Entry-wise minimum of two sparse matrices, where a missing entry means 'unreached'."""
    combined = (
        pd.concat(
            [
                pd.DataFrame({"r": m.tocoo().row, "c": m.tocoo().col, "d": m.tocoo().data})
                for m in (a, b)
            ]
        )
        .groupby(["r", "c"], as_index=False)["d"]
        .min()
    )
    return coo_matrix((combined["d"], (combined["r"], combined["c"])), shape=a.shape).tocsr()
