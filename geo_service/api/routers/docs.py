"""``/api`` (OpenAPI 3.0) and ``/docs`` (Swagger UI served from our own copy)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from geo_service.api.openapi import openapi_30
from geo_service.api.routers.landing import OPENAPI_MEDIA_TYPE

router = APIRouter(include_in_schema=False)


@router.get("/api")
@router.get("/openapi.json")
async def api_definition(request: Request) -> JSONResponse:
    """The OpenAPI 3.0 document."""
    return JSONResponse(openapi_30(request.app), media_type=OPENAPI_MEDIA_TYPE)


@router.get("/docs")
async def api_docs() -> HTMLResponse:
    """Swagger UI, with its script and styles served by this service (no CDN)."""
    return get_swagger_ui_html(
        openapi_url="api",
        title="geo_service API",
        swagger_js_url="static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="static/swagger-ui/favicon-32x32.png",
    )
