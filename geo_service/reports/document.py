"""The report as one HTML document (A4, print-ready): the map with its legend, scale and
north arrow, then the figures, the life-circle table, the communities, the gaps, the
sensitivity table and a scenario's effect — each with its criterion — and the source and
synthetic-data notice. WeasyPrint turns it into the PDF (:mod:`.pdf`).

Rendered from the Jinja template ``templates/report.html`` (autoescaped, a missing
variable fails): everything here is text; the map is SVG drawn from coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import jinja2
from markupsafe import Markup

from geo_service import __version__
from geo_service.reports.report_map import legend, report_map

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Table(NamedTuple):
    """A table of text: headers, rows, and the columns (by index) aligned right."""

    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()


def _pct(value: object) -> str:
    return "–" if value is None or value != value else f"{100 * float(value):.1f}%"


def _int(value: object) -> str:
    return "–" if value is None else f"{int(value):,}"


def _name(names: dict) -> str:
    return " · ".join(dict.fromkeys(n for n in (names["zh"], names["en"]) if n))


def _figures(report: dict) -> Table:
    figures = report["figures"]
    headers = ["居民 Residents"]
    cells = [_int(figures["residents"])]
    for circle in report["circles"]:
        m = circle["minutes"]
        headers += [f"≤{m}分钟 ≤{m} min ({circle['distance_m']:g} m)", f"人数 residents ≤{m}"]
        cells += [_pct(figures[f"share_{m}"]), _int(figures[f"residents_{m}"])]
    headers += ["平均分钟 Mean min", "P90 分钟 P90 min"]
    cells += [f"{figures['mean_min']:.1f}", f"{figures['p90_min']:.1f}"]
    return Table(headers, [cells], frozenset(range(len(headers))))


#: The life-circle table's columns (the API's summary page shows the same).
LIFE_CIRCLE_HEADERS = [
    "类型 Type",
    "生活圈 Circle",
    "中心级别 Centre levels",
    "可达居民 Residents reaching",
    "缺项社区 Areas lacking",
    "依据 Basis",
]


def life_circle_texts(row: dict) -> list[str]:
    """One type of the life-circle table as text, a cell each (:data:`LIFE_CIRCLE_HEADERS`;
    the report and the API's summary page escape them in their templates)."""
    return [
        _name(row["title"]),
        f"{row['circle_minutes']}分钟 {row['circle_minutes']} min ({row['distance_m']:.0f} m)",
        " / ".join(row["centre_levels"]) or "任一级 any",
        _pct(row["share"]),
        f"{row['areas_lacking']} / {row['areas']}" if "areas" in row else "–",
        f"{row['basis']['zh']} · {row['basis']['en']}",
    ]


def _life_circle(report: dict) -> dict:
    rule = report["life_circle"]["lacks"]
    rows = [life_circle_texts(t) for t in report["life_circle"]["types"]]
    return {
        "rule_zh": rule["rule_zh"],
        "rule_en": rule["rule_en"],
        "table": Table(LIFE_CIRCLE_HEADERS, rows, frozenset({3, 4})),
    }


def _communities(report: dict, type_titles: dict[str, str]) -> Table:
    minutes = [c["minutes"] for c in report["circles"]]
    rows = [
        [
            _name(c["name"]),
            _int(c["residents"]),
            *(_pct(c[f"share_{m}"]) for m in minutes),
            "、".join(type_titles.get(k, k) for k in c["lacks"]),
        ]
        for c in report["communities"]
    ]
    headers = ["社区 Community", "居民 Residents", *(f"≤{m}分钟 ≤{m} min" for m in minutes)]
    return Table([*headers, "缺项 Lacks"], rows, frozenset(range(1, len(headers))))


def _gaps(report: dict) -> dict:
    gaps = report["gaps"]
    rule = gaps["rule"]
    rows = [
        [
            str(g["rank"]),
            _name(g["name"]),
            _int(g["residents"]),
            "–" if g["metres"] is None else f"{g['metres']:,.0f} m",
        ]
        for g in gaps["rows"]
    ]
    return {
        "compounds": f"{gaps['compounds']:,}",
        "residents": f"{gaps['residents']:,}",
        "rule_zh": rule.get("rule_zh", ""),
        "rule_en": rule.get("rule_en", ""),
        "table": Table(
            ["#", "小区 Compound", "居民 Residents", "步行距离 Walk"], rows, frozenset({0, 2, 3})
        ),
    }


def _sensitivity(report: dict) -> Table:
    minutes = [c["minutes"] for c in report["circles"]]
    rows = [
        [f"{r['label_zh']} · {r['label_en']}", *(_pct(r.get(f"share_{m}")) for m in minutes)]
        for r in report["sensitivity"]
    ]
    return Table(
        ["口径 Variant", *(f"≤{m}分钟 ≤{m} min" for m in minutes)],
        rows,
        frozenset(range(1, len(minutes) + 1)),
    )


def _capacity(report: dict) -> dict | None:
    capacity = report.get("capacity")
    if not capacity:
        return None
    decay = capacity["decay"]
    if decay["kind"] == "step":
        limits = " / ".join(f"{m:,.0f}" for m in decay["limits_m"])
        weights = " / ".join(f"{w:g}" for w in decay["weights"])
        said = (
            f"步行 {limits} 米内权重 {weights}",
            f"weights {weights} within {limits} m on foot",
        )
    else:
        said = (
            f"高斯衰减，{decay['catchment_m']:,.0f} 米内",
            f"Gaussian decay within {decay['catchment_m']:,.0f} m on foot",
        )
    rows = [
        [
            _name(r["name"]),
            _int(r["residents"]),
            "–" if r["score"] is None else f"{r['score']:.2f}",
        ]
        for r in capacity["rows"]
    ]
    per = f"{capacity['per_residents']:,.0f}"
    return {
        "per": per,
        "decay_zh": said[0],
        "decay_en": said[1],
        "table": Table(
            ["社区 Community", "居民 Residents", f"容量/{per}人 Capacity per {per}"],
            rows,
            frozenset({1, 2}),
        ),
    }


def _scenario(report: dict, area_names: dict[str, str], type_titles: dict[str, str]) -> dict | None:
    s = report["scenario"]
    if not s:
        return None
    minutes = [c["minutes"] for c in report["circles"]]
    district = [
        [f"≤{m}分钟 ≤{m} min", _pct(s["before"][f"share_{m}"]), _pct(s["after"][f"share_{m}"])]
        for m in minutes
    ]
    types = [
        [
            type_titles.get(t["type"], t["type"]),
            f"{t['circle_minutes']} min ({t['distance_m']:.0f} m)",
            _pct(t["share_before"]),
            _pct(t["share_after"]),
            f"{t['areas_lacking_before']} → {t['areas_lacking_after']}",
        ]
        for t in s["types"]
    ]
    areas = [
        [
            area_names.get(a["id"], a["id"]),
            _int(a["residents"]),
            _pct(a["share_before"]),
            _pct(a["share_after"]),
            _int(a["gained_residents"]),
            _int(a["lost_residents"]),
        ]
        for a in s["areas"]
    ]
    return {
        "name": s["name"],
        "created": s["created"],
        "sites": s["sites"],
        "closures": list(s["closures"]),
        "gained_residents": f"{s['gain']['residents']:,}",
        "gained_compounds": s["gain"]["compounds"],
        "lost_residents": f"{s['loss']['residents']:,}",
        "lost_compounds": s["loss"]["compounds"],
        "district": Table(["全区 District", "前 Before", "后 After"], district, frozenset({1, 2})),
        "types": Table(
            ["类型 Type", "生活圈 Circle", "前 Before", "后 After", "缺项社区 Lacking"],
            types,
            frozenset({2, 3, 4}),
        ),
        "areas": Table(
            ["片区 Area", "居民 Residents", "前 Before", "后 After", "增 Gained", "减 Lost"],
            areas,
            frozenset({1, 2, 3, 4, 5}),
        ),
    }


def report_html(
    report: dict,
    *,
    metric_crs: object,
    centre_term: dict,
    type_titles: dict[str, str],
    area_names: dict[str, str],
) -> str:
    """The report as a standalone HTML document (inline CSS and SVG, nothing fetched)."""
    title = report["title"]
    widest = report["circles"][-1]["minutes"]
    the_map = report_map(
        report["map_layers"],
        metric_crs,
        widest_minutes=widest,
        outline=report["geometry"],
        label=title["en"],
    )
    return _TEMPLATES.get_template("report.html").render(
        title=title,
        date=report["date"],
        timezone=report["timezone"],
        district=_name(report["district"]),
        scope=_name(report["scope"]["name"]) if report["scope"] else None,
        synthetic=report["synthetic"],
        criterion=report["criterion"],
        # SVG drawn from coordinates; report_map escapes its one text, the label.
        map=Markup(the_map),
        legend=legend(widest, centre_term),
        figures=_figures(report),
        life_circle=_life_circle(report),
        communities=_communities(report, type_titles) if report["communities"] else None,
        gaps=_gaps(report),
        sensitivity=_sensitivity(report),
        capacity=_capacity(report),
        scenario=_scenario(report, area_names, type_titles),
        sources="; ".join(report["sources"]) or "the district's layers",
        version=__version__,
    )
