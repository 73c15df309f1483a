"""Fast what-if: the walks to the centres kept from start-up, a change merged into them.

Adding sites is one search from the new sites, bounded by the longest walk any demand
point has today, and merged with the kept distances (a site can only shorten walks).
Closing centres walks again only for the demand points those centres served: one run
from the remaining centres, read at those points; every other point keeps its walk,
since its nearest centre is still open. The answer is :func:`~.scenario.scenario_outcome`
of the walks before and after, the same as the reference
(:func:`~.scenario.scenario_coverage`), which walks everything again.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo_service.analysis.coverage import PerOwner, entry_points
from geo_service.analysis.demand import demand_points
from geo_service.analysis.distances import AugmentedGraph, point_distances
from geo_service.analysis.facility_sets import facility_set
from geo_service.analysis.network import Snapped, WalkGraph, point_coordinates, snap_xy
from geo_service.analysis.params import CoverageParams
from geo_service.analysis.scenario import (
    DemandUnits,
    demand_units,
    scenario_outcome,
    site_report,
)
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.errors import InvalidQuery


@dataclass(frozen=True)
class WhatIfBaseline:
    """What every what-if starts from (metres, the graph's CRS): the snapped demand points
    and centre entries, and each demand point's walk to its nearest centre."""

    graph: WalkGraph
    params: CoverageParams
    units: DemandUnits
    demand: Snapped
    per_owner: PerOwner
    centre_of_entry: np.ndarray  # centre id of each snapped entry
    entries: AugmentedGraph
    point_m: np.ndarray  # walk of each demand point to its nearest centre (inf: none)
    point_entry: np.ndarray  # the entry it walks to (-1: none)

    @property
    def centre_ids(self) -> set[str]:
        return set(self.centre_of_entry.tolist())

    def per_feature(self, point_m: np.ndarray) -> np.ndarray:
        """Each demand feature's walk (its best point), NaN where none is reached."""
        return self.per_owner.nearest(point_m[None, :])[0][0]


def whatif_baseline(
    graph: WalkGraph,
    demand: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None,
    centres: gpd.GeoDataFrame,
    params: CoverageParams,
    *,
    gate_key: str = "compound_id",
    population: str = "population",
    area_keys: tuple[str, ...] = (),
) -> WhatIfBaseline:
    """Walk once from every centre to every demand point (frames in the graph's CRS;
    ``centres`` with ``id``)."""
    demand = demand.reset_index(drop=True)
    points, owner = demand_points(demand, gates, gate_key=gate_key)
    xy, entry_owner = entry_points(centres.geometry.to_numpy())
    snapped = snap_xy(
        graph, np.concatenate([point_coordinates(points), xy]), max_snap_m=params.max_snap_m
    )
    demand_snapped = snapped.take(slice(0, len(points)))
    entries = AugmentedGraph(graph, snapped.take(slice(len(points), None)))
    point_m, point_entry = point_distances(
        graph, entries.node_distances(), entries.sources, demand_snapped
    )
    return WhatIfBaseline(
        graph=graph,
        params=params,
        units=demand_units(demand, population=population, area_keys=area_keys),
        demand=demand_snapped,
        per_owner=PerOwner(np.asarray(owner), len(demand)),
        centre_of_entry=centres["id"].astype(str).to_numpy()[entry_owner],
        entries=entries,
        point_m=point_m,
        point_entry=point_entry,
    )


def _close(baseline: WhatIfBaseline, removed: list[str]) -> np.ndarray:
    """The demand points' walks with the centres ``removed`` closed."""
    point_m = baseline.point_m.copy()
    closed = np.isin(baseline.centre_of_entry, removed)
    served = (baseline.point_entry >= 0) & closed[np.maximum(baseline.point_entry, 0)]
    if not served.any():
        return point_m
    remaining = np.flatnonzero(~closed)
    targets = baseline.demand.take(np.flatnonzero(served))
    walks, _ = point_distances(
        baseline.graph,
        baseline.entries.node_distances(remaining),
        baseline.entries.sources,
        targets,
        subset=remaining,
    )
    point_m[served] = walks
    return point_m


def _add(baseline: WhatIfBaseline, point_m: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """The demand points' walks with the proposed ``sites`` (shapely, metres) open."""
    if not len(sites):
        return point_m
    xy, _ = entry_points(sites)
    entries = snap_xy(baseline.graph, xy, max_snap_m=baseline.params.max_snap_m)
    reachable = baseline.demand.ok
    longest = point_m[reachable].max() if len(reachable) else 0.0
    walks, _ = point_distances(
        baseline.graph,
        AugmentedGraph(baseline.graph, entries).node_distances(limit_m=longest),
        entries,
        baseline.demand,
        limit_m=longest,
    )
    return np.minimum(point_m, walks)


def what_if(baseline: WhatIfBaseline, added: gpd.GeoDataFrame, removed: list[str]) -> dict:
    """The answer of :func:`~.scenario.scenario_outcome` to opening the proposed sites
    ``added`` (``id`` and geometry, the graph's CRS) and closing the centres ``removed``
    (ids), from the walks of ``baseline``. An id that is no centre is refused."""
    unknown = sorted(set(removed) - baseline.centre_ids)
    if unknown:
        raise InvalidQuery(f"no service centre {', '.join(unknown)} to close")
    sites = added.geometry.to_numpy()
    after = _add(baseline, _close(baseline, removed), sites)
    snapped = snap_xy(
        baseline.graph,
        point_coordinates(shapely.point_on_surface(sites)),
        max_snap_m=baseline.params.max_snap_m,
    )
    return scenario_outcome(
        baseline.units,
        baseline.per_feature(baseline.point_m),
        baseline.per_feature(after),
        baseline.params,
        site_report(added["id"].astype(str).tolist(), snapped),
    )


def headline_baseline(
    metric: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
    graph: WalkGraph,
) -> WhatIfBaseline:
    """The baseline of the headline figures' facilities (so that "before" is the
    published figure), from the input layers present (metric CRS)."""
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    layer = metric.get(headline.layer)
    if layer is None:
        layer = gpd.GeoDataFrame({"id": []}, geometry=[], crs=graph.crs)
    return whatif_baseline(
        graph,
        metric[config.demand_layer],
        metric.get(config.gates_layer) if config.gates_layer else None,
        facility_set(headline).select(layer),
        params,
        gate_key=config.gate_key,
        population=config.population,
        area_keys=tuple(a.key for a in config.areas),
    )
