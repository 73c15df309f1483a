"""``/collections/{id}/items``: features, paged, filtered, in any offered CRS."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import CallerDep, CollectionDep, StoreDep, audit
from geo_service.api.geojson import GEOJSON_MEDIA_TYPE
from geo_service.api.negotiation import base_url, wants_html
from geo_service.api.ogc import html
from geo_service.api.ogc.crs import CRS84, parse_crs
from geo_service.api.ogc.features import (
    FeatureEncoder,
    collection_document,
    feature_document,
    select,
    store_query,
)
from geo_service.api.ogc.query import DEFAULT_LIMIT, MAX_LIMIT, ItemsQuery, parse_items_query
from geo_service.api.preconditions import none_match, query_etag, version_etag
from geo_service.api.rate_limit import expensive
from geo_service.api.routers.collections import DOWNLOAD_FORMATS, title
from geo_service.api.routers.downloads import download_response
from geo_service.data.catalog import LayerSpec
from geo_service.data.editing import feature_etag
from geo_service.data.export import FORMATS
from geo_service.data.stores import FeaturePage, LayerStore
from geo_service.errors import InvalidQuery

router = APIRouter(prefix="/collections", tags=["features"])


def _encoder(request: Request) -> FeatureEncoder:
    return request.app.state.feature_encoder


def _items_links(
    request: Request, spec_id: str, query: ItemsQuery, page: FeaturePage
) -> list[dict]:
    """self, alternate, collection, and next / prev: a keyset store's next link carries its
    cursor (with the page's position as offset), a prev link pages by offset."""
    matched, returned = page.matched, len(page.frame)
    href = f"{base_url(request)}collections/{spec_id}/items"

    def url(**changes) -> str:
        return f"{href}?{urlencode(query.link_params(**changes))}"

    links = [
        {"rel": "self", "type": GEOJSON_MEDIA_TYPE, "title": "This page", "href": url(f="json")},
        {
            "rel": "alternate",
            "type": "text/html",
            "title": "This page as HTML",
            "href": url(f="html"),
        },
        {
            "rel": "collection",
            "type": "application/json",
            "title": "The collection",
            "href": f"{base_url(request)}collections/{spec_id}",
        },
    ]
    if query.offset + returned < matched:
        links.append(
            {
                "rel": "next",
                "type": GEOJSON_MEDIA_TYPE,
                "title": "Next page",
                "href": url(offset=query.offset + query.limit, cursor=page.next_cursor, f="json"),
            }
        )
    if query.offset > 0:
        links.append(
            {
                "rel": "prev",
                "type": GEOJSON_MEDIA_TYPE,
                "title": "Previous page",
                "href": url(offset=max(0, query.offset - query.limit), cursor=None, f="json"),
            }
        )
    return links


def _content_crs(query: ItemsQuery) -> dict[str, str]:
    return {"Content-Crs": f"<{query.crs.uri}>"}


def _parameter(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


#: The items query, declared for the OpenAPI document (GDAL and QGIS read ``limit`` from
#: it) and parsed by :func:`parse_items_query`, which also knows the layer's properties.
ITEMS_PARAMETERS = [
    _parameter(
        "limit",
        f"Features per page (default {DEFAULT_LIMIT}; larger than {MAX_LIMIT} is clamped).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    _parameter("offset", "Features to skip.", {"type": "integer", "minimum": 0, "default": 0}),
    _parameter(
        "cursor",
        "Where the page starts in a store that pages by key: take it from the previous "
        "page's next link (offset is then the page's position).",
        {"type": "string"},
    ),
    _parameter(
        "bbox",
        "minx,miny,maxx,maxy in bbox-crs (default CRS84: lon/lat).",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    ),
    _parameter("bbox-crs", "CRS of bbox (a URI).", {"type": "string", "format": "uri"}),
    _parameter("crs", "CRS of the response (a URI).", {"type": "string", "format": "uri"}),
    _parameter(
        "datetime",
        "RFC 3339 instant or interval; no layer has time yet, so nothing is filtered out.",
        {"type": "string"},
    ),
    _parameter(
        "properties",
        "Properties to return, comma-separated.",
        {"type": "array", "items": {"type": "string"}},
    ),
    _parameter(
        "sortby",
        "Sort keys: name or -name, comma-separated.",
        {"type": "array", "items": {"type": "string"}},
    ),
    _parameter("skipGeometry", "Leave the geometry out.", {"type": "boolean"}),
    _parameter(
        "f",
        "json (GeoJSON, default), html, or a download format: " + ", ".join(DOWNLOAD_FORMATS),
        {"type": "string", "enum": ["json", "html", *DOWNLOAD_FORMATS]},
    ),
]


@router.get(
    "/{collectionId}/items",
    summary="Features of a collection",
    response_class=Response,
    openapi_extra={"parameters": ITEMS_PARAMETERS},
    responses={
        200: {
            "content": {
                GEOJSON_MEDIA_TYPE: {},
                "text/html": {},
                **{FORMATS[f][1]: {} for f in FORMATS},
            }
        }
    },
)
async def items(
    spec: CollectionDep, store: StoreDep, caller: CallerDep, request: Request
) -> Response:
    """A page of features (GeoJSON or HTML), or all matching features as a download
    (``f=gpkg|shp|csv|fgb|kml|geojson|xlsx``). Filter by any queryable property with
    ``name=value``."""
    query = parse_items_query(
        request.query_params,
        spec,
        max_items=request.app.state.settings.max_items,
        offered=request.app.state.profile.offered_crs,
    )
    f = request.query_params.get("f")
    if f in DOWNLOAD_FORMATS:
        await expensive(request, caller)
        return await run_in_threadpool(download_response, request, caller, store, spec, query, f)
    if f not in (None, "json", "html"):
        raise InvalidQuery(f"f must be json, html or one of {', '.join(DOWNLOAD_FORMATS)}")
    as_html = f == "html" or (f is None and "text/html" in request.headers.get("accept", ""))
    etag_of = partial(query_etag, request, role=caller.role)
    not_wanted = request.headers.get("if-none-match", "")
    encoder = _encoder(request)
    answer = partial(_answer, store, spec, query, encoder, etag_of, not_wanted, as_html)
    # A slice of a layer in memory whose texts are kept is a lookup: answered on the loop.
    # Anything else (a database's round trips, a search or sort, encoding) runs off it, in
    # one hop: the version, and the page and its texts unless the client has them (304).
    if store.is_instant(spec.id, store_query(query)):
        version, etag, page, texts = answer(encode=False)
        if page is not None and not as_html and texts is None:
            texts = await run_in_threadpool(
                encoder.texts, spec, page.frame, query, version, page.texts
            )
    else:
        version, etag, page, texts = await run_in_threadpool(answer)
    if page is None:  # not modified: answered from the layer's version, no page read
        return Response(status_code=304, headers={"ETag": etag})
    links = _items_links(request, spec.id, query, page)
    if as_html:
        audit(request, caller, spec, len(page.frame))
        document = await run_in_threadpool(
            _items_html, spec, page.frame, page.matched, query, links
        )
        return HTMLResponse(document, headers={"ETag": etag})
    audit(request, caller, spec, len(texts))
    return Response(
        collection_document(texts, matched=page.matched, links=links),
        media_type=GEOJSON_MEDIA_TYPE,
        headers={**_content_crs(query), "ETag": etag},
    )


def _answer(
    store: LayerStore,
    spec: LayerSpec,
    query: ItemsQuery,
    encoder: FeatureEncoder,
    etag_of,
    not_wanted: str,
    as_html: bool,
    *,
    encode: bool = True,
) -> tuple[str, str, FeaturePage | None, list[bytes] | None]:
    """The layer's version, the page's ETag, the page (None if ``not_wanted`` names the
    ETag) and, for GeoJSON, its feature texts (None if not kept and not ``encode``).
    Without ``not_wanted`` the version is the one the page was read from (one read)."""
    if not_wanted:
        version = store.version(spec.id)
        etag = etag_of(version)
        if none_match(not_wanted, etag):
            return version, etag, None, None
    page = select(store, spec, query, for_geojson=not as_html)
    version = page.version
    etag = etag_of(version)
    texts = None
    if not as_html:
        if page.texts is None:
            texts = encoder.cached(spec, page.frame, query, version)
        if texts is None and encode:
            texts = encoder.texts(spec, page.frame, query, version, page.texts)
    return version, etag, page, texts


def _items_html(spec, frame, matched, query, links) -> str:
    shown = [
        p
        for p in spec.property_names
        if p != spec.id_property and (query.properties is None or p in query.properties)
    ]
    features = zip(frame.index, frame[shown].itertuples(index=False), strict=True)
    paging = [
        (link["href"].replace("f=json", "f=html"), text)
        for link in links
        for rel, text in (("prev", "← 上一页 previous"), ("next", "下一页 next →"))
        if link["rel"] == rel
    ]
    return html.render(
        "items.html",
        spec=spec,
        title=title(spec),
        shown=shown,
        features=features,
        first=query.offset + 1 if matched else 0,
        last=query.offset + len(frame),
        matched=matched,
        map=html.svg_map(frame.geometry.to_numpy()),
        paging=paging,
        synthetic=spec.provenance.synthetic,
    )


@router.get(
    "/{collectionId}/items/{featureId}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}, "text/html": {}}}},
)
def item(
    spec: CollectionDep,
    feature_id: Annotated[str, Path(alias="featureId", description="Feature id.")],
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    crs: Annotated[str | None, Query(description="CRS of the response (a URI).")] = None,
    f: Annotated[str | None, Query(description="json or html.")] = None,
) -> Response:
    """One feature by id (GeoJSON or HTML). Sync: FastAPI runs it off the event loop."""
    unknown = sorted(set(request.query_params) - {"crs", "f"})
    if unknown:
        raise InvalidQuery(f"unknown parameter(s): {', '.join(unknown)}")
    query = ItemsQuery(crs=parse_crs(crs or CRS84, offered=request.app.state.profile.offered_crs))
    frame = store.feature(spec.id, feature_id)
    audit(request, caller, spec, 1)
    href = f"{base_url(request)}collections/{spec.id}"
    links = [
        {"rel": "self", "type": GEOJSON_MEDIA_TYPE, "href": f"{href}/items/{feature_id}?f=json"},
        {"rel": "alternate", "type": "text/html", "href": f"{href}/items/{feature_id}?f=html"},
        {"rel": "collection", "type": "application/json", "href": href},
    ]
    if wants_html(request, f):
        row = frame.iloc[0]
        return HTMLResponse(
            html.render(
                "feature.html",
                spec=spec,
                feature_id=str(feature_id),
                map=html.svg_map(frame.geometry.to_numpy()),
                properties=[(name, row[name]) for name in spec.property_names],
                synthetic=spec.provenance.synthetic,
            )
        )
    text = _encoder(request).texts(spec, frame, query, store.version(spec.id))[0]
    headers = _content_crs(query)
    if query.crs.uri == CRS84:  # the feature's own ETag, for If-Match on an edit
        headers["ETag"] = version_etag(feature_etag(spec, frame))
    return Response(feature_document(text, links), media_type=GEOJSON_MEDIA_TYPE, headers=headers)
