"""One coverage run: from the input layers to the derived layers and a summary.

Input and output frames are in EPSG:4326; the work is done in the metric CRS. No I/O
here: :mod:`geo_service.pipeline.derived_layers` reads, caches and writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from geo_service.analysis.circles import (
    circle_polygon,
    interval_lines,
    reached_intervals,
    walks_from_each_set,
)
from geo_service.analysis.coverage import (
    FacilitySet,
    column,
    coverage_gaps,
    coverage_statistics,
    life_circle_check,
    rounded_for_display,
)
from geo_service.analysis.facility_sets import (
    NAME_COLUMNS,
    display_sets,
    life_circle_requirements,
)
from geo_service.analysis.figures import DemandAccess, criterion, demand_access
from geo_service.analysis.network import SNAP_OK, WalkGraph, build_walk_graph
from geo_service.analysis.reached_streets import reached_streets
from geo_service.analysis.records import records
from geo_service.coverage_params import CoverageParams
from geo_service.crs import to_metric, to_storage
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.data.layer_rows import LayerRows

log = logging.getLogger(__name__)


@dataclass
class CoverageResult:
    """Derived layers (EPSG:4326), the summary, how long each stage took and what ran it."""

    layers: dict[str, gpd.GeoDataFrame]
    summary: dict
    timings_s: dict[str, float] = field(default_factory=dict)
    engine: dict = field(default_factory=lambda: {"kind": "one process"})


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 4)
        self._last = now


def run_coverage(
    layers: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
    *,
    metric_crs: str,
    graph: WalkGraph | None = None,
) -> CoverageResult:
    """Compute every derived coverage layer from the input layers.

    ``layers`` holds the layers of ``config.input_layers()`` that the district has (EPSG:4326);
    ``roads`` and the demand layer are required, the others optional: a facility set whose
    layer is missing is empty, and statistics by area are made for the areas present.
    """
    timer = _Timer()
    metric = metric_inputs(layers, config, metric_crs)
    graph = graph or build_walk_graph(layers["roads"], metric_crs)
    timer.lap("graph")
    access = demand_access(metric, params, config, graph)
    timer.lap("compound_access")
    network = network_layers(graph, access.sets, params, display_sets(config))
    timer.lap("network")  # the reached streets are drawn as they are written
    figures = figure_layers(access, metric, params, config)
    timer.lap("statistics")
    return assembled(figures, network, timer.timings)


def metric_inputs(
    layers: dict[str, gpd.GeoDataFrame], config: AnalysisConfig, metric_crs: str
) -> dict[str, gpd.GeoDataFrame]:
    """The input layers a run reads, in the metric CRS."""
    return {
        name: to_metric(frame, metric_crs)
        for name, frame in layers.items()
        if name in config.input_layers()
    }


@dataclass
class NetworkLayers:
    """What a run draws on the whole walking network, as stored (EPSG:4326 on the storage
    grid): the reached streets (drawn when iterated, see :class:`StreetsBySet`), the
    dissolved circles (empty above the segment limit) and the network's size."""

    streets: LayerRows
    circles: gpd.GeoDataFrame
    network: dict


@dataclass(frozen=True)
class StreetsBySet:
    """The reached streets of the facility sets ``shown``, drawn when iterated: one frame
    per set (its circles, widest first), in EPSG:4326 on the storage grid.

    A store writes each set's lines as they are drawn, so that a city's reached streets
    (gigabytes of lines) are never held whole, nor in two CRSs at once. Iterating again
    draws them again. ``sets``: the access points of each set (metric CRS)."""

    graph: WalkGraph
    sets: dict[str, gpd.GeoDataFrame]
    params: CoverageParams
    shown: tuple[FacilitySet, ...]

    def __iter__(self) -> Iterator[gpd.GeoDataFrame]:
        for drawn in self.shown:
            started = time.perf_counter()
            titles = {drawn.key: (drawn.title_zh, drawn.title_en)}
            stored = reached_streets(
                self.graph, {drawn.key: self.sets[drawn.key]}, self.params, titles, stored=True
            )
            lines = int(shapely.get_num_geometries(stored.geometry.to_numpy()).sum())
            log.info(
                "reached streets of %s: %d stretches in %.1f s",
                drawn.key,
                lines,
                time.perf_counter() - started,
            )
            yield stored
            del stored  # before the next set is drawn


def network_layers(
    graph: WalkGraph,
    sets: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    shown: tuple[FacilitySet, ...],
) -> NetworkLayers:
    """The reached streets and service circles of the facility sets ``shown`` (their
    access points in ``sets``, metric CRS), and the network's nodes, segments and pieces."""
    pieces = graph.pieces()
    log.info(
        "network: %d nodes, %d segments, %d piece(s), main piece %.0f%% of length",
        graph.n_nodes,
        len(graph.edge_u),
        len(pieces),
        100 * pieces["length_m"].iloc[0] / max(pieces["length_m"].sum(), 1e-9),
    )
    shown_sets = {s.key: sets[s.key] for s in shown}
    streets = StreetsBySet(graph, {s.key: sets[s.key] for s in shown}, params, shown)
    segments = len(graph.edge_u)
    if params.circle_polygons_for(segments):
        circles = to_storage(service_circles(graph, shown_sets, params, shown))
        log.info("circles: %d dissolved polygons", len(circles))
    else:
        circles = to_storage(_no_circles(graph))
        log.info(
            "circles: not dissolved for %d segments (more than %d): the reached streets draw them",
            segments,
            params.circle_polygons_max_segments,
        )
    size = {"nodes": graph.n_nodes, "segments": segments, "pieces": len(pieces)}
    return NetworkLayers(streets, circles, size)


@dataclass
class FigureLayers:
    """The figures of a run (metric CRS): per compound, per area, the gaps, and the
    summary without the network's size."""

    compounds: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    summary: dict


