"""OGC API - Tiles: ``/tileMatrixSets`` and each collection's vector tiles
(``/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}``, Mapbox
Vector Tiles) from the store — made off the event loop, once per version of the layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import CallerDep, CollectionDep, StoreDep, audit
from geo_service.api.negotiation import base_url
from geo_service.api.ogc.tiles import (
    TileQuery,
    check_tile_matrix_set,
    parse_tile_query,
    tile_matrix_set_document,
    tile_matrix_sets_document,
    tileset_document,
    tilesets_document,
)
from geo_service.api.preconditions import none_match, query_etag
from geo_service.data.catalog import LayerSpec
from geo_service.data.stores import LayerStore
from geo_service.data.vector_tiles import MVT_MEDIA_TYPE, TileAddress, tile_feature_count

router = APIRouter(tags=["tiles"])

#: A tile's query, declared for the OpenAPI document; parsed by :func:`parse_tile_query`,
#: which also knows the layer's properties (any of them filters: ``name=value``).
TILE_PARAMETERS = [
    {
        "name": "properties",
        "in": "query",
        "required": False,
        "description": "Properties each feature carries besides its id, comma-separated.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": False,
    }
]

TileMatrixSetId = Annotated[str, Path(description="The tile matrix set: WebMercatorQuad.")]


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> dict:
    """The tile matrix sets the tiles use (WebMercatorQuad)."""
    return tile_matrix_sets_document(base_url(request))


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set")
async def tile_matrix_set(tileMatrixSetId: TileMatrixSetId) -> dict:  # noqa: N803 - OGC name
    """The tile matrix set's definition (OGC Two Dimensional Tile Matrix Set, JSON)."""
    check_tile_matrix_set(tileMatrixSetId)
    return tile_matrix_set_document()


@router.get("/collections/{collectionId}/tiles", summary="A collection's tilesets")
async def tilesets(spec: CollectionDep, request: Request) -> dict:
    """The collection's vector tilesets (one: WebMercatorQuad)."""
    return tilesets_document(base_url(request), spec)


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}", summary="A tileset")
async def tileset(
    spec: CollectionDep,
    store: StoreDep,
    request: Request,
    tileMatrixSetId: TileMatrixSetId,  # noqa: N803 - OGC name
) -> dict:
    """The tileset's metadata: its layer and properties, limits and tile URL template."""
    check_tile_matrix_set(tileMatrixSetId)
    extent = await run_in_threadpool(store.extent, spec.id)
    return tileset_document(base_url(request), spec, extent)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile",
    response_class=Response,
    openapi_extra={"parameters": TILE_PARAMETERS},
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile"},
        204: {"description": "No feature reaches the tile"},
    },
)
async def tile(
    spec: CollectionDep,
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    tileMatrixSetId: TileMatrixSetId,  # noqa: N803 - OGC names
    tileMatrix: Annotated[int, Path(description="Zoom level, 0 to 22.")],  # noqa: N803
    tileRow: Annotated[int, Path(description="Row, from the north.")],  # noqa: N803
    tileCol: Annotated[int, Path(description="Column, from 180° W.")],  # noqa: N803
) -> Response:
    """The features reaching the tile as a Mapbox Vector Tile of one layer named by the
    collection id; each feature carries the id and the ``properties`` asked for
    (comma-separated); filter with ``name=value`` on any property. 204 when no feature
    reaches the tile."""
    check_tile_matrix_set(tileMatrixSetId)
    address = TileAddress(tileMatrix, tileRow, tileCol)
    query = parse_tile_query(request.query_params, spec)
    etag_of = lambda version: query_etag(request, version, role=caller.role)  # noqa: E731
    not_wanted = request.headers.get("if-none-match", "")
    cache = request.app.state.tile_cache
    etag, body = await run_in_threadpool(
        _tile_answer, store, spec, address, query, cache, etag_of, not_wanted
    )
    if body is None:
        return Response(status_code=304, headers={"ETag": etag})
    if spec.access == "restricted":
        audit(request, caller, spec, await run_in_threadpool(tile_feature_count, body, spec.id))
    if not body:
        return Response(status_code=204, headers={"ETag": etag})
    return Response(body, media_type=MVT_MEDIA_TYPE, headers={"ETag": etag})


def _tile_answer(
    store: LayerStore,
    spec: LayerSpec,
    address: TileAddress,
    query: TileQuery,
    cache,
    etag_of,
    not_wanted: str,
) -> tuple[str, bytes | None]:
    """The tile's ETag and bytes (None when ``not_wanted`` names the ETag), from the cache
    when this version of the layer has made it before. A tile made while the layer changed
    is served but not kept."""
    version = store.version(spec.id)
    etag = etag_of(version)
    if none_match(not_wanted, etag):
        return etag, None
    key = (spec.id, version, address, query.properties, tuple(sorted(query.filters.items())))
    body = cache.get(key)
    if body is None:
        body = store.vector_tile(spec.id, address, query.properties, query.filters)
        if store.version(spec.id) == version:
            cache.put(key, body)
    return etag, body
