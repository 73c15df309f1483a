"""``create_app``: the FastAPI application, built from settings and a store."""

from __future__ import annotations

import contextlib

import limits
import swagger_ui_bundle
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from geo_service import __version__
from geo_service.api.compute import ComputePool
from geo_service.api.deps import reject_unknown_parameters
from geo_service.api.errors import ERROR_RESPONSES, add_exception_handlers
from geo_service.api.limits import RequestLimitsMiddleware
from geo_service.api.middleware import ResponseMiddleware
from geo_service.api.ogc.features import FeatureEncoder
from geo_service.api.ogc.tiles import TileCache
from geo_service.api.rate_limit import RateLimiter
from geo_service.api.refresh import CoverageRefresh
from geo_service.api.routers import (
    collections,
    coverage,
    docs,
    downloads,
    edits,
    health,
    items,
    landing,
    layers,
    locator,
    pages,
    places,
    planning,
    reports,
    scenarios,
    summary,
    tiles,
    uploads,
    versions,
)
from geo_service.api.state import ServiceState
from geo_service.data.audit import AuditLog
from geo_service.data.derived import (
    district_profile,
)
from geo_service.data.gazetteer import build_gazetteer
from geo_service.data.keys import KeyStore
from geo_service.data.profile import DistrictProfile
from geo_service.data.scenarios import ScenarioStore
from geo_service.data.stores import LayerStore
from geo_service.errors import ProfileError
from geo_service.importing.uploads import PendingUploads
from geo_service.maps.pages import STATIC_DIR, STATIC_ROUTE, MapPages
from geo_service.maps.tiles import tile_hosts
from geo_service.pipeline.service_data import load_data
from geo_service.settings import Settings


def check_basemaps(settings: Settings, profile: DistrictProfile) -> None:
    """Refuse China's tile basemaps (Amap in GCJ-02, Tianditu) for a district elsewhere."""
    chinese = sorted({"amap", "tianditu"} & set(settings.basemaps))
    if chinese and not profile.in_china:
        raise ProfileError(
            f"basemaps {', '.join(chinese)} cover China only; this district is in "
            f"{profile.country} (use osm, or none)"
        )


def create_app(settings: Settings | None = None, store: LayerStore | None = None) -> FastAPI:
    """The application. Loads and validates the data now, so a broken catalog or data
    file stops start-up with one message instead of failing on the first request."""
    settings = settings or Settings()
    compute = ComputePool(
        settings.compute_workers,
        settings.compute_nice,
        settings.request_timeout_s,
        idle=settings.compute_idle,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        locator.prepare(app.state)
        if app.state.coverage is not None:  # ready to answer before the server accepts
            await run_in_threadpool(compute.prepare, app.state.coverage)
        yield
        compute.close()

    app = FastAPI(
        lifespan=lifespan,
        title="geo_service",
        version=__version__,
        description="Walking-distance coverage of community service centres "
        "(15-minute life circle), as OGC API – Features, GeoJSON and downloads.",
        dependencies=[Depends(reject_unknown_parameters)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    context = None
    if store is None:
        store, context = load_data(settings)
    app.state = ServiceState()
    app.state.settings = settings
    app.state.profile = district_profile(settings)
    check_basemaps(settings, app.state.profile)
    app.state.store = store
    app.state.coverage = context
    app.state.gazetteer = build_gazetteer(store.catalog, store)
    app.state.pages = MapPages(settings, store, app.state.profile)
    app.state.geojson_cache = {}
    app.state.feature_encoder = FeatureEncoder()
    app.state.tile_cache = TileCache()
    pepper = settings.api_key_secret.get_secret_value() if settings.api_key_secret else None
    app.state.keys = KeyStore(settings.state_dir / "keys.json", pepper)
    app.state.audit = AuditLog(settings.state_dir / "audit.log")
    app.state.scenarios = ScenarioStore(settings.state_dir / "scenarios.json")
    app.state.refresh = CoverageRefresh(app.state)
    app.state.uploads = PendingUploads(settings.state_dir / "uploads", settings.upload_hours)
    add_exception_handlers(app)
    app.state.rate_limiter = RateLimiter(
        limits.RateLimitItemPerMinute(settings.rate_limit_per_minute),
        settings.rate_limit_storage,
    )
    app.state.compute = compute
    app.state.locator_index = None
    app.state.planning_district = None
    app.add_middleware(ResponseMiddleware, image_hosts=tile_hosts(settings.basemaps))
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "X-API-Key",
            "Content-Type",
            "If-None-Match",
            "If-Match",
        ],
        expose_headers=["ETag", "Content-Crs", "Content-Disposition", "Retry-After"],
    )
    app.add_middleware(
        RequestLimitsMiddleware,
        max_query_chars=settings.max_query_chars,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        timeout_s=settings.request_timeout_s,
        upload_timeout_s=settings.upload_timeout_s,
    )
    for module in (
        locator,  # first: the public's hot route is matched before ~100 others
        landing,
        collections,
        items,
        tiles,
        downloads,
        layers,
        versions,
        uploads,
        edits,
        coverage,
        scenarios,
        planning,
        reports,
        places,
        pages,
        summary,
        health,
        docs,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.mount(
        "/static/swagger-ui",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )
    app.mount(STATIC_ROUTE, StaticFiles(directory=STATIC_DIR), name="maps-static")
    return app
