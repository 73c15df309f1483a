"""Derived layers (the coverage results): computed from the input layers read from the
store, written back to it, and recomputed when an input layer or a parameter changes.

A manifest (the store's ``coverage`` note) records the digest of the inputs' versions and
the parameters the results were made from, the run's summary and its timings. The walking
graph is cached in the derived folder, keyed by the roads layer's version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from geo_service import __version__
from geo_service.analysis.figures import DemandAccess, demand_access
from geo_service.analysis.network import WalkGraph, build_walk_graph
from geo_service.analysis.params import CoverageParams, circles_for
from geo_service.analysis.run import CoverageResult, run_coverage
from geo_service.analysis.whatif import WhatIfBaseline, headline_baseline
from geo_service.crs import Bounds, check_metric_crs, to_metric
from geo_service.data.catalog import Catalog
from geo_service.data.profile import DistrictProfile, check_against_catalog, load_profile
from geo_service.data.stores.base import LayerStore
from geo_service.errors import DataValidationError
from geo_service.settings import Settings

log = logging.getLogger(__name__)

#: The store note that holds the manifest (``coverage.json`` in a file store).
MANIFEST = "coverage"


def district_profile(settings: Settings) -> DistrictProfile:
    """The profile of the settings' district folder."""
    return load_profile(settings.profile_path)


def metric_crs(settings: Settings, profile: DistrictProfile) -> str:
    """The metric CRS: the settings' override, else the profile's."""
    return settings.metric_crs or profile.metric_crs


def input_layers(catalog: Catalog, profile: DistrictProfile) -> list[str]:
    """The coverage run's input layers this district's catalog has."""
    return [name for name in profile.analysis.input_layers() if name in catalog]


def file_bounds(catalog: Catalog, data_dir: Path) -> Bounds:
    """Lon/lat bounds of every source (not derived) layer file, read from the files' headers."""
    boxes = []
    for spec in catalog:
        path = data_dir / spec.source
        if spec.derived or not path.is_file():
            continue
        info = pyogrio.read_info(path, force_total_bounds=True)
        if info["features"] and np.all(np.isfinite(info["total_bounds"])):
            boxes.append(info["total_bounds"])
    if not boxes:
        raise DataValidationError(f"{data_dir}: no layer has any feature")
    box = np.array(boxes)
    return (*box[:, :2].min(axis=0).tolist(), *box[:, 2:].max(axis=0).tolist())


def store_bounds(store: LayerStore) -> Bounds:
    """Lon/lat bounds of every source (not derived) layer in ``store``."""
    boxes = [store.extent(s.id) for s in store.catalog if not s.derived and store.has(s.id)]
    boxes = [box for box in boxes if box is not None]
    if not boxes:
        raise DataValidationError("no layer has any feature")
    box = np.array(boxes)
    return (*box[:, :2].min(axis=0).tolist(), *box[:, 2:].max(axis=0).tolist())


def check_district_crs(settings: Settings, profile: DistrictProfile, bounds: Bounds) -> str:
    """The metric CRS, checked against the data's lon/lat ``bounds`` (:class:`UnsuitableCRS`
    if it misses the data)."""
    crs = metric_crs(settings, profile)
    check_metric_crs(crs, bounds)
    return crs


def coverage_params(settings: Settings) -> CoverageParams:
    """The coverage parameters the settings ask for."""
    return CoverageParams(
        circles=circles_for(
            settings.circle_criterion,
            settings.walking_speed_mps,
            (settings.circle_5_m, settings.circle_10_m, settings.circle_15_m),
        ),
        walking_speed_mps=settings.walking_speed_mps,
        criterion=settings.circle_criterion,
        max_snap_m=settings.max_snap_m,
        circle_buffer_m=settings.circle_buffer_m,
        life_circle_min_share=settings.life_circle_min_share,
    )


def _params_record(params: CoverageParams) -> dict:
    return {
        "circles": [{"minutes": c.minutes, "distance_m": c.distance_m} for c in params.circles],
        "walking_speed_mps": params.walking_speed_mps,
        "max_snap_m": params.max_snap_m,
        "circle_buffer_m": params.circle_buffer_m,
        "life_circle_min_share": params.life_circle_min_share,
        "criterion": params.criterion,
    }


def inputs_digest(store: LayerStore, settings: Settings, profile: DistrictProfile) -> str:
    """Digest of the store's input layer versions, the parameters, the analysis
    configuration, the metric CRS and the version of geo_service."""
    versions = {i: store.version(i) for i in input_layers(store.catalog, profile)}
    return versions_digest(versions, settings, profile)


def versions_digest(
    versions: Mapping[str, str], settings: Settings, profile: DistrictProfile
) -> str:
    """:func:`inputs_digest` from the input layers' versions (layer id → version)."""
    digest = hashlib.sha256()
    for layer_id, version in versions.items():
        digest.update(layer_id.encode())
        digest.update(version.encode())
    record = {
        "params": _params_record(coverage_params(settings)),
        "crs": metric_crs(settings, profile),
        "analysis": profile.analysis.model_dump(mode="json"),
        "version": __version__,
    }
    digest.update(json.dumps(record, sort_keys=True).encode())
    return digest.hexdigest()


def derived_layer_ids(catalog: Catalog) -> list[str]:
    """Ids of the catalog's derived layers."""
    return [spec.id for spec in catalog if spec.derived]


