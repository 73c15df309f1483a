"""What the application keeps between requests (``app.state``), declared with its types.

``create_app`` sets every field; routes and dependencies read it through
:func:`service_state` (or ``request.app.state``). A test checks that what ``create_app``
sets is exactly what is declared here, of the declared types.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import State

from geo_service.api.compute import ComputePool
from geo_service.api.ogc.features import FeatureEncoder
from geo_service.api.ogc.tiles import TileCache
from geo_service.api.rate_limit import RateLimiter
from geo_service.api.refresh import CoverageRefresh
from geo_service.data.audit import AuditLog
from geo_service.data.gazetteer import Gazetteer
from geo_service.data.keys import KeyStore
from geo_service.data.profile import DistrictProfile
from geo_service.data.scenarios import ScenarioStore
from geo_service.data.stores import LayerStore
from geo_service.importing.uploads import PendingUploads
from geo_service.maps.pages import MapPages
from geo_service.pipeline.coverage_context import CoverageContext
from geo_service.settings import Settings


class ServiceState(State):
    """The application's state. ``coverage``, ``gazetteer`` and ``pages`` are replaced
    whole (never changed in place) when the coverage is recomputed after an edit."""

    settings: Settings
    profile: DistrictProfile
    store: LayerStore
    #: The coverage results and the walks behind them; None for a catalog without coverage.
    coverage: CoverageContext | None
    gazetteer: Gazetteer
    pages: MapPages
    #: Encoded GeoJSON of whole layers, by (layer, version).
    geojson_cache: dict
    feature_encoder: FeatureEncoder
    #: Encoded vector tiles, by layer version and request.
    tile_cache: TileCache
    keys: KeyStore
    audit: AuditLog
    scenarios: ScenarioStore
    refresh: CoverageRefresh
    uploads: PendingUploads
    rate_limiter: RateLimiter
    compute: ComputePool
    #: The locator's index of centres, with the store and coverage it was built from.
    locator_index: tuple | None
    #: The district outline in metres for siting, with the store it was read from.
    planning_district: tuple | None


def service_state(request: Request) -> ServiceState:
    """The state of the application answering ``request``."""
    return request.app.state
