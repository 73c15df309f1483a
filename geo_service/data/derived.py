"""The data side of the derived layers (the coverage results): the district's profile and
metric CRS, the input layers read from the store, and whether the derived layers are fresh.

A manifest (the store's ``coverage`` note) records the digest of the inputs' versions and
the parameters the results were made from; :mod:`geo_service.pipeline.derived_layers`
computes the layers and writes it, :func:`is_fresh` compares it with the inputs now.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from geo_service import __version__
from geo_service.coverage_params import CoverageParams, circles_for
from geo_service.crs import Bounds, check_metric_crs
from geo_service.data.catalog import Catalog
from geo_service.data.profile import DistrictProfile, load_profile
from geo_service.data.stores.base import LayerStore
from geo_service.errors import DataValidationError
from geo_service.settings import Settings

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
        circle_polygons_max_segments=settings.circle_polygons_max_segments,
    )


def params_record(params: CoverageParams) -> dict:
    """``params`` as the manifest records them (plain JSON; distances in metres)."""
    return {
        "circles": [{"minutes": c.minutes, "distance_m": c.distance_m} for c in params.circles],
        "walking_speed_mps": params.walking_speed_mps,
        "max_snap_m": params.max_snap_m,
        "circle_buffer_m": params.circle_buffer_m,
        "life_circle_min_share": params.life_circle_min_share,
        "criterion": params.criterion,
        "circle_polygons_max_segments": params.circle_polygons_max_segments,
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
        "params": params_record(coverage_params(settings)),
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