def is_fresh(store: LayerStore, settings: Settings, profile: DistrictProfile) -> bool:
    """Whether the store holds every derived layer, made from the current inputs."""
    manifest = store.read_note(MANIFEST)
    if manifest is None or manifest.get("digest") != inputs_digest(store, settings, profile):
        return False
    return all(store.has(i) for i in derived_layer_ids(store.catalog))


def load_graph(store: LayerStore, settings: Settings, roads, crs: str) -> WalkGraph:
    """The walking graph of the roads layer in metric CRS ``crs``, from the cache (in the
    derived folder) when the roads are unchanged."""
    key = hashlib.sha256(store.version("roads").encode()).hexdigest()[:20]
    path = settings.derived_dir / f"graph-{key}-{crs.replace(':', '')}.npz"
    if path.is_file():
        with np.load(path) as cached:
            graph = WalkGraph(
                cached["nodes"],
                cached["edge_u"],
                cached["edge_v"],
                cached["edge_length"],
                crs=crs,
            )
        log.info("network: cached graph %s", path.name)
        return graph
    graph = build_walk_graph(roads, crs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        nodes=graph.nodes,
        edge_u=graph.edge_u,
        edge_v=graph.edge_v,
        edge_length=graph.edge_length,
    )
    tmp.replace(path)
    for old in path.parent.glob("graph-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return graph


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
    current run; ``frames``: the input layers if already read (:func:`read_inputs`)."""
    frames = frames if frames is not None else read_inputs(store, profile)
    crs = metric_crs(settings, profile)
    graph = load_graph(store, settings, frames["roads"], crs)
    params = coverage_params(settings)
    metric = {name: to_metric(frame, crs) for name, frame in frames.items()}
    access = demand_access(metric, params, profile.analysis, graph)
    whatif = headline_baseline(metric, params, profile.analysis, graph)
    return CoverageContext(graph, params, manifest, profile, access, whatif)


def read_inputs(store: LayerStore, profile: DistrictProfile) -> dict[str, gpd.GeoDataFrame]:
    """The coverage run's input layers this district has (EPSG:4326, stored order,
    numbered from 0), read from the store."""
    return {
        layer_id: store.query(layer_id).reset_index(drop=True)
        for layer_id in input_layers(store.catalog, profile)
    }


def read_inputs_with_versions(
    store: LayerStore, profile: DistrictProfile, attempts: int = 5
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str]]:
    """:func:`read_inputs`, and the version of each input layer they were read at (read
    again if a layer changed while they were read)."""
    layers = input_layers(store.catalog, profile)
    for _ in range(attempts):
        before = {layer_id: store.version(layer_id) for layer_id in layers}
        frames = read_inputs(store, profile)
        if before == {layer_id: store.version(layer_id) for layer_id in layers}:
            return frames, before
    raise DataValidationError("the input layers kept changing while they were read")


def _inputs_record(store: LayerStore, versions: Mapping[str, str]) -> dict[str, dict]:
    """Per input layer: the version token and, for a versioned layer, its number."""
    record = {}
    for layer_id, version in versions.items():
        numbers = [v.number for v in store.history(layer_id) if v.version == version]
        record[layer_id] = {"version": version, "number": numbers[-1] if numbers else None}
    return record


def compute_derived(
    store: LayerStore,
    settings: Settings,
    *,
    force: bool = False,
    profile: DistrictProfile | None = None,
    frames: dict[str, gpd.GeoDataFrame] | None = None,
    versions: Mapping[str, str] | None = None,
) -> dict:
    """Make sure the store's derived layers are current; compute and write them if not.
    ``frames``: the input layers if already read, at ``versions`` (default: the store's
    versions now; see :func:`read_inputs_with_versions`).

    Returns the manifest (with the input versions the layers were computed from). Raises
    :class:`DataValidationError` if a result breaks its catalog entry and
    :class:`UnsuitableCRS` if the metric CRS misses the data.
    """
    profile = profile or district_profile(settings)
    catalog = store.catalog
    check_against_catalog(profile, catalog)
    crs = check_district_crs(settings, profile, store_bounds(store))
    if not force and is_fresh(store, settings, profile):
        log.info("coverage: derived layers are current")
        return store.read_note(MANIFEST)
    started = time.perf_counter()
    if frames is None:
        frames, versions = read_inputs_with_versions(store, profile)
    if versions is None:
        versions = {layer_id: store.version(layer_id) for layer_id in frames}
    log.info("coverage: computing from %d input layers", len(frames))
    graph = load_graph(store, settings, frames["roads"], crs)
    result: CoverageResult = run_coverage(
        frames, coverage_params(settings), profile.analysis, graph=graph, metric_crs=crs
    )
    for layer_id in derived_layer_ids(catalog):
        spec = catalog.get(layer_id)
        store.write(
            layer_id,
            result.layers[layer_id],
            description=f"{spec.title.en} (derived by geo-service "
            "coverage; synthetic where its inputs are)",
        )
    manifest = {
        "digest": versions_digest(versions, settings, profile),
        "inputs": _inputs_record(store, versions),
        "version": __version__,
        "params": _params_record(coverage_params(settings)),
        "summary": result.summary,
        "timings_s": result.timings_s | {"total": round(time.perf_counter() - started, 3)},
    }
    store.write_note(MANIFEST, _plain(manifest))
    log.info(
        "coverage: wrote %d derived layers in %.1f s",
        len(derived_layer_ids(catalog)),
        time.perf_counter() - started,
    )
    return manifest


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _plain(document: dict) -> dict:
    """``document`` with numpy numbers made plain JSON values (the same in every store)."""
    return json.loads(json.dumps(document, default=_json_default))
