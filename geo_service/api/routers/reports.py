"""``/reports``: the coverage report of the district, an area or a saved scenario, as a
print-ready HTML page, a PDF or an Excel workbook (rendered off the event loop)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import StoreDep
from geo_service.api.rate_limit import expensive
from geo_service.api.routers.downloads import content_disposition
from geo_service.errors import LayerNotFound
from geo_service.reports.render import REPORT_FORMATS, render_report

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get(
    "/coverage.{fmt}",
    summary="The coverage report (HTML, PDF or Excel)",
    response_class=Response,
    dependencies=[Depends(expensive)],
    responses={200: {"content": {media: {} for media in REPORT_FORMATS.values()}}},
)
async def coverage_report(
    fmt: Literal["html", "pdf", "xlsx"],
    request: Request,
    store: StoreDep,
    area: Annotated[
        str | None, Query(description="A community or sub-district id (default: the district).")
    ] = None,
    scenario: Annotated[
        str | None, Query(description="A saved scenario (id or name) whose effect to add.")
    ] = None,
) -> Response:
    """Title, date, criterion, the map with legend, scale and north arrow, coverage per
    circle and per type of service, the communities, the gaps, the sensitivity table and
    a scenario's effect; Chinese and English."""
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("coverage is not available for this catalog")
    export = await run_in_threadpool(
        render_report,
        context,
        store,
        request.app.state.scenarios,
        fmt=fmt,
        area=area,
        scenario=scenario,
    )
    kind = "inline" if fmt == "html" else "attachment"
    return Response(
        export.content,
        media_type=export.media_type,
        headers={"Content-Disposition": content_disposition(kind, export.filename)},
    )
