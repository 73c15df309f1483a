"""The map pages: ``/maps/planner`` (the planner map) and ``/locator`` (the public
service-centre locator). Built by :mod:`geo_service.maps`; the planner shows the layers the
caller may see, the locator public layers only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from geo_service.api.deps import CallerDep

router = APIRouter(tags=["maps"])


@router.get("/maps/planner", summary="Planner map (HTML)", response_class=HTMLResponse)
async def planner_map(request: Request, caller: CallerDep) -> HTMLResponse:
    """Coverage, gaps and facilities on an interactive map; layers load from this API."""
    return HTMLResponse(request.app.state.pages.planner(caller.access))


@router.get("/locator", summary="Service-centre locator (HTML)", response_class=HTMLResponse)
async def locator_page(request: Request) -> HTMLResponse:
    """The public locator: nearest service centres on foot from a place."""
    return HTMLResponse(request.app.state.pages.locator())
