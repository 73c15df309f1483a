"""``/coverage``: the coverage summary, and service circles on demand (of one facility, or
of a facility set within one area)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from geo_service.analysis.figures import figures_under, sensitivity
from geo_service.analysis.life_circle import life_circle_table
from geo_service.api.coverage_page import coverage_page
from geo_service.api.deps import StoreDep, VisibleLayerDep
from geo_service.api.geojson import GeoJSONResponse
from geo_service.api.negotiation import wants_html
from geo_service.api.rate_limit import expensive
from geo_service.api.routers.landing import JSON_OR_HTML, FormatQuery
from geo_service.api.scenario_body import (
    SCENARIO_SCHEMA,
    json_body,
    parse_json,
)
from geo_service.api.tasks import area_circles_geojson, circles_geojson, what_if_json
from geo_service.errors import InvalidQuery, LayerNotFound

router = APIRouter(prefix="/coverage", tags=["coverage"])

CriterionQuery = Annotated[
    Literal["distance", "time"] | None,
    Query(description="Circles by walking distance (GB 50180-2018) or walking time."),
]
SpeedQuery = Annotated[float | None, Query(gt=0.1, le=3.0, description="Walking speed, m/s.")]
Circle15Query = Annotated[
    float | None,
    Query(ge=100, le=5000, description="The 15-minute circle, metres (distance criterion)."),
]


def _coverage(request: Request):
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("coverage is not available for this catalog")
    return context


@router.get("/status", summary="Whether the coverage layers are up to date")
def coverage_status(request: Request) -> dict:
    """``fresh`` (computed from the input layers as they are), ``stale`` (one changed
    since; a run starts), ``computing`` (results are recomputed in the background; the
    previous ones are served until then) or ``failed``; the versions of the input layers
    the served results were computed from, and the current ones."""
    return request.app.state.refresh.status()


@router.get(
    "/summary",
    summary="Walking-distance coverage: district and areas",
    response_model=None,
    responses=JSON_OR_HTML,
)
async def coverage_summary(
    request: Request,
    store: StoreDep,
    criterion: CriterionQuery = None,
    speed_mps: SpeedQuery = None,
    circle_15_m: Circle15Query = None,
    facilities: Annotated[
        str | None, Query(description="A facility set of the district profile.")
    ] = None,
    by: Annotated[str | None, Query(description="An area key (e.g. community_id).")] = None,
    f: FormatQuery = None,
) -> dict | HTMLResponse:
    """Residents within each life circle, for the district and its areas, with the
    criterion the figures are decided on. Without parameters: the published figures.
    With them: the same figures under another criterion, speed, 15-minute circle or set
    of facilities (from the walks already made, unrounded)."""
    context = _coverage(request)
    published = all(v is None for v in (criterion, speed_mps, circle_15_m, facilities, by))
    if published and wants_html(request, f):
        return HTMLResponse(await run_in_threadpool(_summary_page, context, store))
    if published:
        return {"params": context.manifest["params"], **context.manifest["summary"]}
    params = context.params.varied(
        criterion=criterion, speed_mps=speed_mps, circle_15_m=circle_15_m
    )
    config = context.profile.analysis
    return await run_in_threadpool(
        figures_under,
        context.access,
        params,
        config,
        set_key=facilities or config.headline_set,
        by=by,
    )


def _summary_page(context, store) -> str:
    """The published summary as HTML, areas by name."""
    config = context.profile.analysis
    summary = context.manifest["summary"]
    coarse = next((a for a in reversed(config.areas) if a.key in context.access.area_keys), None)
    names: dict[str, str] = {}
    if coarse is not None and coarse.layer in store.catalog:
        for row in store.query(coarse.layer).itertuples():
            parts = [getattr(row, c, None) for c in ("name_zh", "name_en", "name")]
            names[str(row.id)] = " · ".join(dict.fromkeys(p for p in parts if isinstance(p, str)))
    rows = sensitivity(context.access, context.params, config)
    table = life_circle_table(context.access, context.params, config)
    synthetic = any(spec.provenance.synthetic for spec in store.catalog)
    return coverage_page(summary, rows, table, names, synthetic=synthetic)


@router.get("/life-circle", summary="The life-circle table: each type within its own circle")
async def coverage_life_circle(
    request: Request,
    criterion: CriterionQuery = None,
    speed_mps: SpeedQuery = None,
    circle_15_m: Circle15Query = None,
) -> dict:
    """Each type of service with the life circle (5, 10 or 15 minutes) within whose
    distance residents should reach it, the centre levels that count, the clause it
    follows, the district's share reaching it there and how many communities lack it."""
    context = _coverage(request)
    params = context.params.varied(
        criterion=criterion, speed_mps=speed_mps, circle_15_m=circle_15_m
    )
    return await run_in_threadpool(
        life_circle_table, context.access, params, context.profile.analysis
    )


