"""``/downloads/{id}.{ext}``: a layer (or its filtered features) as a file."""

from __future__ import annotations

import pathlib
import shutil
import tempfile
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from geo_service.api.deps import (
    Caller,
    CallerDep,
    CatalogDep,
    StoreDep,
    VisibleLayersDep,
    audit,
    find_visible,
)
from geo_service.api.ogc.features import matching
from geo_service.api.ogc.query import ItemsQuery, parse_items_query
from geo_service.api.preconditions import none_match, query_etag
from geo_service.api.rate_limit import expensive
from geo_service.data.catalog import LayerSpec
from geo_service.data.export import FORMATS, export_layer
from geo_service.data.stores import LayerStore

router = APIRouter(prefix="/downloads", tags=["downloads"])

Format = Literal["gpkg", "shp", "csv", "fgb", "kml", "geojson", "xlsx"]


def content_disposition(kind: str, filename: str) -> str:
    """``Content-Disposition`` for ``filename``: an ASCII fallback and the UTF-8 name."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def download_response(
    request: Request,
    caller: Caller,
    store: LayerStore,
    spec: LayerSpec,
    query: ItemsQuery,
    fmt: str,
) -> Response:
    """Every feature matching ``query`` (paging ignored) as a ``fmt`` file attachment,
    streamed from a temporary file (removed once sent). The ETag names the layer's version
    and the query, so a client that has the file gets a 304 before anything is written."""
    etag = query_etag(request, store.version(spec.id), role=caller.role)
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    frame = matching(store, spec, query)
    if query.properties is not None:
        frame = frame[[*query.properties, frame.geometry.name]]
    frame = frame.to_crs(query.crs.crs)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="geo-service-download-"))
    try:
        export = export_layer(frame, spec, fmt, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    audit(request, caller, spec, len(frame))
    return FileResponse(
        export.path,
        media_type=export.media_type,
        headers={
            "Content-Disposition": content_disposition("attachment", export.filename),
            "Content-Crs": f"<{query.crs.uri}>",
            "ETag": etag,
        },
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get(
    "/{layer_id}.{fmt}",
    summary="Download a layer",
    response_class=Response,
    dependencies=[Depends(expensive)],
    responses={200: {"content": {FORMATS[f][1]: {} for f in FORMATS}}},
)
def download(
    layer_id: str,
    fmt: Annotated[
        Format,
        Path(description="gpkg, shp (zipped), csv, fgb, kml, geojson or xlsx (titled columns)."),
    ],
    layers: VisibleLayersDep,
    catalog: CatalogDep,
    caller: CallerDep,
    store: StoreDep,
    request: Request,
) -> Response:
    """The layer as a file. Takes the same ``bbox``, ``bbox-crs``, ``crs``,
    ``properties``, ``sortby`` and ``name=value`` filters as the items of the collection."""
    spec = find_visible(layer_id, layers, catalog, caller)
    query = parse_items_query(
        request.query_params, spec, offered=request.app.state.profile.offered_crs
    )
    return download_response(request, caller, store, spec, query, fmt)
