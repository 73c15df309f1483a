"""``/locator``: the public service-centre locator's API — nearest centres on foot."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import opening_hours
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from geo_service.analysis.routing import walks_to_nearest
from geo_service.api.deps import StoreDep
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.crs import STORAGE_CRS, to_metric, wgs84_to_bd09, wgs84_to_gcj02
from geo_service.data.vocabulary import SERVICE_VOCABULARY
from geo_service.errors import InvalidQuery, LayerNotFound

router = APIRouter(prefix="/locator", tags=["locator"])

#: Local time for "open now" (Wuxi).
TIMEZONE = ZoneInfo("Asia/Shanghai")
#: A point farther than this from the district gets an explanation, not a far centre.
OUTSIDE_M = 1000.0
MAX_RESULTS = 20


def is_open(text: str, at: datetime) -> bool | None:
    """Whether OSM ``opening_hours`` ``text`` is open at local time ``at`` (None: unknown)."""
    try:
        return bool(opening_hours.OpeningHours(text).is_open(at))
    except (opening_hours.ParserError, ValueError):
        return None


def app_links(lon: float, lat: float, name: str) -> dict[str, str]:
    """Links that open the point in phone map apps, in the datum each expects."""
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    label = quote(name)
    return {
        "amap": f"https://uri.amap.com/marker?position={g_lon:.6f},{g_lat:.6f}&name={label}"
        "&coordinate=gaode",
        "baidu": f"https://api.map.baidu.com/marker?location={b_lat:.6f},{b_lon:.6f}"
        f"&title={label}&content={label}&coord_type=bd09ll&output=html",
    }


def _local_time(at: str | None) -> datetime:
    if at is None:
        return datetime.now(TIMEZONE).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidQuery(f"at must be an ISO 8601 date and time, not {at!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE).replace(tzinfo=None)
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
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude (WGS 84).")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude (WGS 84).")],
    n: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="How many centres.")] = 5,
    service: Annotated[
        str | None,
        Query(description="Only centres offering this service: " + ", ".join(SERVICE_VOCABULARY)),
    ] = None,
    open_now: Annotated[bool, Query(description="Only centres open at 'at'.")] = False,
    at: Annotated[
        str | None,
        Query(description="Local time to check opening hours (ISO 8601; default: now in Wuxi)."),
    ] = None,
) -> Response:
    """The nearest service centres along the walking network from a point: distance,
    minutes, services, opening hours, open now, the walking route and phone-map links."""
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("the locator is not available for this catalog")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidQuery("lon and lat must be finite numbers")
    if service is not None and service not in SERVICE_VOCABULARY:
        raise InvalidQuery(f"service must be one of {', '.join(SERVICE_VOCABULARY)}")
    moment = _local_time(at)
    origin = (
        gpd.GeoSeries([shapely.Point(lon, lat)], crs=STORAGE_CRS).to_crs(context.graph.crs).iloc[0]
    )
    district = to_metric(store.query("district"), context.graph.crs).union_all()
    away = district.distance(origin)
    if away > OUTSIDE_M:
        raise InvalidQuery(
            f"the point is {away / 1000:.1f} km outside the district; the "
            "locator covers the district's service centres only"
        )
    centres = store.query("service_centres")
    opened = np.array([is_open(text, moment) for text in centres["opening_hours"]], dtype=object)
    keep = np.ones(len(centres), dtype=bool)
    if service is not None:
        keep &= centres["services"].str.split(";").map(lambda s: service in s).to_numpy()
    if open_now:
        keep &= opened == True  # noqa: E712 - None (unknown) is not open
    candidates = centres[keep]
    metric = to_metric(candidates, context.graph.crs)
    walks = walks_to_nearest(
        context.graph,
        origin,
        metric.geometry.to_numpy(),
        count=n,
        max_snap_m=context.params.max_snap_m,
    )
    routes = gpd.GeoSeries([w.route for w in walks], crs=context.graph.crs).to_crs(STORAGE_CRS)
    features = []
    for walk, route in zip(walks, routes, strict=True):
        row = candidates.iloc[walk.facility]
        point = row.geometry
        features.append(
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(point.x, 7), round(point.y, 7)],
                },
                "properties": {
                    "id": row["id"],
                    "name_zh": row["name_zh"],
                    "name_en": row["name_en"],
                    "level": row["level"],
                    "services": row["services"].split(";"),
                    "opening_hours": row["opening_hours"],
                    "open_now": opened[keep][walk.facility],
                    "distance_m": round(walk.distance_m, 1),
                    "minutes": round(context.params.minutes(walk.distance_m), 1),
                    "route": json.loads(shapely.to_geojson(shapely.set_precision(route, 1e-7))),
                    "links": app_links(point.x, point.y, row["name_zh"]),
                },
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": features,
        "origin": {"type": "Point", "coordinates": [lon, lat]},
        "at": moment.isoformat(timespec="minutes"),
        "numberReturned": len(features),
    }
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type=GEOJSON_MEDIA_TYPE
    )
