"""``geo-service report``: the coverage report of the district, an area or a saved
scenario as HTML, PDF and an Excel workbook, written to a folder."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from geo_service.cli.common import app, console, fail, setup_logging
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

log = logging.getLogger("geo_service.report")


@app.command()
def report(
    area: Annotated[
        str | None, typer.Option(help="A community or sub-district id (default: the district).")
    ] = None,
    scenario: Annotated[
        str | None, typer.Option(help="A saved scenario (id or name) whose effect to add.")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", help="html, pdf or xlsx (repeatable; default: all three)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="The folder to write to.")] = Path("build/reports"),
) -> None:
    """Write the coverage report: title, date, criterion, map, coverage per circle and per
    type of service, communities, gaps, sensitivity and a scenario's effect."""
    from geo_service.data.scenarios import ScenarioStore
    from geo_service.pipeline.service_data import load_data
    from geo_service.reports.render import REPORT_FORMATS, render_report

    setup_logging()
    formats = fmt or list(REPORT_FORMATS)
    unknown = sorted(set(formats) - set(REPORT_FORMATS))
    if unknown:
        raise fail("error", f"--format must be one of {', '.join(REPORT_FORMATS)}, not {unknown}")
    settings = Settings()
    try:
        log.info("loading the district and its coverage")
        store, context = load_data(settings)
        if context is None:
            raise fail("error", "coverage is not available for this catalog")
        scenarios = ScenarioStore(settings.state_dir / "scenarios.json")
        out.mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(formats, start=1):
            started = time.perf_counter()
            export = render_report(
                context, store, scenarios, fmt=name, area=area, scenario=scenario
            )
            path = out / export.filename
            path.write_bytes(export.content)
            log.info(
                "[%d/%d] %s: %s (%.0f KB, %.1f s)",
                k,
                len(formats),
                name,
                path,
                len(export.content) / 1024,
                time.perf_counter() - started,
            )
            console.print(str(path))
    except GeoServiceError as exc:
        raise fail("error", exc) from None
