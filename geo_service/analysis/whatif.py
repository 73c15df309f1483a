"""Fast what-if: the walks to the centres kept from start-up, a change merged into them.

Adding sites is one search from the new sites, bounded by the longest walk any demand
point has today, and merged with the kept distances (a site can only shorten walks).
Closing centres walks again only for the demand points those centres served: one run
from the remaining centres, read at those points; every other point keeps its walk,
since its nearest centre is still open. The same is done for each type of the
life-circle table, with the sites that offer it. The answer is
:func:`~.scenario.scenario_outcome` of the walks before and after, the same as the
reference (:func:`~.scenario.scenario_coverage`), which walks everything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely

from geo_service.analysis.coverage import PerOwner, entry_points
from geo_service.analysis.demand import demand_points
from geo_service.analysis.distances import AugmentedGraph, point_distances
from geo_service.analysis.facility_sets import (
    LifeCircleRequirement,
    facility_set,
    life_circle_requirements,
)
from geo_service.analysis.network import Snapped, WalkGraph, point_coordinates, snap_xy
from geo_service.analysis.scenario import (
    DemandUnits,
    TypeFacilities,
    demand_units,
    offers,
    scenario_outcome,
    site_report,
    type_changes,
)
from geo_service.coverage_params import CoverageParams
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.errors import InvalidQuery


@dataclass(frozen=True)
class KeptWalks:
    """Each demand point's walk to the nearest facility of one set, with what it takes
    to change it: the facilities' snapped entries and the id each belongs to."""

    entries: AugmentedGraph
    facility_of_entry: np.ndarray
    point_m: np.ndarray  # (n_points,) metres, inf where none is reached
    point_entry: np.ndarray  # (n_points,) the entry walked to, -1 where none

    def closed(self, demand: Snapped, removed: list[str]) -> np.ndarray:
        """The walks with the facilities ``removed`` closed: the points they served walk
        again from the remaining ones; the others keep theirs (the kept array itself when
        nothing closes: do not write to it)."""
        closed = np.isin(self.facility_of_entry, removed)
        if not closed.any():
            return self.point_m
        point_m = self.point_m.copy()
        served = (self.point_entry >= 0) & closed[np.maximum(self.point_entry, 0)]
        if not served.any():
            return point_m
        remaining = np.flatnonzero(~closed)
        walks, _ = point_distances(
            self.entries.graph,
            self.entries.node_distances(remaining),
            self.entries.sources,
            demand.take(np.flatnonzero(served)),
            subset=remaining,
        )
        point_m[served] = walks
        return point_m


def _keep_walks(graph: WalkGraph, demand: Snapped, facilities: gpd.GeoDataFrame, params):
    xy, owner = entry_points(facilities.geometry.to_numpy())
    entries = AugmentedGraph(graph, snap_xy(graph, xy, max_snap_m=params.max_snap_m))
    point_m, point_entry = point_distances(graph, entries.node_distances(), entries.sources, demand)
    return KeptWalks(entries, facilities["id"].astype(str).to_numpy()[owner], point_m, point_entry)


@dataclass(frozen=True)
class WhatIfBaseline:
    """What every what-if starts from (metres, the graph's CRS): the snapped demand
    points, their walks to the nearest centre and, per life-circle type, to the nearest
    facility of that type."""

    graph: WalkGraph
    params: CoverageParams
    units: DemandUnits
    demand: Snapped
    per_owner: PerOwner
    centres: KeptWalks
    types: tuple[tuple[LifeCircleRequirement, KeptWalks], ...] = ()

    @property
    def centre_ids(self) -> set[str]:
        return set(self.centres.facility_of_entry.tolist())

    @property
    def finest_area(self) -> str | None:
        return next(iter(self.units.areas), None)

    def per_feature(self, point_m: np.ndarray) -> np.ndarray:
        """Each demand feature's walk (its best point), NaN where none is reached."""
        return self.per_owner.nearest(point_m[None, :])[0][0]

    @cached_property
    def before(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each demand feature's walk today: to the centres, and per life-circle type."""
        return self.per_feature(self.centres.point_m), [
            self.per_feature(walks.point_m) for _, walks in self.types
        ]


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
    types: list[TypeFacilities] = (),
) -> WhatIfBaseline:
    """Walk once from every centre, and from every facility of each life-circle type, to
    every demand point (frames in the graph's CRS, with ``id``)."""
    demand = demand.reset_index(drop=True)
    points, owner = demand_points(demand, gates, gate_key=gate_key)
    snapped = snap_xy(graph, point_coordinates(points), max_snap_m=params.max_snap_m)
    return WhatIfBaseline(
        graph=graph,
        params=params,
        units=demand_units(demand, population=population, area_keys=area_keys),
        demand=snapped,
        per_owner=PerOwner(np.asarray(owner), len(demand)),
        centres=_keep_walks(graph, snapped, centres, params),
        types=tuple(
            (kind.requirement, _keep_walks(graph, snapped, kind.facilities, params))
            for kind in types
        ),
    )


