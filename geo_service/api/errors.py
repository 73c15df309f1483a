"""Map the error hierarchy to JSON responses: one place for every status code."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from geo_service.api.openapi import openapi_30
from geo_service.errors import GeoServiceError, TooManyRequests, Unauthorized

log = logging.getLogger(__name__)


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}
#: The error answers every route may give, for the OpenAPI document.
ERROR_RESPONSES = {
    status: {"description": text, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
    for status, text in (
        (400, "Bad request"),
        (401, "Unknown, revoked or expired key"),
        (403, "Not allowed for this role"),
        (404, "Not found"),
        (409, "Conflicts with what is stored"),
        (413, "Body too large"),
        (414, "Query string too long"),
        (415, "Unsupported body type"),
        (429, "Too many requests"),
        (503, "Timed out"),
    )
}


def error_response(status: int, code: str, description: str) -> JSONResponse:
    """The JSON body every error has: ``{"code": ..., "description": ...}``."""
    return JSONResponse({"code": code, "description": description}, status_code=status)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at the request's path (a path served by several
    routes, one per method, lists them all, not only the first's)."""
    paths = openapi_30(request.app)["paths"]
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern, _, _ = compile_path(template)
        if pattern.match(request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def add_exception_handlers(app: FastAPI) -> None:
    """Answer domain errors, failed validation and unknown routes with JSON."""

    @app.exception_handler(GeoServiceError)
    async def _domain(_: Request, exc: GeoServiceError) -> JSONResponse:
        response = error_response(exc.status_code, type(exc).__name__, str(exc))
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="geo_service"'
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return error_response(400, "InvalidParameterValue", "; ".join(messages))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(exc.status_code, "HTTPError", str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "ServerError", "internal error; see the server log")
