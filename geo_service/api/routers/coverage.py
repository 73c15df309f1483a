"""``/coverage``: the coverage summary, and one facility's service circles on demand."""

from __future__ import annotations

import geopandas as gpd
from fastapi import APIRouter, Request

from geo_service.analysis.circles import facility_circles
from geo_service.analysis.coverage import access_points
from geo_service.api.deps import StoreDep, VisibleLayerDep
from geo_service.api.geojson import GeoJSONResponse
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.data.geojson_io import feature_collection_text
from geo_service.errors import InvalidQuery, LayerNotFound

router = APIRouter(prefix="/coverage", tags=["coverage"])

#: Layers whose features are facilities with service circles.
FACILITY_LAYERS = ("service_centres", "pocket_parks", "trails")


def _coverage(request: Request):
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("coverage is not available for this catalog")
    return context


@router.get("/summary", summary="Walking-distance coverage: district and sub-districts")
def coverage_summary(request: Request) -> dict:
    """Residents within each life circle of a service centre, per district and
    sub-district, with the parameters the figures were computed with."""
    context = _coverage(request)
    return {"params": context.manifest["params"], **context.manifest["summary"]}


@router.get(
    "/circles/{layer_id}/{feature_id}",
    summary="One facility's service circles",
    response_class=GeoJSONResponse,
)
def facility_service_circles(
    spec: VisibleLayerDep, feature_id: str, store: StoreDep, request: Request
) -> GeoJSONResponse:
    """The 5-, 10- and 15-minute service circles of one facility, following the streets
    (GeoJSON, EPSG:4326). For display: coverage is decided by network distance."""
    if spec.id not in FACILITY_LAYERS:
        raise InvalidQuery(
            f"layer {spec.id!r} holds no facilities; use one of {', '.join(FACILITY_LAYERS)}"
        )
    context = _coverage(request)
    feature = store.feature(spec.id, feature_id)
    points = access_points(to_metric(feature, context.graph.crs), spec.id_property)
    polygons = facility_circles(context.graph, points.geometry.to_numpy(), context.params)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"{feature_id}-{c.minutes}" for c in context.params.circles],
            "facility_id": feature_id,
            "minutes": [c.minutes for c in context.params.circles],
            "distance_m": [c.distance_m for c in context.params.circles],
        },
        geometry=polygons,
        crs=context.graph.crs,
    ).to_crs(STORAGE_CRS)
    text = feature_collection_text(
        frame,
        name=f"{spec.id}-{feature_id}-circles",
        description="Service circles along the walking network",
    )
    return GeoJSONResponse(text.encode("utf-8"))
