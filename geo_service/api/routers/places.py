"""``/locator/places``: the public locator's place search (the local gazetteer)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.data.gazetteer import MAX_QUERY_CHARS, Gazetteer, place_feature

router = APIRouter(prefix="/locator", tags=["locator"])

MAX_PLACES = 50


@router.get(
    "/places",
    summary="Find places by name, pinyin or initials",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
async def places(
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description="Chinese or English name, pinyin (e.g. 'rongxiang' or 'rong xiang') "
            "or pinyin initials (e.g. 'rx'); case, spaces and punctuation are ignored.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_PLACES, description="How many places at most.")] = 10,
) -> Response:
    """Public places (communities, subdistricts, compounds, service centres, pocket parks,
    trails) whose name matches ``q``: exact matches first, then prefixes, then substrings.
    Each is a point inside the place (WGS 84)."""
    gazetteer: Gazetteer = request.app.state.gazetteer
    features = [place_feature(place) for place in gazetteer.search(q, limit)]
    body = {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        media_type=GEOJSON_MEDIA_TYPE,
    )
