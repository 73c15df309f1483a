"""``/locator``: the public service-centre locator's API — nearest centres on foot.

The answers come from :class:`~geo_service.analysis.locator.LocatorIndex`, built from the
data on the first request and kept for the app's life (the data does not change under it).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geo_service.analysis.holiday_hours import holiday_calendar
from geo_service.analysis.locator import LocatorIndex
from geo_service.api.deps import ProfileDep, StoreDep
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.data.stores import LayerStore
from geo_service.errors import InvalidQuery, LayerNotFound
from geo_service.pipeline.coverage_context import CoverageContext

router = APIRouter(prefix="/locator", tags=["locator"])

MAX_RESULTS = 20


def _local_time(at: str | None, zone: ZoneInfo) -> datetime:
    """``at`` (or now) as a naive local time in the district's time zone ``zone``."""
    if at is None:
        return datetime.now(zone).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidQuery(f"at must be an ISO 8601 date and time, not {at!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


@router.get(
    "/nearest",
    summary="Nearest service centres on foot",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
async def nearest(
    request: Request,
    store: StoreDep,
    profile: ProfileDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude (WGS 84).")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude (WGS 84).")],
    n: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="How many centres.")] = 5,
    service: Annotated[
        str | None,
        Query(
            description="Only centres offering this service (a key of the district's "
            "services vocabulary, see the district profile)."
        ),
    ] = None,
    open_now: Annotated[bool, Query(description="Only centres open at 'at'.")] = False,
    at: Annotated[
        str | None,
        Query(
            description="Time to check opening hours (ISO 8601; without an offset, the "
            "district's local time; default: now)."
        ),
    ] = None,
) -> Response:
    """The nearest service centres along the walking network from a point: distance,
    minutes, services, address and phone (null where the data has none), opening hours,
    open now, the hours of the 7 days from the date of 'at' (``week``: each day's date
    and open intervals, local "HH:MM", "24:00" for midnight at the end of a day; an empty
    list is a day closed), the walking route and phone-map links."""
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("the locator is not available for this catalog")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidQuery("lon and lat must be finite numbers")
    services = profile.analysis.service_keys
    if service is not None and service not in services:
        raise InvalidQuery(f"service must be one of {', '.join(services) or '(none offered)'}")
    moment = _local_time(at, profile.zone)
    # Routing (and building the index on first use) is CPU work: off the event loop.
    index = await run_in_threadpool(_index, request, store, context)
    body = await run_in_threadpool(
        partial(index.nearest, n=n, service=service, open_now=open_now, moment=moment), lon, lat
    )
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type=GEOJSON_MEDIA_TYPE
    )


def _index(request: Request, store: LayerStore, context: CoverageContext) -> LocatorIndex:
    """The app's locator index, built on first use (and again if its data is replaced)."""
    cached = request.app.state.locator_index
    if cached is not None and cached[0] is store and cached[1] is context:
        return cached[2]
    profile = context.profile
    index = LocatorIndex.build(
        store.query("district"),
        store.query(profile.analysis.centre_layer),
        context.graph,
        context.params,
        apps=profile.map_links,
        in_china=profile.in_china,
        language=profile.languages[0],
        holidays=holiday_calendar(
            profile.holidays or profile.country, extra=profile.extra_holidays
        ),
    )
    request.app.state.locator_index = (store, context, index)
    return index