@router.get("/sensitivity", summary="How the headline figures move with the criterion")
async def coverage_sensitivity(request: Request) -> dict:
    """The headline shares under the published criterion, with the 15-minute circle at
    800 m, by walking time at the set speed and at 0.9 m/s (older residents), and for
    each other facility set: a table to show beside the headline."""
    context = _coverage(request)
    rows = await run_in_threadpool(
        sensitivity, context.access, context.params, context.profile.analysis
    )
    return {"variants": rows}


@router.get(
    "/circles/{layer_id}/{feature_id}",
    summary="One facility's service circles",
    response_class=GeoJSONResponse,
)
async def facility_service_circles(
    spec: VisibleLayerDep, feature_id: str, store: StoreDep, request: Request
) -> GeoJSONResponse:
    """The 5-, 10- and 15-minute service circles of one facility, following the streets
    (GeoJSON, EPSG:4326). For display: coverage is decided by network distance."""
    context = _coverage(request)
    facility_layers = sorted({s.layer for s in context.profile.analysis.facility_sets})
    if spec.id not in facility_layers:
        raise InvalidQuery(
            f"layer {spec.id!r} holds no facilities; use one of {', '.join(facility_layers)}"
        )
    feature = await run_in_threadpool(store.feature, spec.id, feature_id)
    body = await request.app.state.compute.run(
        context,
        circles_geojson,
        feature,
        spec.id_property,
        feature_id,
        f"{spec.id}-{feature_id}-circles",
    )
    return GeoJSONResponse(body)


@router.get(
    "/areas/{layer_id}/{feature_id}/circles",
    summary="A facility set's service circles within one area",
    response_class=GeoJSONResponse,
)
async def area_service_circles(
    spec: VisibleLayerDep,
    feature_id: str,
    store: StoreDep,
    request: Request,
    facility_set: Annotated[
        str | None, Query(description="The facility set (default: the headline set).")
    ] = None,
) -> GeoJSONResponse:
    """The 5-, 10- and 15-minute service circles of a facility set within one area (a
    community, a sub-district), following the streets from the nearest facilities inside
    or outside it, cut to the area, with the share of its area each covers (GeoJSON,
    EPSG:4326). Built on demand: a city's district-wide circles are not dissolved. For
    display: coverage is decided by network distance."""
    context = _coverage(request)
    config = context.profile.analysis
    area_layers = [a.layer for a in config.areas]
    if spec.id not in area_layers:
        raise InvalidQuery(
            f"layer {spec.id!r} holds no areas; use one of {', '.join(area_layers) or 'none'}"
        )
    set_key = facility_set or config.headline_set
    keys = [s.key for s in config.facility_sets]
    if set_key not in keys:
        raise InvalidQuery(f"facility_set {set_key!r} is not one of {', '.join(keys)}")
    area = await run_in_threadpool(store.feature, spec.id, feature_id)
    if area.geometry.iloc[0] is None or area.geometry.iloc[0].is_empty:
        raise InvalidQuery(f"{spec.id} {feature_id!r} has no area")
    body = await request.app.state.compute.run(
        context,
        area_circles_geojson,
        area,
        set_key,
        feature_id,
        f"{spec.id}-{feature_id}-{set_key}-circles",
    )
    return GeoJSONResponse(body)


@router.post(
    "/scenario",
    summary="What-if: coverage with centres added or closed",
    dependencies=[Depends(expensive)],
    openapi_extra=json_body(SCENARIO_SCHEMA),
)
async def scenario(request: Request, store: StoreDep) -> dict:
    """Post ``{"add": <GeoJSON FeatureCollection of Points or Polygons>, "remove": [ids]}``
    to see the share of residents within 5/10/15 minutes of a service centre before and
    after: where a new centre would help most."""
    context = _coverage(request)
    document = parse_json(await request.body(), request.headers.get("content-type", ""))
    body = await request.app.state.compute.run(context, what_if_json, document)
    return Response(body, media_type="application/json")
