"""``/`` and ``/conformance``: the OGC API landing page and conformance classes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_service import __version__
from geo_service.api.deps import StoreDep, VisibleLayersDep
from geo_service.api.negotiation import base_url, wants_html
from geo_service.api.ogc import html
from geo_service.api.ogc.tiles import CONFORMANCE as TILES_CONFORMANCE

router = APIRouter(tags=["landing"])

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    *TILES_CONFORMANCE,
]
#: Routes that answer JSON or HTML (``f`` or the Accept header).
JSON_OR_HTML = {200: {"content": {"application/json": {}, "text/html": {}}}}
FormatQuery = Annotated[
    Literal["json", "html"] | None, Query(description="Output format (default: by Accept header).")
]


def landing_links(base: str) -> list[dict]:
    """The links every client looks for on the landing page."""
    return [
        {
            "rel": "self",
            "type": "application/json",
            "title": "This document",
            "href": f"{base}?f=json",
        },
        {
            "rel": "alternate",
            "type": "text/html",
            "title": "This document as HTML",
            "href": f"{base}?f=html",
        },
        {
            "rel": "service-desc",
            "type": OPENAPI_MEDIA_TYPE,
            "title": "The API definition",
            "href": f"{base}api",
        },
        {
            "rel": "service-doc",
            "type": "text/html",
            "title": "The API documentation",
            "href": f"{base}docs",
        },
        {
            "rel": "conformance",
            "type": "application/json",
            "title": "Conformance classes",
            "href": f"{base}conformance",
        },
        {
            "rel": "data",
            "type": "application/json",
            "title": "Collections",
            "href": f"{base}collections",
        },
        {
            "rel": "related",
            "type": "text/html",
            "title": "Planner map",
            "href": f"{base}maps/planner",
        },
        {
            "rel": "related",
            "type": "text/html",
            "title": "Service-centre locator",
            "href": f"{base}locator",
        },
    ]


@router.get("/", summary="Landing page", response_model=None, responses=JSON_OR_HTML)
def landing(
    request: Request, layers: VisibleLayersDep, store: StoreDep, f: FormatQuery = None
) -> HTMLResponse | dict:
    """The service's title, its links (API definition, conformance, collections), and the
    layers the caller may see."""
    base = base_url(request)
    synthetic = any(s.provenance.synthetic for s in layers)
    if not wants_html(request, f):
        return {
            "title": "geo_service",
            "description": "Walking-distance coverage of community service centres "
            "(15-minute life circle), as OGC API – Features.",
            "version": __version__,
            "synthetic_demo_data": synthetic,
            "links": landing_links(base),
            "layers": [
                {
                    "id": s.id,
                    "title": s.title.model_dump(),
                    "count": store.count(s.id),
                    "href": f"{base}collections/{s.id}",
                }
                for s in layers
            ],
        }
    counts = {s.id: store.count(s.id) for s in layers}
    return HTMLResponse(
        html.render("landing.html", layers=layers, counts=counts, synthetic=synthetic)
    )


@router.get(
    "/conformance", summary="Conformance classes", response_model=None, responses=JSON_OR_HTML
)
async def conformance(request: Request, f: FormatQuery = None) -> HTMLResponse | dict:
    """The OGC API conformance classes this service implements."""
    if wants_html(request, f):
        return HTMLResponse(html.render("conformance.html", classes=CONFORMANCE, synthetic=False))
    return {"conformsTo": CONFORMANCE}
