"""The streets reached within each life circle, as lines: coverage drawn cheaply.

The dissolved service-circle polygons (:mod:`geo_service.analysis.circles`) buffer every
reached stretch and union the buffers, which is most of a coverage run's time at city
scale. The reached streets are the same stretches without the buffer: per facility set
and life circle, the reached part of each segment, merged where stretches overlap, as
one MultiLineString. Nested like the circles (the 15-minute streets include the
10-minute ones). For display only: coverage is decided by network distance. Metres, in
the graph's CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.circles import (
    interval_ends,
    reached_intervals,
    walks_from_each_set,
)
from geo_service.analysis.network import WalkGraph
from geo_service.coverage_params import CoverageParams
from geo_service.crs import STORAGE_CRS, storage_xy


def merged_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    """``intervals`` (``edge``, ``start_m``, ``end_m``) merged where they overlap or
    touch on the same edge: disjoint, sorted by edge and start."""
    ordered = intervals.sort_values(["edge", "start_m"], kind="stable")
    edge = ordered["edge"].to_numpy()
    start = ordered["start_m"].to_numpy(dtype=float)
    end = ordered["end_m"].to_numpy(dtype=float)
    if not len(edge):
        return pd.DataFrame({"edge": edge, "start_m": start, "end_m": end})
    # the furthest end of the edge's intervals so far: a start beyond it opens a block
    reach = pd.Series(end).groupby(edge).cummax().to_numpy()
    opens = np.ones(len(edge), dtype=bool)
    opens[1:] = (edge[1:] != edge[:-1]) | (start[1:] > reach[:-1])
    block = np.cumsum(opens) - 1
    return pd.DataFrame(
        {
            "edge": edge[opens],
            "start_m": start[opens],
            "end_m": pd.Series(end).groupby(block).max().to_numpy(),
        }
    )


def reached_streets(
    graph: WalkGraph,
    sets: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    titles: dict[str, tuple[str, str]],
    *,
    stored: bool = False,
) -> gpd.GeoDataFrame:
    """Per facility set and life circle (the widest first, so that drawn in order the
    nearer circles' streets lie on top), the streets reached: a MultiLineString and its
    length (``length_km``, unrounded). ``sets``: the facilities of each set (metric CRS,
    ``facility_id``); ``titles``: each set's (Chinese, English) title. The lines are in the
    graph's CRS, or with ``stored`` as stored (EPSG:4326 on the storage grid, made from
    the coordinates: a city's lines are never made twice)."""
    rows, geometries = [], []
    for key, facilities, sources, nodes in walks_from_each_set(graph, sets, params):
        for circle in reversed(params.circles):  # drawn in order: the nearest on top
            stretches = merged_intervals(
                reached_intervals(graph, nodes, sources, circle.distance_m)
            )
            stretches = stretches[stretches["end_m"] > stretches["start_m"]]
            title_zh, title_en = titles[key]
            rows.append(
                {
                    "id": f"{key}-{circle.minutes}",
                    "facility_set": key,
                    "title_zh": f"{title_zh} {circle.minutes}分钟可达街道",
                    "title_en": f"{title_en}: streets within {circle.minutes} minutes",
                    "minutes": circle.minutes,
                    "distance_m": circle.distance_m,
                    "facilities": int(facilities["facility_id"].nunique()),
                    "length_km": float((stretches["end_m"] - stretches["start_m"]).sum()) / 1e3,
                }
            )
            ends = interval_ends(graph, stretches)
            if stored:
                ends = storage_xy(ends, graph.crs)
                ends = ends[(ends[:, 0] != ends[:, 1]).any(axis=1)]  # collapsed on the grid
            geometries.append(shapely.multilinestrings(shapely.linestrings(ends)))
            del ends
    return gpd.GeoDataFrame(rows, geometry=geometries, crs=STORAGE_CRS if stored else graph.crs)
