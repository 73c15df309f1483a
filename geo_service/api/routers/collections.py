"""``/collections``: the collections the caller may see, each with extent and schema."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from geo_service.api.deps import CollectionDep, StoreDep, VisibleLayersDep
from geo_service.api.negotiation import base_url, wants_html
from geo_service.api.ogc import html
from geo_service.api.ogc.crs import CRS84, supported
from geo_service.api.ogc.tiles import REL_TILESETS_VECTOR
from geo_service.api.routers.landing import JSON_OR_HTML, FormatQuery
from geo_service.data.catalog import LayerSpec
from geo_service.data.export import FORMATS as EXPORT_FORMATS
from geo_service.data.stores import LayerStore

router = APIRouter(prefix="/collections", tags=["collections"])

_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
_GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "MultiPoint": "geometry-multipoint",
    "LineString": "geometry-linestring",
    "MultiLineString": "geometry-multilinestring",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
}
DOWNLOAD_FORMATS = {
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "csv": "CSV",
    "fgb": "FlatGeobuf",
    "kml": "KML",
    "geojson": "GeoJSON",
    "xlsx": "Excel (XLSX)",
}


def title(spec: LayerSpec) -> str:
    """A collection title in both languages."""
    return f"{spec.title.zh} · {spec.title.en}"


def collection_document(
    spec: LayerSpec, store: LayerStore, base: str, offered: tuple[str, ...]
) -> dict:
    """A collection's description: extent, CRSs, links to items, queryables, downloads."""
    extent = store.extent(spec.id)
    bbox = list(extent) if extent else [-180.0, -90, 180, 90]
    href = f"{base}collections/{spec.id}"
    links = [
        {
            "rel": "self",
            "type": "application/json",
            "title": "This collection",
            "href": f"{href}?f=json",
        },
        {
            "rel": "alternate",
            "type": "text/html",
            "title": "This collection as HTML",
            "href": f"{href}?f=html",
        },
        {
            "rel": "items",
            "type": "application/geo+json",
            "title": "Features",
            "href": f"{href}/items?f=json",
        },
        {
            "rel": "items",
            "type": "text/html",
            "title": "Features as HTML",
            "href": f"{href}/items?f=html",
        },
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "type": "application/schema+json",
            "title": "Queryable properties",
            "href": f"{href}/queryables",
        },
        {
            "rel": "describedby",
            "type": "application/schema+json",
            "title": "Feature schema",
            "href": f"{href}/schema",
        },
        {
            "rel": REL_TILESETS_VECTOR,
            "type": "application/json",
            "title": "Vector tiles",
            "href": f"{href}/tiles",
        },
        {"rel": "license", "type": "text/plain", "title": spec.licence, "href": f"{href}"},
        *(
            {
                "rel": "enclosure",
                "type": _media_type(ext),
                "title": f"Download: {name}",
                "href": f"{base}downloads/{spec.id}.{ext}",
            }
            for ext, name in DOWNLOAD_FORMATS.items()
        ),
    ]
    return {
        "id": spec.id,
        "title": title(spec),
        "description": f"{spec.description.zh}\n{spec.description.en}",
        "keywords": list(spec.keywords),
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "crs": list(supported(offered)),
        "storageCrs": CRS84,
        "links": links,
        "geometryType": spec.geometry_type,
        "access": spec.access,
        "synthetic": spec.provenance.synthetic,
        "provenance": spec.provenance.method,
        "licence": spec.licence,
        "count": store.count(spec.id),
    }


def _media_type(ext: str) -> str:
    """The media type of a download format (without parameters), for links."""
    return EXPORT_FORMATS[ext][1].split(";")[0]


def queryables_document(spec: LayerSpec, base: str, *, schema: bool = False) -> dict:
    """The properties as a JSON Schema (queryables, or the whole feature schema)."""
    properties: dict[str, dict] = {}
    for prop in spec.properties:
        entry: dict = {
            "type": _JSON_TYPES[prop.type],
            "title": (prop.title or prop.description).en,
            "description": f"{prop.description.zh} / {prop.description.en}",
        }
        if prop.unit:
            entry["x-ogc-unit"] = prop.unit
        if prop.enum and not prop.list_separator:
            entry["enum"] = list(prop.enum)
        if prop.minimum is not None:
            entry["minimum"] = prop.minimum
        if prop.maximum is not None:
            entry["maximum"] = prop.maximum
        if prop.name == spec.id_property and schema:
            entry["x-ogc-role"] = "id"
        properties[prop.name] = entry
    properties["geometry"] = {
        "format": _GEOMETRY_FORMATS[spec.geometry_type],
        "x-ogc-role": "primary-geometry",
    }
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{spec.id}/{'schema' if schema else 'queryables'}",
        "type": "object",
        "title": title(spec),
        "properties": properties,
        "additionalProperties": False,
    }
    if schema:
        document["required"] = [p.name for p in spec.properties if p.required]
    return document


@router.get("", summary="The collections", response_model=None, responses=JSON_OR_HTML)
def collections(
    request: Request, layers: VisibleLayersDep, store: StoreDep, f: FormatQuery = None
) -> HTMLResponse | dict:
    """Every collection the caller may see."""
    base = base_url(request)
    offered = request.app.state.profile.offered_crs
    documents = [collection_document(spec, store, base, offered) for spec in layers]
    if wants_html(request, f):
        synthetic = any(d["synthetic"] for d in documents)
        return HTMLResponse(
            html.render("collections.html", collections=documents, synthetic=synthetic)
        )
    return {
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}collections?f=json"},
            {"rel": "alternate", "type": "text/html", "href": f"{base}collections?f=html"},
        ],
        "collections": documents,
        "crs": list(supported(offered)),
    }


@router.get(
    "/{collectionId}", summary="One collection", response_model=None, responses=JSON_OR_HTML
)
def collection(
    spec: CollectionDep, request: Request, store: StoreDep, f: FormatQuery = None
) -> HTMLResponse | dict:
    """A collection's description, extent, CRSs and links."""
    base = base_url(request)
    document = collection_document(spec, store, base, request.app.state.profile.offered_crs)
    if not wants_html(request, f):
        return document
    extent = ", ".join(f"{v:.5f}" for v in document["extent"]["spatial"]["bbox"][0])
    downloads = [(f"../downloads/{spec.id}.{ext}", name) for ext, name in DOWNLOAD_FORMATS.items()]
    return HTMLResponse(
        html.render(
            "collection.html",
            spec=spec,
            document=document,
            extent=extent,
            downloads=downloads,
            synthetic=document["synthetic"],
        )
    )


JSON_SCHEMA_RESPONSE = {
    200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}
}


@router.get(
    "/{collectionId}/queryables",
    summary="Queryable properties (JSON Schema)",
    response_class=JSONResponse,
    responses=JSON_SCHEMA_RESPONSE,
)
async def queryables(spec: CollectionDep, request: Request) -> JSONResponse:
    """The properties a client may filter on with ``name=value``, as JSON Schema."""
    return JSONResponse(
        queryables_document(spec, base_url(request)), media_type="application/schema+json"
    )


@router.get(
    "/{collectionId}/schema",
    summary="Feature schema (JSON Schema)",
    response_class=JSONResponse,
    responses=JSON_SCHEMA_RESPONSE,
)
async def schema(spec: CollectionDep, request: Request) -> JSONResponse:
    """The features' schema: every property with type, unit and description."""
    return JSONResponse(
        queryables_document(spec, base_url(request), schema=True),
        media_type="application/schema+json",
    )
