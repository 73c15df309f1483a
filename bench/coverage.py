"""Benchmark the coverage engine on the demo district and on a 10x larger one.

Times graph build, full coverage figures (every compound x every facility set x 3 life
circles, with statistics: snapping, the runs, the table and the figures drawn from it),
the bare scipy Dijkstra runs those figures need (one multi-source run per facility set,
``directed=False`` as a minimal script would write it; also with ``directed=True``, the
same distances on the symmetric matrix without scipy's transpose), the networkx reference
on the same graph and sources, and the dissolved service circles. Prints JSON.

    python bench/coverage.py [--copies 10] [--repeat 3]

The 10x district is the demo district copied side by side (40 km apart) and joined by
straight connector roads, with its compounds, gates and facilities copied along.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy
import shapely
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.coverage import (
    access_points,
    compound_access,
    coverage_gaps,
    coverage_statistics,
    life_circle_check,
)
from geo_service.analysis.facility_sets import (
    display_sets,
    life_circle_requirements,
    life_circle_sets,
)
from geo_service.analysis.network import build_walk_graph, snap_points
from geo_service.analysis.run import service_circles
from geo_service.coverage_params import CoverageParams
from geo_service.crs import to_metric
from geo_service.data.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "geojson"
#: The demo district's analysis configuration (district.yaml).
PROFILE = load_profile(ROOT)
CONFIG, CONFIG_CRS = PROFILE.analysis, PROFILE.metric_crs
DISPLAY_SETS = display_sets(CONFIG)
LIFE_CIRCLE_SETS = life_circle_sets(CONFIG)
LIFE_CIRCLE_TYPES = life_circle_requirements(CONFIG)
GAP_SET, HEADLINE_SET = CONFIG.gap_set, CONFIG.headline_set
INPUT_LAYERS = CONFIG.input_layers()
SHIFT_M = 40_000.0


def load_demo() -> dict[str, gpd.GeoDataFrame]:
    return {
        name: to_metric(gpd.read_file(DATA / f"{name}.geojson"), CONFIG_CRS)
        for name in INPUT_LAYERS
    }


def replicate(
    layers: dict[str, gpd.GeoDataFrame], copies: int, columns: int | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """``copies`` copies of the district ``SHIFT_M`` apart, ``columns`` to a row (default:
    one row), ids suffixed, each joined to the next by a straight road."""
    columns = columns or copies
    offsets = [
        np.array([(k % columns) * SHIFT_M, -(k // columns) * SHIFT_M]) for k in range(copies)
    ]
    out = {}
    for name, frame in layers.items():
        parts = []
        for k in range(copies):
            moved = frame.copy()
            moved["geometry"] = shapely.transform(
                frame.geometry.to_numpy(), lambda xy, k=k: xy + offsets[k]
            )
            for column in ("id", "compound_id", "community_id"):
                if column in moved and k:
                    moved[column] = moved[column].astype(str) + f"~{k}"
            parts.append(moved)
        out[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=frame.crs)
    roads = layers["roads"]
    ends = shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), 0))
    east, west = ends[np.argmax(ends[:, 0])], ends[np.argmin(ends[:, 0])]
    links = [
        shapely.LineString([east + offsets[k], west + offsets[k + 1]]) for k in range(copies - 1)
    ]
    link_frame = gpd.GeoDataFrame(
        {"road_class": ["primary"] * len(links)}, geometry=links, crs=roads.crs
    )
    out["roads"] = gpd.GeoDataFrame(
        pd.concat([out["roads"], link_frame], ignore_index=True), crs=roads.crs
    )
    return out


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def reference_run(layers, sets, points) -> float:
    """Seconds for the networkx reference (tests/reference.py) to do the same work: snap,
    split the network at every point, multi-source Dijkstra, for every facility set."""
    import sys

    sys.path.insert(0, str(DATA.parent.parent))
    from tests.reference import walking_distances

    targets = shapely.get_coordinates(points)
    started = time.perf_counter()
    for facilities in sets.values():
        walking_distances(
            layers["roads"].geometry,
            shapely.get_coordinates(facilities.geometry.to_numpy()),
            targets,
            max_snap_m=250,
        )
    return time.perf_counter() - started


def measure(
    layers: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    repeat: int,
    *,
    full_reference: bool = False,
) -> dict:
    build_s, graph = best_of(repeat, lambda: build_walk_graph(layers["roads"]))
    compounds = layers["compounds"].reset_index(drop=True)
    position = pd.Series(np.arange(len(compounds)), index=compounds["id"].to_numpy())
    gates = layers["compound_entrances"]
    points, owner = gates.geometry.to_numpy(), position[gates["compound_id"]].to_numpy()
    sets = {
        s.key: access_points(s.select(layers[s.layer])) for s in (*DISPLAY_SETS, *LIFE_CIRCLE_SETS)
    }

    def figures():
        base = {c: compounds[c] for c in ("id", "community_id", "subdistrict_id", "population")}
        table = compound_access(graph, points, owner, len(compounds), sets, params, base=base)
        coverage_statistics(table, HEADLINE_SET, params, by="community_id")
        coverage_statistics(table, HEADLINE_SET, params, by="subdistrict_id")
        life_circle_check(
            table,
            [(r.key, params.circle_m(r.circle)) for r in LIFE_CIRCLE_TYPES],
            params,
            by="community_id",
        )
        coverage_gaps(table, GAP_SET, params)
        return table

    graph.matrix  # noqa: B018 - built with the graph, not timed with the figures
    figures_s, _ = best_of(repeat, figures)

    # The bare Dijkstra runs those figures need: one multi-source run per facility set,
    # from the nearest node of each facility.
    node_tree = shapely.STRtree(shapely.points(graph.nodes))
    sources = {k: node_tree.nearest(f.geometry.to_numpy()) for k, f in sets.items()}

    def bare():
        for nodes in sources.values():
            dijkstra(graph.matrix, directed=False, indices=np.unique(nodes), min_only=True)

    bare_s, _ = best_of(repeat, bare)

    # The same runs with directed=True: the matrix is symmetric, so the distances are the
    # same, and scipy skips the transpose it builds and walks for directed=False. Shown
    # alongside as the strictest form of the reference.
    def bare_directed():
        for nodes in sources.values():
            dijkstra(graph.matrix, directed=True, indices=np.unique(nodes), min_only=True)

    bare_directed_s, _ = best_of(repeat, bare_directed)

    reference = nx.Graph()
    reference.add_weighted_edges_from(
        zip(graph.edge_u.tolist(), graph.edge_v.tolist(), graph.edge_length.tolist(), strict=True)
    )

    def networkx_runs():
        for nodes in sources.values():
            nx.multi_source_dijkstra_path_length(reference, set(nodes.tolist()))

    networkx_s, _ = best_of(1, networkx_runs)

    display = {s.key: sets[s.key] for s in DISPLAY_SETS}
    circles_s, circles = best_of(1, lambda: service_circles(graph, display, params, DISPLAY_SETS))
    snapped = snap_points(graph, points, max_snap_m=params.max_snap_m)
    reference = {}
    if full_reference:
        reference_s = reference_run(layers, sets, points)
        reference = {
            "networkx_reference_full_s": round(reference_s, 3),
            "networkx_reference_full_over_figures": round(reference_s / figures_s, 1),
        }
    return {
        "nodes": graph.n_nodes,
        "segments": len(graph.edge_u),
        "compounds": len(compounds),
        "gates": len(points),
        "facility_sets": len(sets),
        "facilities": int(sum(len(f) for f in sets.values())),
        "unsnapped_gates": int((snapped.edge < 0).sum()),
        "graph_build_s": round(build_s, 4),
        "coverage_figures_s": round(figures_s, 4),
        "bare_scipy_dijkstra_s": round(bare_s, 4),
        "networkx_dijkstra_s": round(networkx_s, 4),
        "figures_over_bare_scipy": round(figures_s / bare_s, 2),
        "bare_scipy_dijkstra_directed_s": round(bare_directed_s, 4),
        "figures_over_bare_scipy_directed": round(figures_s / bare_directed_s, 2),
        "networkx_over_figures": round(networkx_s / figures_s, 1),
        "networkx_over_bare_scipy": round(networkx_s / bare_s, 1),
        "service_circles_s": round(circles_s, 3),
        "service_circle_polygons": len(circles),
        **reference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    params = CoverageParams()
    demo = load_demo()
    small = measure(demo, params, args.repeat, full_reference=True)
    big = measure(replicate(demo, args.copies), params, max(1, args.repeat - 1))
    scale = {
        key: round(big[key] / small[key], 1)
        for key in (
            "graph_build_s",
            "coverage_figures_s",
            "bare_scipy_dijkstra_s",
            "service_circles_s",
        )
    }
    print(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "scipy": scipy.__version__,
                    "networkx": nx.__version__,
                    "shapely": shapely.__version__,
                },
                "demo": small,
                f"x{args.copies}": big,
                "time_ratio_big_over_demo": scale,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
