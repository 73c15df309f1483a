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
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="Start from this point (shared).")
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Its latitude.")] = None,
    source: Annotated[
        str | None, Query(alias="from", max_length=100, description="The point's name.")
    ] = None,
    service: Annotated[
        str | None, Query(max_length=40, description="Only centres offering it.")
    ] = None,
    open_now: Annotated[bool | None, Query(description="Only centres open now.")] = None,
) -> HTMLResponse:
    """The public locator: nearest service centres on foot from a place. The page reads
    its parameters itself: ``lang``, ``at``, and — from a shared link, to reopen the same
    answer — ``lon``, ``lat``, ``from``, ``service`` and ``open_now``."""
    return HTMLResponse(request.app.state.pages.locator())
