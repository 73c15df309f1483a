"""``create_app``: the FastAPI application, built from settings and a store."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from geo_service import __version__
from geo_service.api.errors import add_exception_handlers
from geo_service.api.routers import coverage, health, landing, layers, summary
from geo_service.data.catalog import load_catalog
from geo_service.data.derived import (
    CoverageContext,
    compute_derived,
    coverage_context,
    derived_layer_ids,
)
from geo_service.data.stores import FileStore, LayerStore
from geo_service.settings import Settings


def load_data(settings: Settings) -> tuple[FileStore, CoverageContext | None]:
    """The catalog and data named by ``settings``, checked, with the derived (coverage)
    layers brought up to date first, and the live coverage context. Raises on the first
    problem."""
    catalog = load_catalog(settings.catalog_dir)
    coverage = None
    if derived_layer_ids(catalog):
        manifest = compute_derived(catalog, settings)
        coverage = coverage_context(catalog, settings, manifest)
    return FileStore(catalog, settings.data_dir, settings.derived_dir), coverage


def create_app(settings: Settings | None = None, store: LayerStore | None = None) -> FastAPI:
    """The application. Loads and validates the data now, so a broken catalog or data
    file stops start-up with one message instead of failing on the first request."""
    settings = settings or Settings()
    app = FastAPI(
        title="geo_service",
        version=__version__,
        description="Walking-distance coverage of community service centres "
        "(15-minute life circle), served as GeoJSON.",
    )
    app.state.settings = settings
    live_coverage = None
    if store is None:
        store, live_coverage = load_data(settings)
    app.state.store = store
    app.state.coverage = live_coverage
    app.state.geojson_cache = {}
    add_exception_handlers(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    for module in (landing, health, layers, summary, coverage):
        app.include_router(module.router)
    return app
