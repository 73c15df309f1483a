"""One coverage run: from the input layers to the derived layers and a summary.

Input and output frames are in EPSG:4326; the work is done in the metric CRS. No I/O
here: :mod:`geo_service.data.derived` reads, caches and writes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.circles import circle_polygon, interval_lines, reached_intervals
from geo_service.analysis.coverage import (
    FacilitySet,
    access_points,
    column,
    compound_access,
    coverage_gaps,
    coverage_statistics,
    life_circle_check,
)
from geo_service.analysis.distances import node_distances
from geo_service.analysis.network import SNAP_OK, WalkGraph, build_walk_graph, snap_points
from geo_service.analysis.params import CoverageParams
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.data.vocabulary import SERVICE_VOCABULARY

log = logging.getLogger(__name__)

#: The layers a coverage run reads.
INPUT_LAYERS = (
    "roads",
    "compounds",
    "compound_entrances",
    "service_centres",
    "pocket_parks",
    "trails",
    "communities",
    "subdistricts",
)

SERVICES = SERVICE_VOCABULARY

#: Facility sets shown on maps and in the compound table.
DISPLAY_SETS = (
    FacilitySet(
        "centre", "党群服务中心（任一级）", "Service centre (any level)", "service_centres"
    ),
    FacilitySet(
        "centre_community",
        "社区党群服务中心",
        "Community service centre",
        "service_centres",
        where=(("level", "community"),),
    ),
    FacilitySet(
        "centre_subdistrict",
        "街道党群服务中心",
        "Sub-district service centre",
        "service_centres",
        where=(("level", "subdistrict"),),
    ),
    FacilitySet(
        "centre_district",
        "区党群服务中心",
        "District service centre",
        "service_centres",
        where=(("level", "district"),),
    ),
    FacilitySet("park", "党建小游园", "Pocket park", "pocket_parks"),
    FacilitySet("trail", "党建步道", "Trail", "trails"),
)
#: Facility types of the 15-minute life circle that our layers hold.
LIFE_CIRCLE_SETS = (
    *(FacilitySet(f"svc_{s}", s, s, "service_centres", service=s) for s in SERVICES),
    DISPLAY_SETS[4],
    DISPLAY_SETS[5],
)
#: The set whose gaps are reported: the community centre's 15-minute circle.
GAP_SET = "centre_community"
#: The set of the headline coverage figures.
HEADLINE_SET = "centre"


@dataclass
class CoverageResult:
    """Derived layers (EPSG:4326), the summary, and how long each stage took."""

    layers: dict[str, gpd.GeoDataFrame]
    summary: dict
    timings_s: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 4)
        self._last = now


def _records(stats: pd.DataFrame) -> list[dict]:
    frame = stats.reset_index()
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def run_coverage(
    layers: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    *,
    graph: WalkGraph | None = None,
    metric_crs="EPSG:4549",
) -> CoverageResult:
    """Compute every derived coverage layer from the input layers (see ``INPUT_LAYERS``)."""
    timer = _Timer()
    metric = {name: to_metric(layers[name], metric_crs) for name in INPUT_LAYERS}
    graph = graph or build_walk_graph(layers["roads"], metric_crs)
    timer.lap("graph")
    pieces = graph.pieces()
    log.info(
        "network: %d nodes, %d segments, %d piece(s), main piece %.0f%% of length",
        graph.n_nodes,
        len(graph.edge_u),
        len(pieces),
        100 * pieces["length_m"].iloc[0] / pieces["length_m"].sum(),
    )

    compounds = metric["compounds"].reset_index(drop=True)
    position = pd.Series(np.arange(len(compounds)), index=compounds["id"].to_numpy())
    gates = metric["compound_entrances"]
    gates = gates[gates["compound_id"].isin(position.index)]
    without_gate = np.setdiff1d(np.arange(len(compounds)), position[gates["compound_id"]])
    points = np.concatenate(
        [
            gates.geometry.to_numpy(),
            compounds.geometry.representative_point().to_numpy()[without_gate],
        ]
    )
    owner = np.concatenate([position[gates["compound_id"]].to_numpy(), without_gate])

    sets = {
        s.key: access_points(s.select(metric[s.layer])) for s in (*DISPLAY_SETS, *LIFE_CIRCLE_SETS)
    }
    empty = [key for key, frame in sets.items() if frame.empty]
    base = compounds[
        ["id", "name_zh", "name_en", "community_id", "subdistrict_id", "population", "households"]
    ]
    table = compound_access(graph, points, owner, len(compounds), sets, params, base=base)
    timer.lap("compound_access")
    log.info(
        "access: %d compounds from %d gates to %d facility sets",
        len(compounds),
        len(points),
        len(sets),
    )

    display_columns = [
        column(s.key, what) for s in DISPLAY_SETS for what in ("m", "min", "id", "circle")
    ]
    compound_layer = gpd.GeoDataFrame(
        table[[*base.columns, "snap_m", "snap_status", *display_columns]],
        geometry=compounds.geometry.to_numpy(),
        crs=compounds.crs,
    )

    community_stats = coverage_statistics(table, HEADLINE_SET, params, by="community_id")
    check = life_circle_check(table, [s.key for s in LIFE_CIRCLE_SETS], params, by="community_id")
    communities = metric["communities"].set_index("id")
    stats = community_stats.join(check).reindex(communities.index)
    community_layer = gpd.GeoDataFrame(
        pd.concat([communities[["name_zh", "name_en", "subdistrict_id"]], stats], axis=1)
        .rename_axis("id")
        .reset_index(),
        geometry=communities.geometry.to_numpy(),
        crs=communities.crs,
    )
    gaps = coverage_gaps(table, GAP_SET, params)
    gap_layer = gpd.GeoDataFrame(
        gaps[
            [
                "rank",
                "id",
                "name_zh",
                "name_en",
                "community_id",
                "subdistrict_id",
                "population",
                "households",
                *(column(GAP_SET, w) for w in ("m", "min", "id")),
            ]
        ],
        geometry=compounds.geometry.to_numpy()[gaps.index],
        crs=compounds.crs,
    )
    timer.lap("statistics")

    circles = service_circles(graph, {s.key: sets[s.key] for s in DISPLAY_SETS}, params)
    timer.lap("circles")
    log.info("circles: %d dissolved polygons", len(circles))

    summary = {
        "district": _records(coverage_statistics(table, HEADLINE_SET, params))[0],
        "subdistricts": _records(
            coverage_statistics(table, HEADLINE_SET, params, by="subdistrict_id")
        ),
        "district_by_set": {
            s.key: _records(coverage_statistics(table, s.key, params))[0] for s in DISPLAY_SETS
        },
        "gaps": {
            "set": GAP_SET,
            "compounds": len(gaps),
            "residents": int(gaps["population"].sum()),
        },
        "empty_facility_sets": empty,
        "unsnapped_compounds": int((table["snap_status"] != SNAP_OK).sum()),
        "network": {"nodes": graph.n_nodes, "segments": len(graph.edge_u), "pieces": len(pieces)},
    }
    result_layers = {
        "service_circles": circles,
        "compound_coverage": compound_layer,
        "community_coverage": community_layer,
        "coverage_gaps": gap_layer,
    }
    layers_4326 = {name: _to_storage(frame) for name, frame in result_layers.items()}
    return CoverageResult(layers_4326, summary, timer.timings)


def _to_storage(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """EPSG:4326 on the storage grid (1e-7 degree), kept valid."""
    frame = frame.to_crs(STORAGE_CRS)
    return frame.set_geometry(shapely.set_precision(frame.geometry.to_numpy(), 1e-7))


def service_circles(
    graph: WalkGraph, sets: dict[str, gpd.GeoDataFrame], params: CoverageParams
) -> gpd.GeoDataFrame:
    """Dissolved service circles: one polygon per facility set and life circle, from one
    multi-source run per set (metric CRS)."""
    titles = {s.key: s for s in DISPLAY_SETS}
    rows, geometries = [], []
    for key, facilities in sets.items():
        if facilities.empty:
            continue
        sources = snap_points(graph, facilities.geometry.to_numpy(), max_snap_m=params.max_snap_m)
        nodes = node_distances(graph, sources, limit_m=params.widest_m)
        for circle in params.circles:
            lines = interval_lines(
                graph, reached_intervals(graph, nodes, sources, circle.distance_m)
            )
            polygon = circle_polygon(lines, buffer_m=params.circle_buffer_m)
            rows.append(
                {
                    "id": f"{key}-{circle.minutes}",
                    "facility_set": key,
                    "title_zh": f"{titles[key].title_zh} {circle.minutes}分钟生活圈",
                    "title_en": f"{titles[key].title_en}: {circle.minutes}-minute circle",
                    "minutes": circle.minutes,
                    "distance_m": circle.distance_m,
                    "facilities": int(facilities["facility_id"].nunique()),
                    "area_km2": round(polygon.area / 1e6, 3),
                }
            )
            geometries.append(
                shapely.MultiPolygon(shapely.get_parts(polygon))
                if polygon.geom_type == "Polygon"
                else polygon
            )
    return gpd.GeoDataFrame(rows, geometry=geometries, crs=graph.crs)
