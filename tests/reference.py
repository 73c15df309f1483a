"""A plain networkx implementation of walking distances, for checking ours in tests only.

Independent of geo_service.analysis: brute-force snapping onto the nearest segment of the
largest connected piece, the network split at every snapped point, networkx Dijkstra.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import shapely


def _segments(lines) -> list[tuple[tuple, tuple]]:
    segments = []
    for line in shapely.get_parts(np.asarray(lines, dtype=object)):
        coords = [tuple(c) for c in np.asarray(line.coords)]
        segments += [(a, b) for a, b in itertools.pairwise(coords) if a != b]
    return segments


def _snap(point: np.ndarray, segments: np.ndarray) -> tuple[int, float, np.ndarray]:
    a, b = segments[:, 0], segments[:, 1]
    ab = b - a
    length2 = (ab**2).sum(axis=1)
    t = np.clip(((point - a) * ab).sum(axis=1) / np.where(length2 > 0, length2, 1), 0, 1)
    nearest = a + ab * t[:, None]
    distance = np.hypot(*(point - nearest).T)
    i = int(np.argmin(distance))
    return i, float(distance[i]), nearest[i]


def walking_distances(
    lines, sources_xy: np.ndarray, targets_xy: np.ndarray, max_snap_m: float = np.inf
) -> np.ndarray:
    """Metres from the nearest source to each target (inf where unreachable)."""
    graph = nx.Graph()
    for a, b in _segments(lines):
        length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
        if not graph.has_edge(a, b) or graph[a][b]["weight"] > length:
            graph.add_edge(a, b, weight=length)
    main = max(
        nx.connected_components(graph), key=lambda c: graph.subgraph(c).size(weight="weight")
    )
    edges = [(a, b) for a, b in graph.edges if a in main]
    seg = np.array(edges, dtype=float)
    on_edge: dict[int, list] = {}
    names = []
    for kind, points in (("s", sources_xy), ("t", targets_xy)):
        for k, point in enumerate(points):
            name = (kind, k)
            names.append(name)
            i, snap, nearest = _snap(np.asarray(point, float), seg)
            if snap <= max_snap_m:
                on_edge.setdefault(i, []).append((name, snap, nearest))
    for i, snapped in on_edge.items():
        a, b = edges[i]
        graph.remove_edge(a, b)
        chain = sorted(snapped, key=lambda s: np.hypot(s[2][0] - a[0], s[2][1] - a[1]))
        previous = a
        for name, snap, nearest in chain:
            here = ("on", name)
            graph.add_edge(
                previous,
                here,
                weight=float(
                    np.hypot(
                        *(
                            np.subtract(
                                nearest, previous if previous == a else graph.nodes[previous]["xy"]
                            )
                        )
                    )
                ),
            )
            graph.nodes[here]["xy"] = nearest
            graph.add_edge(here, name, weight=snap)
            previous = here
        graph.add_edge(
            previous,
            b,
            weight=float(
                np.hypot(*(np.subtract(b, graph.nodes[previous]["xy"] if previous != a else a)))
            ),
        )
    sources = [("s", k) for k in range(len(sources_xy)) if graph.has_node(("s", k))]
    lengths = nx.multi_source_dijkstra_path_length(graph, sources) if sources else {}
    return np.array([lengths.get(("t", k), np.inf) for k in range(len(targets_xy))])
