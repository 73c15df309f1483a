"""What a service (or a command that answers like one) starts from: the configured store,
checked, its coverage layers brought up to date, and the live coverage context."""

from __future__ import annotations

from geo_service.data.catalog import load_catalog
from geo_service.data.derived import (
    check_district_crs,
    derived_layer_ids,
    district_profile,
    read_inputs_with_versions,
    store_bounds,
)
from geo_service.data.stores import LayerStore, open_configured_store
from geo_service.pipeline.coverage_context import CoverageContext, coverage_context
from geo_service.pipeline.derived_layers import compute_derived
from geo_service.settings import Settings


def load_data(settings: Settings) -> tuple[LayerStore, CoverageContext | None]:
    """The store named by ``settings``, checked, with its derived (coverage) layers brought
    up to date, and the live coverage context. Raises on the first problem (a broken
    profile, catalog or layer, a metric CRS that misses the data)."""
    catalog = load_catalog(settings.catalog_dir)
    profile = district_profile(settings)
    store = open_configured_store(settings, catalog)
    context = None
    if derived_layer_ids(catalog):
        frames, versions = read_inputs_with_versions(store, profile)  # once, for both
        manifest = compute_derived(
            store, settings, profile=profile, frames=frames, versions=versions
        )
        context = coverage_context(store, settings, manifest, profile, frames)
    else:
        check_district_crs(settings, profile, store_bounds(store))
    return store, context
