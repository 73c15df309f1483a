"""OGC API – Features Part 4 on ``/collections/{id}/items``: create (POST), replace (PUT),
update (PATCH, a JSON merge patch) and delete (DELETE) one feature, each a new version of
the layer, for API keys whose role may edit it; ``OPTIONS`` says which of them the caller
may use (QGIS turns editing on from its ``Allow`` header).

``If-Match`` (the layer's or the feature's ETag) is honoured when sent — a change based on
an older version gets 412 — and not required: QGIS sends none.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import Caller, CallerDep, CollectionDep, StoreDep, editor, record_write
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.api.negotiation import base_url
from geo_service.api.ogc.crs import CRS84, input_to_crs84, parse_crs
from geo_service.api.ogc.features import feature_document
from geo_service.api.ogc.query import ItemsQuery
from geo_service.api.preconditions import if_match_tag, version_etag
from geo_service.data.catalog import LayerSpec
from geo_service.data.editing import EditKind, EditResult, FeatureEdit, edit_feature, feature_etag
from geo_service.errors import InvalidParameter, UnsupportedMediaType

router = APIRouter(prefix="/collections", tags=["edits"])

FeatureId = Annotated[str, Path(alias="featureId", description="Feature id.")]
MERGE_PATCH = "application/merge-patch+json"
FEATURE_TYPES = (GEOJSON_MEDIA_TYPE, "application/json")
PATCH_TYPES = (MERGE_PATCH, "application/json")
_FEATURE_BODY = {
    "required": True,
    "content": {
        GEOJSON_MEDIA_TYPE: {"schema": {"type": "object", "description": "A GeoJSON Feature"}}
    },
}
_PATCH_BODY = {
    "required": True,
    "content": {
        MERGE_PATCH: {
            "schema": {
                "type": "object",
                "description": "The properties to change (null removes one) and/or the geometry",
            }
        }
    },
}
_WRITE_ERRORS = {
    409: {"description": "A feature with that id exists"},
    412: {"description": "If-Match names a version that is no longer current"},
    422: {"description": "The layer would break its catalog entry; nothing written"},
}


def _allowed(spec: LayerSpec, caller: Caller, methods: tuple[str, ...]) -> str:
    reading = ["GET", "HEAD", "OPTIONS"]
    return ", ".join(reading + (list(methods) if spec.may_edit(caller.role) else []))


_ALLOW = {
    204: {
        "description": "The methods this caller may use, in Allow",
        "headers": {"Allow": {"schema": {"type": "string"}}},
    }
}


@router.options(
    "/{collectionId}/items",
    summary="What the caller may do with the features",
    status_code=204,
    responses=_ALLOW,
)
def items_options(spec: CollectionDep, caller: CallerDep) -> Response:
    """``Allow`` lists POST when the caller's key may add features to the layer."""
    return Response(status_code=204, headers={"Allow": _allowed(spec, caller, ("POST",))})


@router.options(
    "/{collectionId}/items/{featureId}",
    summary="What the caller may do with a feature",
    status_code=204,
    responses=_ALLOW,
)
def item_options(spec: CollectionDep, caller: CallerDep, feature_id: FeatureId) -> Response:
    """``Allow`` lists PUT, PATCH and DELETE when the caller's key may edit the layer."""
    methods = ("PUT", "PATCH", "DELETE")
    return Response(status_code=204, headers={"Allow": _allowed(spec, caller, methods)})


async def _body(request: Request, media_types: tuple[str, ...]) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in media_types:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(media_types)}, not {content_type or 'nothing'}"
        )
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"the body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object")
    return body


def _edit(request: Request, kind: EditKind, feature_id: str | None, body) -> FeatureEdit:
    content_crs = request.headers.get("content-crs")
    to_crs84 = None
    if content_crs:
        offered = request.app.state.profile.offered_crs
        to_crs84 = input_to_crs84(parse_crs(content_crs, "Content-Crs", offered=offered))
    return FeatureEdit(kind, feature_id, body, to_crs84)


