"""The coverage summary as a page for people: the criterion in words, the district's
headline, its areas ranked from the least covered, the gaps and the sensitivity table —
names, not codes; shares as percentages."""

from __future__ import annotations

from geo_service.api.ogc import html
from geo_service.reports.document import LIFE_CIRCLE_HEADERS, life_circle_cells


def _percent(value: object) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


def _number(value: object) -> str:
    return "" if value is None else f"{value:,}"


def _minutes(value: object) -> str:
    return "" if value is None else f"{float(value):.1f}"


def _figure_cells(row: dict, minutes: list[str]) -> list[str]:
    return [
        _number(row["residents"]),
        *(_percent(row[f"share_{m}"]) for m in minutes),
        _minutes(row.get("mean_min")),
        _minutes(row.get("p90_min")),
    ]


def coverage_page(
    summary: dict,
    sensitivity: list[dict],
    life_circle: dict,
    area_names: dict[str, str],
    *,
    synthetic: bool,
) -> str:
    """The HTML page of ``summary`` (``/coverage/summary``), ``sensitivity`` rows and the
    ``life_circle`` table; ``area_names`` maps area codes to "中文 · English" names."""
    criterion = summary["criterion"]
    circles = {str(m): d for m, d in criterion["circles_m"].items()}  # JSON keys are text
    minutes = list(circles)
    headers = [
        "居民 Residents",
        *(f"≤{m}分钟 ≤{m} min ({circles[m]:g} m)" for m in minutes),
        "平均分钟 Mean min",
        "P90 分钟 P90 min",
    ]
    district = html.table(headers, [_figure_cells(summary["district"], minutes)])
    areas = sorted(summary.get("subdistricts", []), key=lambda r: r[f"share_{minutes[-1]}"])
    area_rows = [
        [html.escape(area_names.get(str(r["group"]), str(r["group"]))), *_figure_cells(r, minutes)]
        for r in areas
    ]
    gaps = summary["gaps"]
    sensitivity_rows = [
        [
            html.escape(f"{r['label_zh']} · {r['label_en']}"),
            *(_percent(r.get(f"share_{m}")) for m in minutes),
        ]
        for r in sensitivity
    ]
    body = (
        "<h1>步行覆盖 Walking coverage</h1>"
        f"<p><strong>口径</strong>：{html.escape(criterion['rule_zh'])}<br>"
        f"<strong>Criterion</strong>: {html.escape(criterion['rule_en'])}</p>"
        "<h2>全区 District</h2>" + district + "<h2>各片区（覆盖率由低到高） Areas, least covered "
        "first</h2><div class='scroll'>"
        + html.table(["片区 Area", *headers], area_rows)
        + "</div><h2>服务盲区 Gaps</h2>"
        f"<p>{_number(gaps['compounds'])} 个小区，{_number(gaps['residents'])} 名居民 · "
        f"{_number(gaps['compounds'])} compounds, {_number(gaps['residents'])} residents<br>"
        f"{html.escape(gaps.get('rule_zh', ''))} · {html.escape(gaps.get('rule_en', ''))}<br>"
        + html.link("../collections/coverage_gaps/items?f=html", "盲区列表 List of gaps")
        + "</p>"
        + life_circle_section(life_circle)
        + "<h2>敏感性 Sensitivity</h2>"
        + html.table(["口径 Variant", *(f"≤{m}分钟 ≤{m} min" for m in minutes)], sensitivity_rows)
        + "<p>"
        + " · ".join(
            [
                html.link("summary?f=json", "JSON"),
                html.link("sensitivity", "sensitivity JSON"),
                html.link("life-circle", "life-circle JSON"),
                html.link("../maps/planner", "规划地图 Planner map"),
            ]
        )
        + "</p>"
    )
    return html.page("Coverage", body, crumbs=[("home", "../")], synthetic=synthetic)


def life_circle_section(table: dict) -> str:
    """The life-circle table: each type, its circle and distance, the clause, the share
    of residents reaching it there and the communities lacking it."""
    rows = [life_circle_cells(t) for t in table["types"]]
    rule = table["lacks"]
    return (
        "<h2>生活圈配置 Life-circle table</h2>"
        f"<p>{html.escape(rule['rule_zh'])}<br>{html.escape(rule['rule_en'])}</p>"
        "<div class='scroll'>" + html.table(LIFE_CIRCLE_HEADERS, rows) + "</div>"
    )
