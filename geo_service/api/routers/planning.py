"""``/planning``: where to build new centres (maximal or set covering) and whether the
centres are big enough for the people who reach them (E2SFCA of their capacity).

Both are CPU work and run off the event loop; siting is rate-limited like what-if.
"""

from __future__ import annotations

from typing import Annotated, Literal

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, StrictInt
from starlette.concurrency import run_in_threadpool

from geo_service.analysis.capacity import Decay
from geo_service.analysis.planning import (
    CENTRES,
    SitingQuestion,
    capacity_scores,
    centre_capacity,
)
from geo_service.analysis.siting import DEFAULT_TIME_LIMIT_S
from geo_service.analysis.siting_inputs import DEFAULT_SPACING_M
from geo_service.api.deps import CallerDep, StoreDep, find_visible
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.api.rate_limit import expensive
from geo_service.api.tasks import answer_siting
from geo_service.crs import to_metric
from geo_service.errors import InvalidQuery, LayerNotFound

router = APIRouter(prefix="/planning", tags=["planning"])

#: At most this many candidate points in a request.
MAX_GIVEN_CANDIDATES = 5000
#: At most this many new sites asked for (maximal covering).
MAX_NEW_SITES = 200


class Point(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Point"]
    coordinates: tuple[Annotated[float, Strict()], Annotated[float, Strict()]]


class CandidateFeature(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: Point


class CandidatePoints(BaseModel):
    """Candidate sites: a GeoJSON FeatureCollection of Points (lon/lat, WGS 84)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[CandidateFeature] = Field(min_length=1, max_length=MAX_GIVEN_CANDIDATES)


class SitingRequest(BaseModel):
    """Where to build: ``mclp`` places ``sites`` new sites covering the most residents
    not covered today; ``lscp`` the fewest sites covering all of them. Candidates are
    network nodes every ``spacing_m`` metres, the points of ``candidates``, or the
    features of the layer ``candidate_layer``."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["mclp", "lscp"] = "mclp"
    sites: StrictInt = Field(5, ge=1, le=MAX_NEW_SITES, description="New sites (mclp).")
    facilities: str = Field(
        CENTRES, description="'centres', or a life-circle type of the district's table."
    )
    minutes: Literal[5, 10, 15] | None = Field(
        None, description="The life circle: default the type's, or 15 for the centres."
    )
    spacing_m: float = Field(DEFAULT_SPACING_M, ge=50, le=5000)
    candidates: CandidatePoints | None = None
    candidate_layer: str | None = None
    time_limit_s: float = Field(DEFAULT_TIME_LIMIT_S, gt=0, le=60)
    criterion: Literal["distance", "time"] | None = Field(
        None,
        description="The life circles as network metres or walking minutes "
        "(default: the district's published criterion).",
    )
    speed_mps: float | None = Field(
        None, gt=0.3, le=3.0, description="Walking speed (m/s) under the time criterion."
    )
    greedy: StrictBool = Field(False, description="The greedy answer only: an instant preview.")


def _context(request: Request):
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("coverage is not available for this catalog")
    return context


def _candidate_points(body: SitingRequest, store, caller, crs) -> tuple[np.ndarray | None, str]:
    """The given candidates in metres, and where they came from (None: on the network)."""
    if body.candidates is not None and body.candidate_layer is not None:
        raise InvalidQuery("give candidates or candidate_layer, not both")
    if body.candidates is not None:
        lonlat = np.array([f.geometry.coordinates for f in body.candidates.features])
        if not np.isfinite(lonlat).all() or (np.abs(lonlat) > [180, 90]).any():
            raise InvalidQuery("candidate coordinates are finite lon/lat in degrees")
        frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*lonlat.T), crs=4326)
        return frame.to_crs(crs).get_coordinates().to_numpy(), "given points"
    if body.candidate_layer is not None:
        catalog = store.catalog
        spec = find_visible(body.candidate_layer, catalog.visible(caller.access), catalog, caller)
        frame = store.query(spec.id)
        if not len(frame) or len(frame) > MAX_GIVEN_CANDIDATES:
            raise InvalidQuery(
                f"candidate_layer needs 1 to {MAX_GIVEN_CANDIDATES} features, has {len(frame)}"
            )
        points = to_metric(frame, crs).geometry.representative_point()
        return points.get_coordinates().to_numpy(), f"the features of {spec.id}"
    return None, ""


