"""The coverage summary as a page for people: the criterion in words, the district's
headline, its areas ranked from the least covered, the gaps and the sensitivity table —
names, not codes; shares as percentages. Rendered from ``coverage.html``
(:mod:`geo_service.api.ogc.html`); every value goes in as text."""

from __future__ import annotations

from geo_service.api.ogc import html
from geo_service.reports.document import LIFE_CIRCLE_HEADERS, life_circle_texts


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
    areas = sorted(summary.get("subdistricts", []), key=lambda r: r[f"share_{minutes[-1]}"])
    gaps = summary["gaps"]
    return html.render(
        "coverage.html",
        criterion={"rule_zh": criterion["rule_zh"], "rule_en": criterion["rule_en"]},
        headers=headers,
        district=_figure_cells(summary["district"], minutes),
        areas=[
            [area_names.get(str(r["group"]), str(r["group"])), *_figure_cells(r, minutes)]
            for r in areas
        ],
        gaps={
            "compounds": _number(gaps["compounds"]),
            "residents": _number(gaps["residents"]),
            "rule_zh": gaps.get("rule_zh", ""),
            "rule_en": gaps.get("rule_en", ""),
        },
        life_circle=life_circle_section(life_circle),
        sensitivity={
            "headers": ["口径 Variant", *(f"≤{m}分钟 ≤{m} min" for m in minutes)],
            "rows": [
                [
                    f"{r['label_zh']} · {r['label_en']}",
                    *(_percent(r.get(f"share_{m}")) for m in minutes),
                ]
                for r in sensitivity
            ],
        },
        synthetic=synthetic,
    )


def life_circle_section(table: dict) -> dict:
    """The life-circle table as text for the page: each type, its circle and distance,
    the clause, the share of residents reaching it there and the communities lacking it;
    with the rule deciding what an area lacks."""
    rule = table["lacks"]
    return {
        "rule_zh": rule["rule_zh"],
        "rule_en": rule["rule_en"],
        "headers": LIFE_CIRCLE_HEADERS,
        "rows": [life_circle_texts(t) for t in table["types"]],
    }
