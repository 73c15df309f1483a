"""Walking distances along a :class:`WalkGraph` from snapped facilities to snapped points.

Multi-source Dijkstra (``scipy.sparse.csgraph``) on the graph augmented with one virtual
node per facility, joined to both ends of its segment by directed edges that carry the
facility's snap distance and its offset along the segment. Metres throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.network import Snapped, WalkGraph


@dataclass(frozen=True)
class NodeDistances:
    """Distance (metres) from the nearest facility to every graph node, and which one."""

    distance_m: np.ndarray  # (n_nodes,), inf where unreached
    facility: np.ndarray  # (n_nodes,), facility index, -1 where unreached


class AugmentedGraph:
    """A :class:`WalkGraph` plus one virtual node per snapped facility, with directed edges
    out of it to both ends of its segment (snap distance plus offset along the segment).

    Built once for many facilities; each run starts from any subset of them. Nothing
    enters a virtual node, so facilities outside the subset change nothing.
    """

    def __init__(self, graph: WalkGraph, sources: Snapped):
        self.graph, self.sources = graph, sources
        rows = sources.ok
        edge, offset, snap = sources.edge[rows], sources.offset_m[rows], sources.snap_m[rows]
        n, k = graph.n_nodes, len(rows)
        virtual = np.arange(n, n + k)
        # The graph's own CSR rows, then one row per virtual node with its two edges in
        # column order: the canonical CSR that COO triplets would give, without sorting.
        base = graph.matrix
        u, v = graph.edge_u[edge], graph.edge_v[edge]
        to_u, to_v = snap + offset, snap + graph.edge_length[edge] - offset
        u_first = (u < v)[:, None]
        columns = np.where(u_first, np.stack([u, v], 1), np.stack([v, u], 1)).ravel()
        weights = np.where(u_first, np.stack([to_u, to_v], 1), np.stack([to_v, to_u], 1))
        indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, k + 1)])
        self.matrix = csr_matrix(
            (
                np.concatenate([base.data, weights.ravel()]),
                np.concatenate([base.indices, columns.astype(base.indices.dtype)]),
                indptr.astype(base.indptr.dtype),
            ),
            shape=(n + k, n + k),
        )
        self.virtual_of = np.full(len(sources), -1)
        self.virtual_of[rows] = virtual
        self.source_of = rows

    def node_distances(
        self, subset: np.ndarray | None = None, *, limit_m: float = np.inf
    ) -> NodeDistances:
        """Distance from the nearest facility of ``subset`` (indices into the sources; all
        of them by default) to every graph node, in one multi-source run."""
        n = self.graph.n_nodes
        subset = np.arange(len(self.sources)) if subset is None else np.asarray(subset)
        starts = self.virtual_of[subset]
        starts = starts[starts >= 0]
        if not len(starts):
            return NodeDistances(np.full(n, np.inf), np.full(n, -1))
        distance, _, origin = dijkstra(
            self.matrix,
            directed=True,
            indices=starts,
            min_only=True,
            limit=limit_m,
            return_predecessors=True,
        )
        facility = np.full(len(origin), -1)
        reached = origin >= 0
        facility[reached] = self.source_of[origin[reached] - n]
        return NodeDistances(distance[:n], facility[:n])

    def set_distances(
        self, subsets: list[np.ndarray], *, limit_m: float = np.inf
    ) -> list[NodeDistances]:
        """One multi-source run per subset of the sources (index arrays into them)."""
        return [self.node_distances(subset, limit_m=limit_m) for subset in subsets]


def node_distances(graph: WalkGraph, sources: Snapped, *, limit_m: float = np.inf) -> NodeDistances:
    """Distance from the nearest snapped facility to every node (one multi-source run)."""
    return AugmentedGraph(graph, sources).node_distances(limit_m=limit_m)


def same_segment_pairs(
    sources: Snapped, targets: Snapped, subset: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Every (target, source) pair snapped onto one segment, and the walk between them
    along it (metres): arrays ``target``, ``source``, ``direct_m``. Only the sources in
    ``subset`` (all by default) take part."""
    s_rows, t_rows = sources.ok, targets.ok
    if subset is not None:
        s_rows = np.intersect1d(s_rows, subset)
    order = s_rows[np.argsort(sources.edge[s_rows], kind="stable")]
    s_edge = sources.edge[order]
    t_edge = targets.edge[t_rows]
    lo = np.searchsorted(s_edge, t_edge, side="left")
    hi = np.searchsorted(s_edge, t_edge, side="right")
    pairs_t, pairs_s = [], []
    for j in range(int((hi - lo).max(initial=0))):
        has = lo + j < hi
        pairs_t.append(t_rows[has])
        pairs_s.append(order[lo[has] + j])
    target = np.concatenate(pairs_t) if pairs_t else np.zeros(0, dtype=int)
    source = np.concatenate(pairs_s) if pairs_s else np.zeros(0, dtype=int)
    direct = (
        np.abs(targets.offset_m[target] - sources.offset_m[source])
        + targets.snap_m[target]
        + sources.snap_m[source]
    )
    return target, source, direct