def figure_layers(
    access: DemandAccess,
    metric: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
) -> FigureLayers:
    """Every figure drawn from the demand's walking access (unrounded; rounded only in
    the published columns). ``metric``: the input layers (metric CRS), for the areas."""
    compounds, table, sets, base = access.demand, access.table, access.sets, access.base
    shown = display_sets(config)
    area_keys = access.area_keys
    empty = [key for key, frame in sets.items() if frame.empty]
    display_columns = [column(s.key, what) for s in shown for what in ("m", "min", "id", "circle")]
    published = rounded_for_display(table, [s.key for s in shown])
    compound_layer = gpd.GeoDataFrame(
        published[[*base.columns, "snap_m", "snap_status", *display_columns]],
        geometry=compounds.geometry.to_numpy(),
        crs=compounds.crs,
    )
    requirements = life_circle_requirements(config)
    community_layer = _area_layer(
        table, config, metric, params, [(r.key, params.circle_m(r.circle)) for r in requirements]
    )
    gap_set = config.gap_set
    gaps = coverage_gaps(table, gap_set, params)
    gap_layer = gpd.GeoDataFrame(
        rounded_for_display(gaps, [gap_set])[
            [
                "rank",
                *base.columns,
                *(column(gap_set, w) for w in ("m", "min", "id")),
            ]
        ],
        geometry=compounds.geometry.to_numpy()[gaps.index],
        crs=compounds.crs,
    )
    headline = config.headline_set
    coarse = area_keys[-1] if area_keys else None
    summary = {
        "criterion": criterion(params, config, headline),
        "district": records(coverage_statistics(table, headline, params))[0],
        "subdistricts": (
            records(coverage_statistics(table, headline, params, by=coarse)) if coarse else []
        ),
        "district_by_set": {
            s.key: records(coverage_statistics(table, s.key, params))[0] for s in shown
        },
        "gaps": {
            "set": gap_set,
            "rule_en": f"compounds beyond {params.widest_m:g} m on foot of the nearest "
            + criterion(params, config, gap_set)["facilities_title"]["en"],
            "rule_zh": f"距最近{criterion(params, config, gap_set)['facilities_title']['zh']}"
            f"步行超过{params.widest_m:g}米的小区",
            "compounds": len(gaps),
            "residents": int(gaps["population"].sum()),
        },
        "empty_facility_sets": empty,
        "unsnapped_compounds": int((table["snap_status"] != SNAP_OK).sum()),
    }
    return FigureLayers(compound_layer, community_layer, gap_layer, summary)


def assembled(
    figures: FigureLayers, network: NetworkLayers, timings_s: dict[str, float]
) -> CoverageResult:
    """The derived layers (EPSG:4326, on the storage grid) and the summary of a run."""
    layers_4326 = {
        "service_circles": network.circles,
        "reached_streets": network.streets,
        "compound_coverage": to_storage(figures.compounds),
        "community_coverage": to_storage(figures.communities),
        "coverage_gaps": to_storage(figures.gaps),
    }
    summary = figures.summary | {"network": network.network}
    return CoverageResult(layers_4326, summary, timings_s)


def _area_layer(
    table: pd.DataFrame,
    config: AnalysisConfig,
    metric: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    life_types: list[tuple[str, float]],
) -> gpd.GeoDataFrame:
    """Coverage statistics and the life-circle check per area of the finest level (the
    ``community_coverage`` layer); empty when the district has no such areas."""
    finest = next((a for a in config.areas if a.layer in metric and a.key in table.columns), None)
    if finest is None:
        return gpd.GeoDataFrame({"id": []}, geometry=[], crs=next(iter(metric.values())).crs)
    stats = coverage_statistics(table, config.headline_set, params, by=finest.key)
    check = life_circle_check(table, life_types, params, by=finest.key)
    areas = metric[finest.layer].set_index("id")
    stats = stats.join(check).reindex(areas.index)
    # An area where nobody lives counts zero of everything; its shares stay empty (null).
    counts = [c for c in stats.columns if c.startswith(("residents", "compounds", "unreached"))]
    stats[counts] = stats[counts].fillna(0).astype("int64")
    if "lacks_count" in stats.columns:
        stats["lacks_count"] = stats["lacks_count"].fillna(0).astype("int64")
        stats["lacks"] = stats["lacks"].fillna("")
    carried = [
        c
        for c in (*NAME_COLUMNS, *(a.key for a in config.areas if a is not finest))
        if c in areas.columns
    ]
    return gpd.GeoDataFrame(
        pd.concat([areas[carried], stats], axis=1).rename_axis("id").reset_index(),
        geometry=areas.geometry.to_numpy(),
        crs=areas.crs,
    )


def _no_circles(graph: WalkGraph) -> gpd.GeoDataFrame:
    """The service-circle layer with no polygons (its columns, no rows)."""
    text, integer, number = (pd.Series(dtype=t) for t in (object, "int64", float))
    columns = {"id": text, "facility_set": text, "title_zh": text, "title_en": text}
    columns |= {"minutes": integer, "distance_m": number, "facilities": integer}
    return gpd.GeoDataFrame(
        {**columns, "area_km2": number}, geometry=gpd.GeoSeries([], crs=graph.crs)
    )


def service_circles(
    graph: WalkGraph,
    sets: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    shown: tuple[FacilitySet, ...],
) -> gpd.GeoDataFrame:
    """Dissolved service circles: one polygon per facility set and life circle, from one
    multi-source run per set (metric CRS). ``shown`` gives the sets' titles."""
    titles = {s.key: s for s in shown}
    rows, geometries = [], []
    for key, facilities, sources, nodes in walks_from_each_set(graph, sets, params):
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
