"""``geo-service maps build``: the map pages as standalone files in a folder, with their
static assets beside them. The planner map carries its features and search index inline,
so it opens from disk with no server and no internet; the locator calls the API at
``api_url`` for its walking routes."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from geo_service.data.catalog import LayerSpec
from geo_service.data.gazetteer import build_gazetteer, place_feature
from geo_service.data.geojson_io import layer_geojson
from geo_service.data.profile import DistrictProfile
from geo_service.data.stores.base import LayerStore
from geo_service.maps.client_layers import used_properties
from geo_service.maps.definition import MapLayer
from geo_service.maps.page import PageBase
from geo_service.maps.pages import STATIC_DIR, MapPages
from geo_service.settings import Settings

log = logging.getLogger(__name__)


def inline_features(store: LayerStore, spec: LayerSpec, entry: MapLayer) -> dict:
    """The features of ``spec`` a map entry draws (its filter, only the properties it
    reads) as a GeoJSON FeatureCollection in WGS 84."""
    frame = store.query(spec.id)
    for name, value in entry.filter.items():
        frame = frame[frame[name] == value]
    frame = frame[[*used_properties(spec, entry), "geometry"]]
    collection = json.loads(layer_geojson(spec, frame))
    log.info("map layer %s: %d features inlined", spec.id, len(collection["features"]))
    return collection


def build_maps(
    settings: Settings,
    store: LayerStore,
    profile: DistrictProfile,
    out_dir: Path,
    api_url: str,
) -> list[Path]:
    """Write ``planner.html``, ``locator.html`` and ``static/`` into ``out_dir`` (replaced
    whole, so a failed build leaves the previous one in place). Public layers only.

    Parameters
    ----------
    api_url
        Root URL of a running geo_service the locator page calls (it must allow the
        page's origin in ``cors_origins``).
    """
    api_url = api_url.rstrip("/") + "/"
    pages = MapPages(settings, store, profile, base=PageBase(static="static/", api=None))
    gazetteer = build_gazetteer(store.catalog, store)
    index = {"type": "FeatureCollection", "features": [place_feature(p) for p in gazetteer.places]}
    planner = pages.planner(
        "public", features=lambda spec, entry: inline_features(store, spec, entry), index=index
    )
    locator = MapPages(
        settings, store, profile, base=PageBase(static="static/", api=api_url)
    ).locator()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        (staging / "planner.html").write_text(planner, encoding="utf-8")
        (staging / "locator.html").write_text(locator, encoding="utf-8")
        shutil.copytree(STATIC_DIR, staging / "static")
        previous = out_dir.with_name(out_dir.name + ".previous")
        shutil.rmtree(previous, ignore_errors=True)
        if out_dir.exists():
            out_dir.rename(previous)
        staging.rename(out_dir)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    written = [out_dir / "planner.html", out_dir / "locator.html"]
    for path in written:
        log.info("wrote %s (%d bytes)", path, path.stat().st_size)
    return written