async def _apply(
    request: Request,
    spec: LayerSpec,
    caller: Caller,
    store,
    kind: EditKind,
    feature_id: str | None = None,
    media_types: tuple[str, ...] = (),
) -> EditResult:
    """Check the caller may edit, read the body (of one of ``media_types``; none: no
    body), apply the edit off the event loop, and record it."""
    author = editor(spec, caller)
    body = await _body(request, media_types) if media_types else None
    edit = _edit(request, kind, feature_id, body)
    result = await run_in_threadpool(
        edit_feature, store, spec, edit, author=author, if_match=if_match_tag(request)
    )
    record_write(request, caller, spec, result.record, action=kind)
    return result


def _feature_response(request: Request, spec: LayerSpec, result: EditResult, status: int):
    href = f"{base_url(request)}collections/{spec.id}/items/{result.feature_id}"
    query = ItemsQuery(crs=parse_crs(CRS84))
    encoder = request.app.state.feature_encoder
    text = encoder.texts(spec, result.feature, query, result.record.version)[0]
    links = [{"rel": "self", "type": GEOJSON_MEDIA_TYPE, "href": href}]
    headers = {"ETag": version_etag(feature_etag(spec, result.feature))}
    if status == 201:
        headers["Location"] = href
    return Response(
        feature_document(text, links),
        status_code=status,
        media_type=GEOJSON_MEDIA_TYPE,
        headers=headers,
    )


@router.post(
    "/{collectionId}/items",
    summary="Add a feature",
    status_code=201,
    openapi_extra={"requestBody": _FEATURE_BODY},
    responses={201: {"description": "Added; Location names it"}, **_WRITE_ERRORS},
)
async def create_feature(
    request: Request, spec: CollectionDep, caller: CallerDep, store: StoreDep
) -> Response:
    """Add the GeoJSON Feature in the body (its id from ``id`` or the id property, else
    made up) as a new version of the layer; ``Location`` names the new feature."""
    result = await _apply(request, spec, caller, store, "create", None, FEATURE_TYPES)
    return _feature_response(request, spec, result, 201)


@router.put(
    "/{collectionId}/items/{featureId}",
    summary="Replace a feature",
    openapi_extra={"requestBody": _FEATURE_BODY},
    responses=_WRITE_ERRORS,
)
async def replace_feature(
    request: Request,
    spec: CollectionDep,
    caller: CallerDep,
    store: StoreDep,
    feature_id: FeatureId,
) -> Response:
    """Replace the feature by the GeoJSON Feature in the body (properties left out become
    empty), as a new version of the layer."""
    result = await _apply(request, spec, caller, store, "replace", feature_id, FEATURE_TYPES)
    return _feature_response(request, spec, result, 200)


@router.patch(
    "/{collectionId}/items/{featureId}",
    summary="Change some of a feature",
    openapi_extra={"requestBody": _PATCH_BODY},
    responses=_WRITE_ERRORS,
)
async def update_feature(
    request: Request,
    spec: CollectionDep,
    caller: CallerDep,
    store: StoreDep,
    feature_id: FeatureId,
) -> Response:
    """Apply the JSON merge patch in the body — ``{"properties": {...}}`` (null empties a
    property) and/or ``{"geometry": ...}`` — as a new version of the layer."""
    result = await _apply(request, spec, caller, store, "update", feature_id, PATCH_TYPES)
    return _feature_response(request, spec, result, 200)


@router.delete(
    "/{collectionId}/items/{featureId}",
    summary="Delete a feature",
    status_code=204,
    responses=_WRITE_ERRORS,
)
async def delete_feature(
    request: Request,
    spec: CollectionDep,
    caller: CallerDep,
    store: StoreDep,
    feature_id: FeatureId,
) -> Response:
    """Delete the feature, as a new version of the layer."""
    await _apply(request, spec, caller, store, "delete", feature_id)
    return Response(status_code=204)
