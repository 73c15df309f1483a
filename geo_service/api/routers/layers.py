"""``/layers``: the catalog entries the caller may see and their features as GeoJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from geo_service.api.deps import CallerDep, StoreDep, VisibleLayerDep, VisibleLayersDep, audit
from geo_service.api.geojson import GeoJSONResponse
from geo_service.api.ogc.crs import CRS84, bbox_to_crs84, supported
from geo_service.api.ogc.query import parse_bbox_values
from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import layer_geojson
from geo_service.data.stores import LayerStore

router = APIRouter(prefix="/layers", tags=["layers"])


def layer_summary(spec: LayerSpec, store: LayerStore, base_url: str) -> dict:
    """What a client needs to know about a layer: metadata, count, extent and links."""
    extent = store.extent(spec.id)
    body = spec.model_dump(mode="json", exclude={"source"})
    body |= {
        "count": store.count(spec.id),
        "bbox": list(extent) if extent else None,
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base_url}layers/{spec.id}"},
            {
                "rel": "items",
                "type": "application/geo+json",
                "href": f"{base_url}layers/{spec.id}.geojson",
            },
        ],
    }
    return body


@router.get("", summary="Layers the caller may see")
def list_layers(layers: VisibleLayersDep, store: StoreDep, request: Request) -> dict:
    """Every visible layer's catalog entry with its feature count and extent."""
    base = str(request.base_url)
    return {"layers": [layer_summary(spec, store, base) for spec in layers]}


@router.get(
    "/{layer_id}.geojson",
    summary="A layer's features as GeoJSON",
    response_class=GeoJSONResponse,
    response_model=None,
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
def layer_features(
    spec: VisibleLayerDep,
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat (WGS 84); features that intersect it.",
            max_length=200,
        ),
    ] = None,
) -> GeoJSONResponse:
    """All features of the layer (or those intersecting ``bbox``), in EPSG:4326."""
    if bbox is None:
        cache: dict[tuple[str, str], bytes] = request.app.state.geojson_cache
        key = (spec.id, store.version(spec.id))  # a new version of the layer: encoded anew
        if key not in cache:
            cache[key] = layer_geojson(spec, store.query(spec.id))
        audit(request, caller, spec, store.count(spec.id))
        return GeoJSONResponse(cache[key])
    box = bbox_to_crs84(parse_bbox_values(bbox), supported()[CRS84])
    frame = store.query(spec.id, bbox=box)
    audit(request, caller, spec, len(frame))
    return GeoJSONResponse(layer_geojson(spec, frame))


@router.get("/{layer_id}", summary="A layer's catalog entry")
def layer_metadata(spec: VisibleLayerDep, store: StoreDep, request: Request) -> dict:
    """The layer's catalog entry (titles, schema, style, provenance) with count and extent."""
    return layer_summary(spec, store, str(request.base_url))
