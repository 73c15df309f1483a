"""The map pages: ``/maps/planner`` (the planner map) and ``/locator`` (the public
service-centre locator). Built by :mod:`geo_service.maps` on first request and kept; the
planner shows the layers the caller may see, the locator public layers only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_service.api.deps import CallerDep

router = APIRouter(tags=["maps"])


@router.get("/maps/planner", summary="Planner map (HTML)", response_class=HTMLResponse)
def planner_map(request: Request, caller: CallerDep) -> HTMLResponse:
    """Coverage, gaps and facilities on an interactive map; layers load from this API."""
    return HTMLResponse(request.app.state.pages.planner(caller.access))


@router.get("/locator", summary="Service-centre locator (HTML)", response_class=HTMLResponse)
def locator_page(
    request: Request,
    lang: Annotated[
        Literal["zh", "en"] | None, Query(description="Page language (default Chinese).")
    ] = None,
    at: Annotated[
        str | None,
        Query(max_length=40, description="Check opening hours at this local time (ISO 8601)."),
    ] = None,
) -> HTMLResponse:
    """The public locator: nearest service centres on foot from a place. The page reads
    ``lang`` and ``at`` itself."""
    return HTMLResponse(request.app.state.pages.locator())