@router.post(
    "/sites",
    summary="Where to build: new sites by maximal or set covering",
    dependencies=[Depends(expensive)],
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}},
            },
            "description": "The answer (JSON), or with f=geojson the sites alone.",
        }
    },
)
async def sites(
    body: SitingRequest,
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    f: Annotated[
        Literal["json", "geojson"],
        Query(description="geojson: the chosen sites alone, as a layer to download."),
    ] = "json",
):
    """The new sites that cover the most residents not covered today within the life
    circle (``mclp``), or the fewest that cover all of them (``lscp``), solved exactly by
    HiGHS within ``time_limit_s`` (``status``: optimal, or time_limit with the gap), or
    greedily (``greedy``). ``scenario`` is the answer as a what-if body
    (``POST /coverage/scenario``)."""
    context = _context(request)
    baseline = context.whatif
    xy, source = await run_in_threadpool(_candidate_points, body, store, caller, baseline.graph.crs)
    config = context.profile.analysis
    question = SitingQuestion(
        method=body.method,
        sites=body.sites,
        facilities=body.facilities,
        minutes=body.minutes,
        spacing_m=body.spacing_m,
        candidates_xy=xy,
        candidates_from=source,
        time_limit_s=body.time_limit_s,
        greedy=body.greedy,
        criterion=body.criterion,
        speed_mps=body.speed_mps,
    )
    district = await run_in_threadpool(_district, request, store, baseline.graph.crs)
    offer = {
        "level": config.levels[-1].key if config.levels else None,
        "services": list(config.service_keys),
    }
    answer = await request.app.state.compute.run(context, answer_siting, question, district, offer)
    if f == "geojson":
        name = f"sites-{body.method}-{answer['criterion']['minutes']}min.geojson"
        return JSONResponse(
            answer["sites"],
            media_type=GEOJSON_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return answer


def _district(request: Request, store, crs):
    """The district's outline in metres (cached on the app for its store)."""
    cached = request.app.state.planning_district
    if cached is not None and cached[0] is store:
        return cached[1]
    outline = (
        to_metric(store.query("district"), crs).union_all() if "district" in store.catalog else None
    )
    request.app.state.planning_district = (store, outline)
    return outline


@router.get("/capacity", summary="Are the centres big enough: E2SFCA of their capacity")
async def capacity(
    request: Request,
    store: StoreDep,
    decay: Annotated[
        Literal["step", "gaussian"],
        Query(
            description="step: weights 1 / 0.68 / 0.22 within the 5 / 10 / 15-minute "
            "circles; gaussian: within the 15-minute circle."
        ),
    ] = "step",
) -> dict:
    """Each centre's capacity shared among the residents who reach it on foot (decayed
    by their walk), and what every compound and area gets: capacity per 1,000 residents
    (enhanced two-step floating catchment area, E2SFCA)."""
    context = _context(request)
    return await run_in_threadpool(_capacity_answer, context, store, decay)


def _capacity_answer(context, store, decay: str) -> dict:
    """The E2SFCA answer of the centres' capacity, the decay ``decay`` over the circles."""
    layer = context.profile.analysis.centre_layer
    supply = centre_capacity(store.query(layer))
    if supply is None:
        raise InvalidQuery(f"the {layer} layer has no capacity column")
    shape = Decay.for_circles(tuple(c.distance_m for c in context.params.circles), decay)
    answer = capacity_scores(context.whatif, supply, shape)
    answer["criterion"] = context.params.describe()
    return answer
