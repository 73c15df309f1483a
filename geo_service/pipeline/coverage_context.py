"""The coverage context: what the service keeps in memory to answer coverage questions live
(the walking graph, the parameters, the manifest, the unrounded access and the what-if
baseline of the current run)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geo_service.analysis.figures import DemandAccess, demand_access
from geo_service.analysis.network import WalkGraph
from geo_service.analysis.whatif import WhatIfBaseline, headline_baseline
from geo_service.coverage_params import CoverageParams
from geo_service.crs import to_metric
from geo_service.data.derived import coverage_params, metric_crs, read_inputs
from geo_service.data.profile import DistrictProfile
from geo_service.data.stores.base import LayerStore
from geo_service.pipeline.graph_cache import load_graph
from geo_service.settings import Settings


@dataclass(frozen=True)
class CoverageContext:
    """What the service needs to answer coverage questions live."""

    graph: WalkGraph
    params: CoverageParams
    manifest: dict
    profile: DistrictProfile
    access: DemandAccess
    whatif: WhatIfBaseline


def coverage_context(
    store: LayerStore,
    settings: Settings,
    manifest: dict,
    profile: DistrictProfile,
    frames: dict[str, gpd.GeoDataFrame] | None = None,
) -> CoverageContext:
    """The walking graph (from the cache), parameters, manifest and unrounded access of the
    current run; ``frames``: the input layers if already read
    (:func:`~geo_service.data.derived.read_inputs`)."""
    frames = frames if frames is not None else read_inputs(store, profile)
    crs = metric_crs(settings, profile)
    graph = load_graph(store, settings, frames["roads"], crs)
    params = coverage_params(settings)
    metric = {name: to_metric(frame, crs) for name, frame in frames.items()}
    access = demand_access(metric, params, profile.analysis, graph)
    whatif = headline_baseline(metric, params, profile.analysis, graph)
    return CoverageContext(graph, params, manifest, profile, access, whatif)
