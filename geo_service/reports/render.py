"""A coverage report in the format asked for: HTML, PDF or an Excel workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.data.stores import LayerStore
from geo_service.errors import InvalidQuery
from geo_service.reports.content import build_report
from geo_service.reports.document import report_html
from geo_service.reports.pdf import html_to_pdf
from geo_service.reports.workbook import report_workbook

REPORT_FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: its bytes, media type and the name to save it as."""

    content: bytes
    media_type: str
    filename: str


def _area_names(context, store: LayerStore) -> dict[str, str]:
    names = {}
    for level in context.profile.analysis.areas:
        if level.layer in store.catalog:
            for row in store.query(level.layer).itertuples():
                parts = [getattr(row, c, None) for c in ("name_zh", "name_en", "name")]
                texts = dict.fromkeys(p for p in parts if isinstance(p, str) and p)
                names[str(row.id)] = " · ".join(texts) or str(row.id)
    return names


def render_report(
    context,
    store: LayerStore,
    scenarios=None,
    *,
    fmt: str,
    area: str | None = None,
    scenario: str | None = None,
    now: datetime | None = None,
) -> RenderedReport:
    """The report of the district (or ``area``; with ``scenario``'s effect) as ``fmt``."""
    if fmt not in REPORT_FORMATS:
        raise InvalidQuery(f"a report is one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    report = build_report(context, store, scenarios, area=area, scenario=scenario, now=now)
    type_titles = {
        r.key: f"{r.facilities.title_zh}"
        for r in life_circle_requirements(context.profile.analysis)
    }
    names = _area_names(context, store)
    chosen = [report["scenario"]["id"]] if report["scenario"] else []
    stem = "-".join(["coverage-report", area or context.profile.id, *chosen])
    if fmt == "xlsx":
        content = report_workbook(report, type_titles, names)
    else:
        profile = context.profile
        html = report_html(
            report,
            metric_crs=context.graph.crs,
            centre_term={
                "zh": profile.centre_term.pick("zh"),
                "en": profile.centre_term.pick("en"),
            },
            type_titles=type_titles,
            area_names=names,
        )
        content = html.encode("utf-8") if fmt == "html" else html_to_pdf(html)
    return RenderedReport(content, REPORT_FORMATS[fmt], f"{stem}.{fmt}")
