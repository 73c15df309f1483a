"""Map the error hierarchy to JSON responses: one place for every status code."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.errors import GeoServiceError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, description: str) -> JSONResponse:
    """The JSON body every error has: ``{"code": ..., "description": ...}``."""
    return JSONResponse({"code": code, "description": description}, status_code=status)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer domain errors, failed validation and unknown routes with JSON."""

    @app.exception_handler(GeoServiceError)
    async def _domain(_: Request, exc: GeoServiceError) -> JSONResponse:
        return error_response(exc.status_code, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return error_response(400, "InvalidParameterValue", "; ".join(messages))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "ServerError", "internal error; see the server log")
