"""``/locator``: the public service-centre locator's API — nearest centres on foot.

The answers come from :class:`~geo_service.analysis.locator.LocatorIndex`, built from the
data when the server starts (:func:`prepare`, in a thread) or else on the first request,
and kept for the app's life (the data does not change under it).
"""

from __future__ import annotations

import contextlib
import math
import threading
from datetime import datetime
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

import anyio
import orjson
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geo_service.analysis.holiday_hours import holiday_calendar
from geo_service.analysis.locator import LocatorIndex
from geo_service.api.deps import ProfileDep, StoreDep
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.api.state import ServiceState
from geo_service.data.stores import LayerStore
from geo_service.errors import GeoServiceError, InvalidQuery, LayerNotFound
from geo_service.pipeline.coverage_context import CoverageContext

router = APIRouter(prefix="/locator", tags=["locator"])

MAX_RESULTS = 20
#: Held while an index is built: requests that come meanwhile wait for it, not build their own.
_BUILDING = threading.Lock()
#: One answer at a time per event loop, in a thread: answers computed at once in several
#: threads would share the GIL and all finish late (bench/locator.py: p99 ~23 ms with the
#: shared thread pool at 8 connections, ~15 ms so).
_ANSWERING: RunVar[anyio.CapacityLimiter] = RunVar("locator_answering")


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
    state = request.app.state
    context = state.coverage
    if context is None:
        raise LayerNotFound("the locator is not available for this catalog")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidQuery("lon and lat must be finite numbers")
    services = profile.analysis.service_keys
    if service is not None and service not in services:
        raise InvalidQuery(f"service must be one of {', '.join(services) or '(none offered)'}")
    moment = _local_time(at, profile.zone)
    index = _built_index(state, store, context)
    if index is None:  # reads the store and takes ~0.1 s: off the event loop
        index = await run_in_threadpool(_index, state, store, context)
    # Routing is CPU work: off the event loop, the answer and its encoding in one hop.
    answer = partial(answer_bytes, index, n=n, service=service, open_now=open_now, moment=moment)
    body = await anyio.to_thread.run_sync(answer, lon, lat, limiter=_answering())
    return Response(body, media_type=GEOJSON_MEDIA_TYPE)


def _answering() -> anyio.CapacityLimiter:
    """This event loop's limiter of locator answers (:data:`_ANSWERING`)."""
    try:
        return _ANSWERING.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _ANSWERING.set(limiter)
        return limiter


def answer_bytes(index: LocatorIndex, lon: float, lat: float, **query) -> bytes:
    """The nearest centres to (lon, lat) as compact UTF-8 GeoJSON (``query``: of
    :meth:`LocatorIndex.nearest`), encoded by orjson (a tenth of the standard library's
    time, the same bytes as its ``separators=(",", ":")``, ``ensure_ascii=False``)."""
    return orjson.dumps(index.nearest(lon, lat, **query))


def prepare(state: ServiceState) -> None:
    """Start building the app's locator index (``state``: its state) in a thread of its
    own, so that a server's first requests find it built, or wait for that build, instead
    of each building it while others are answered. What fails is left for a request to
    report."""
    if state.coverage is None:
        return

    def build() -> None:
        with contextlib.suppress(GeoServiceError):  # e.g. no centre layer: the request says
            _index(state, state.store, state.coverage)

    threading.Thread(target=build, name="locator-index", daemon=True).start()


def _built_index(
    state: ServiceState, store: LayerStore, context: CoverageContext
) -> LocatorIndex | None:
    """The app's locator index if it is built from this ``store`` and ``context``."""
    cached = state.locator_index
    if cached is not None and cached[0] is store and cached[1] is context:
        return cached[2]
    return None


def _index(state: ServiceState, store: LayerStore, context: CoverageContext) -> LocatorIndex:
    """The app's locator index, built on first use (and again if its data is replaced),
    one build at a time: the requests that wait for it then find it built."""
    with _BUILDING:
        cached = _built_index(state, store, context)
        if cached is not None:
            return cached
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
        state.locator_index = (store, context, index)
        return index
