"""Derived layers (the coverage results): computed from the input layers read from the
store, written back to it, and recomputed when an input layer or a parameter changes.

The manifest written beside them (the store's ``coverage`` note) records the digest of the
inputs' versions and the parameters the results were made from, the run's summary and its
timings (:mod:`geo_service.data.derived` reads it back to tell whether they are fresh).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping

import geopandas as gpd
import numpy as np

from geo_service import __version__
from geo_service.analysis.run import CoverageResult, run_coverage
from geo_service.coverage_params import CoverageParams
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.data.derived import (
    MANIFEST,
    check_district_crs,
    coverage_params,
    derived_layer_ids,
    district_profile,
    is_fresh,
    params_record,
    read_inputs_with_versions,
    store_bounds,
    versions_digest,
)
from geo_service.data.profile import DistrictProfile, check_against_catalog
from geo_service.data.stores.base import LayerStore
from geo_service.pipeline.graph_cache import load_graph
from geo_service.settings import Settings

log = logging.getLogger(__name__)

#: Computes a run: (input layers, parameters, analysis config, metric CRS) -> result.
Runner = Callable[[dict, CoverageParams, AnalysisConfig, str], CoverageResult]


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
    runner: Runner | None = None,
) -> dict:
    """Make sure the store's derived layers are current; compute and write them if not.
    ``frames``: the input layers if already read, at ``versions`` (default: the store's
    versions now; see :func:`~geo_service.data.derived.read_inputs_with_versions`).
    ``runner``: what computes the run from the input layers (default: :func:`run_coverage`
    in this process, on the cached walking graph; the batch passes one that runs on Dask).

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
    if runner is None:
        graph = load_graph(store, settings, frames["roads"], crs)
        result: CoverageResult = run_coverage(
            frames, coverage_params(settings), profile.analysis, graph=graph, metric_crs=crs
        )
    else:
        result = runner(frames, coverage_params(settings), profile.analysis, crs)
    writing = time.perf_counter()
    for layer_id in derived_layer_ids(catalog):  # the reached streets drawn as written
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
        "params": params_record(coverage_params(settings)),
        "summary": result.summary,
        "timings_s": result.timings_s
        | {
            "write": round(time.perf_counter() - writing, 3),
            "total": round(time.perf_counter() - started, 3),
        },
        "engine": result.engine,
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
