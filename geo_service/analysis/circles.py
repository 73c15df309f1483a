"""Service-circle polygons: the streets reached within a walking distance, buffered.

For display only: coverage is decided by network distance, never by these polygons.
Metres throughout, in the graph's CRS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.distances import NodeDistances
from geo_service.analysis.network import WalkGraph


def reached_intervals(
    graph: WalkGraph, nodes: NodeDistances, sources: pd.DataFrame, threshold_m: float
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
    snapped = sources[sources["edge"] >= 0]
    reach = threshold_m - snapped["snap_m"].to_numpy()
    own = reach > 0
    edge = snapped["edge"].to_numpy()[own]
    offset = snapped["offset_m"].to_numpy()[own]
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


def interval_lines(graph: WalkGraph, intervals: pd.DataFrame) -> np.ndarray:
    """Each interval as a LineString along its (straight) segment."""
    edge = intervals["edge"].to_numpy()
    start, end = graph.nodes[graph.edge_u[edge]], graph.nodes[graph.edge_v[edge]]
    fraction = np.divide(
        1.0, graph.edge_length[edge], out=np.zeros(len(edge)), where=graph.edge_length[edge] > 0
    )
    direction = (end - start) * fraction[:, None]
    a = start + direction * intervals["start_m"].to_numpy()[:, None]
    b = start + direction * intervals["end_m"].to_numpy()[:, None]
    return shapely.linestrings(np.stack([a, b], axis=1))


def circle_polygon(lines: np.ndarray, *, buffer_m: float) -> shapely.Geometry:
    """The reached streets as one (multi)polygon, ``buffer_m`` either side."""
    if not len(lines):
        return shapely.Polygon()
    merged = shapely.line_merge(shapely.union_all(lines))
    return shapely.buffer(merged, buffer_m, quad_segs=2)