class _SiteWalks:
    """Walks from the proposed sites to the demand points, one search per distinct group
    of sites asked for (the centres: all; a type: those offering it), bounded by
    ``limit_m``: the longest walk a demand point has in any set the sites merge into."""

    def __init__(self, baseline: WhatIfBaseline, sites: np.ndarray, limit_m: float):
        self.baseline, self.sites, self.limit = baseline, sites, limit_m
        self._entries: tuple[np.ndarray, AugmentedGraph] | None = None
        self._runs: dict[tuple, np.ndarray] = {}

    def _snapped(self) -> tuple[np.ndarray, AugmentedGraph]:
        if self._entries is None:
            xy, owner = entry_points(self.sites)
            graph, snap_m = self.baseline.graph, self.baseline.params.max_snap_m
            self._entries = owner, AugmentedGraph(graph, snap_xy(graph, xy, max_snap_m=snap_m))
        return self._entries

    def merged(self, point_m: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """``point_m`` with the sites ``chosen`` (booleans) open."""
        if not chosen.any():
            return point_m
        key = tuple(np.flatnonzero(chosen))
        if key not in self._runs:
            owner, entries = self._snapped()
            subset = np.flatnonzero(chosen[owner])
            walks, _ = point_distances(
                self.baseline.graph,
                entries.node_distances(subset, limit_m=self.limit),
                entries.sources,
                self.baseline.demand,
                limit_m=self.limit,
                subset=subset,
            )
            self._runs[key] = walks
        return np.minimum(point_m, self._runs[key])


def what_if(baseline: WhatIfBaseline, added: gpd.GeoDataFrame, removed: list[str]) -> dict:
    """The answer of :func:`~.scenario.scenario_outcome` to opening the proposed sites
    ``added`` (``id``, ``level``, ``services`` and geometry, the graph's CRS) and closing
    the centres ``removed`` (ids), from the walks of ``baseline``. An id that is no
    centre is refused."""
    unknown = sorted(set(removed) - baseline.centre_ids)
    if unknown:
        raise InvalidQuery(f"no service centre {', '.join(unknown)} to close")
    demand = baseline.demand
    closed = [baseline.centres.closed(demand, removed)]
    closed += [walks.closed(demand, removed) for _, walks in baseline.types]
    reachable = demand.ok
    longest = (
        max((float(c[reachable].max()) for c in closed), default=0.0) if len(reachable) else 0.0
    )
    sites = _SiteWalks(baseline, added.geometry.to_numpy(), longest)
    after = sites.merged(closed[0], np.ones(len(added), dtype=bool))
    centres_before, type_before = baseline.before
    type_after = []
    for (requirement, walks), kept, before in zip(
        baseline.types, closed[1:], type_before, strict=True
    ):
        merged = sites.merged(kept, offers(added, requirement))
        type_after.append(before if merged is walks.point_m else baseline.per_feature(merged))
    snapped = snap_xy(
        baseline.graph,
        point_coordinates(shapely.point_on_surface(added.geometry.to_numpy())),
        max_snap_m=baseline.params.max_snap_m,
    )
    requirements = [requirement for requirement, _ in baseline.types]
    return scenario_outcome(
        baseline.units,
        centres_before,
        baseline.per_feature(after),
        baseline.params,
        site_report(added["id"].astype(str).tolist(), snapped),
        type_changes(
            baseline.units,
            requirements,
            type_before,
            type_after,
            baseline.params,
            baseline.finest_area,
        ),
    )


def life_circle_facilities(
    metric: dict[str, gpd.GeoDataFrame], config: AnalysisConfig, crs: object
) -> list[TypeFacilities]:
    """Each life-circle type with its facilities among the input layers (metric CRS)."""
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=crs)
    return [
        TypeFacilities(r, r.facilities.select(metric.get(r.facilities.layer, empty)))
        for r in life_circle_requirements(config)
    ]


def headline_baseline(
    metric: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
    graph: WalkGraph,
) -> WhatIfBaseline:
    """The baseline of the headline figures' facilities (so that "before" is the
    published figure) and of the life-circle types, from the input layers present
    (metric CRS)."""
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=graph.crs)
    return whatif_baseline(
        graph,
        metric[config.demand_layer],
        metric.get(config.gates_layer) if config.gates_layer else None,
        facility_set(headline).select(metric.get(headline.layer, empty)),
        params,
        gate_key=config.gate_key,
        population=config.population,
        area_keys=tuple(a.key for a in config.areas),
        types=life_circle_facilities(metric, config, graph.crs),
    )