def point_distances(
    graph: WalkGraph,
    nodes: NodeDistances,
    sources: Snapped,
    targets: Snapped,
    *,
    limit_m: float = np.inf,
    subset: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance (metres) from the nearest facility to each snapped target point,
    and that facility's index (inf and -1 where none is within ``limit_m``).

    A target reaches its segment's ends through its offset; a facility on the same
    segment is also reached directly along it. ``subset`` must be the sources ``nodes``
    was computed from, if not all of them.
    """
    member = np.ones((1, len(sources)), dtype=bool)
    if subset is not None:
        member[0] = False
        member[0, subset] = True
    distance, facility = set_point_distances(
        graph, [nodes], sources, targets, member, limit_m=limit_m
    )
    return distance[0], facility[0]


def set_point_distances(
    graph: WalkGraph,
    runs: list[NodeDistances],
    sources: Snapped,
    targets: Snapped,
    member: np.ndarray,
    *,
    limit_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`point_distances` for several runs at once.

    Parameters
    ----------
    runs : list of NodeDistances
        One per run (:meth:`AugmentedGraph.set_distances`).
    sources, targets : Snapped
        The facilities the runs started from, and the points to reach.
    member : numpy.ndarray
        ``(n_runs, len(sources))`` booleans: the sources each run started from.
    limit_m : float
        Walks longer than this (metres) count as unreached.

    Returns
    -------
    distance : numpy.ndarray
        ``(n_runs, len(targets))`` metres from the run's nearest facility (inf if none).
    facility : numpy.ndarray
        ``(n_runs, len(targets))`` index of that facility into ``sources`` (-1 if none).
    """
    n_runs = len(member)
    distance = np.full((n_runs, len(targets)), np.inf)
    facility = np.full((n_runs, len(targets)), -1)
    ok = targets.ok
    e, offset, snap = targets.edge[ok], targets.offset_m[ok], targets.snap_m[ok]
    u, v = graph.edge_u[e], graph.edge_v[e]
    if not n_runs:
        return distance, facility
    # only the ends of the targets' segments are gathered from each run
    via_u = np.stack([run.distance_m[u] for run in runs]) + offset
    via_v = np.stack([run.distance_m[v] for run in runs]) + graph.edge_length[e] - offset
    distance[:, ok] = np.minimum(via_u, via_v) + snap
    facility[:, ok] = np.where(
        via_u <= via_v,
        np.stack([run.facility[u] for run in runs]),
        np.stack([run.facility[v] for run in runs]),
    )
    # A facility on the target's own segment, walked to directly along it: the pairs of
    # all sources once, then each run's own.
    target, source, direct = same_segment_pairs(sources, targets)
    of_run, pair = np.nonzero(member[:, source])
    cell = of_run * len(targets) + target[pair]
    source, direct = source[pair], direct[pair]
    order = np.argsort(-direct, kind="stable")  # the shortest written last wins
    cell, source, direct = cell[order], source[order], direct[order]
    flat_distance, flat_facility = distance.reshape(-1), facility.reshape(-1)
    better = direct < flat_distance[cell]
    flat_distance[cell[better]] = direct[better]
    flat_facility[cell[better]] = source[better]
    beyond = distance > limit_m
    distance[beyond], facility[beyond] = np.inf, -1
    return distance, facility


#: Memory (MB) the dense rows of one chunk of single-source runs may take.
CHUNK_MEMORY_MB = 256.0
#: Facilities per chunk at most (more saves little Python time per run).
MAX_CHUNK = 256


def catchment_chunk(n_nodes: int, n_targets: int, memory_mb: float = CHUNK_MEMORY_MB) -> int:
    """How many single-source runs to stack so that their dense rows — a float64 per node
    of the augmented graph and three per target — fit in ``memory_mb``: 1 at least,
    :data:`MAX_CHUNK` at most."""
    row_bytes = 8 * (n_nodes + 3 * n_targets)
    return int(min(MAX_CHUNK, max(1, memory_mb * 2**20 // row_bytes)))


def facility_catchments(
    graph: WalkGraph,
    sources: Snapped,
    targets: Snapped,
    *,
    limit_m: float,
    chunk: int | None = None,
    memory_mb: float = CHUNK_MEMORY_MB,
) -> csr_matrix:
    """Sparse (n_sources, n_targets) matrix of walking distances (metres) within
    ``limit_m``: one Dijkstra run per facility, ``chunk`` facilities at a time (default:
    as many as fit in ``memory_mb``, :func:`catchment_chunk`), never a dense all-pairs
    matrix. Stored entries are the reachable pairs (0 is stored too)."""
    augmented = AugmentedGraph(graph, sources)
    matrix, rows = augmented.matrix, augmented.source_of
    chunk = chunk or catchment_chunk(matrix.shape[0], len(targets.ok), memory_mb)
    t_rows = targets.ok
    e, offset, snap = targets.edge[t_rows], targets.offset_m[t_rows], targets.snap_m[t_rows]
    u, v, length = graph.edge_u[e], graph.edge_v[e], graph.edge_length[e]
    found_r, found_c, found_d = [], [], []
    for start in range(0, len(rows), chunk):
        virtual = graph.n_nodes + np.arange(start, min(start + chunk, len(rows)))
        d = dijkstra(matrix, directed=True, indices=virtual, limit=limit_m)
        to_target = np.minimum(d[:, u] + offset, d[:, v] + length - offset) + snap
        r, c = np.nonzero(to_target <= limit_m)
        found_r.append(rows[start + r])
        found_c.append(t_rows[c])
        found_d.append(to_target[r, c])
    target, source, direct = same_segment_pairs(sources, targets)
    near = direct <= limit_m
    r = np.concatenate([*found_r, source[near]]).astype(int)
    c = np.concatenate([*found_c, target[near]]).astype(int)
    d = np.concatenate([*found_d, direct[near]])
    # keep the shortest of duplicate (source, target) entries
    order = np.lexsort((d, c, r))
    r, c, d = r[order], c[order], d[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])][: len(r)]  # none: empty
    return coo_matrix((d[first], (r[first], c[first])), shape=(len(sources), len(targets))).tocsr()
