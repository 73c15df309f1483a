"""The report as one HTML document (A4, print-ready): the map with its legend, scale and
north arrow, then the figures, the life-circle table, the communities, the gaps, the
sensitivity table and a scenario's effect — each with its criterion — and the source and
synthetic-data notice. WeasyPrint turns it into the PDF (:mod:`.pdf`)."""

from __future__ import annotations

from html import escape

from geo_service import __version__
from geo_service.reports.report_map import legend, report_map

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm;
  @bottom-left { content: "geo_service · " string(title); font-size: 8pt; color: #555; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif;
  font-size: 9.5pt; color: #222; line-height: 1.4; max-width: 60rem; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; string-set: title content(); }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; }
th, td { text-align: left; padding: 1mm 1.5mm; border-bottom: 0.5pt solid #ccc;
  vertical-align: top; }
th { background: #f0f0f0; } td.n, th.n { text-align: right; }
tr { break-inside: avoid; }
.notice { background: #fff3cd; border: 1px solid #e0c060; padding: 2mm 3mm; }
.criterion { background: #eef4fb; padding: 2mm 3mm; }
.map { display: flex; gap: 4mm; align-items: flex-start; break-inside: avoid; }
.map svg { width: 70%; height: auto; border: 0.5pt solid #999; }
.legend { list-style: none; padding: 0; margin: 0; font-size: 8.5pt; }
.legend li { margin-bottom: 1.5mm; }
.swatch { display: inline-block; width: 4mm; height: 3mm; border: 0.5pt solid #555;
  vertical-align: middle; margin-right: 1.5mm; }
.meta { color: #555; }
@media screen { body { padding: 1rem; } }
"""


def _pct(value: object) -> str:
    return "–" if value is None or value != value else f"{100 * float(value):.1f}%"


def _int(value: object) -> str:
    return "–" if value is None else f"{int(value):,}"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """A table; cells are HTML already; columns in ``numeric`` right-aligned."""
    head = "".join(
        f"<th scope='col'{' class=n' if k in numeric else ''}>{escape(h)}</th>"
        for k, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if k in numeric else ''}>{c}</td>" for k, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _name(names: dict) -> str:
    return escape(" · ".join(dict.fromkeys(n for n in (names["zh"], names["en"]) if n)))


def _legend(report: dict, centre_term: dict) -> str:
    widest = report["circles"][-1]["minutes"]
    items = []
    for symbol, text in legend(widest, centre_term):
        if symbol == "gap":
            mark = "<span class='swatch' style='background:none;border:1.4pt solid #000'></span>"
        elif symbol == "centre":
            mark = "<span class='swatch' style='background:#6a3d9a;border-radius:50%'></span>"
        else:
            mark = f"<span class='swatch' style='background:{symbol}'></span>"
        items.append(f"<li>{mark}{escape(text)}</li>")
    return "<ul class='legend'>" + "".join(items) + "</ul>"


def _figures(report: dict) -> str:
    figures = report["figures"]
    headers = ["居民 Residents"]
    cells = [_int(figures["residents"])]
    for circle in report["circles"]:
        m = circle["minutes"]
        headers += [f"≤{m}分钟 ≤{m} min ({circle['distance_m']:g} m)", f"人数 residents ≤{m}"]
        cells += [_pct(figures[f"share_{m}"]), _int(figures[f"residents_{m}"])]
    headers += ["平均分钟 Mean min", "P90 分钟 P90 min"]
    cells += [f"{figures['mean_min']:.1f}", f"{figures['p90_min']:.1f}"]
    return _table(headers, [cells], numeric=set(range(len(headers))))


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
    the API's summary page escapes them in its template)."""
    names = row["title"]
    return [
        " · ".join(dict.fromkeys(n for n in (names["zh"], names["en"]) if n)),
        f"{row['circle_minutes']}分钟 {row['circle_minutes']} min ({row['distance_m']:.0f} m)",
        " / ".join(row["centre_levels"]) or "任一级 any",
        _pct(row["share"]),
        f"{row['areas_lacking']} / {row['areas']}" if "areas" in row else "–",
        f"{row['basis']['zh']} · {row['basis']['en']}",
    ]


def life_circle_cells(row: dict) -> list[str]:
    """One type of the life-circle table as HTML cells (:func:`life_circle_texts`, escaped)."""
    return [escape(text) for text in life_circle_texts(row)]


def _life_circle(report: dict) -> str:
    rule = report["life_circle"]["lacks"]
    rows = [life_circle_cells(t) for t in report["life_circle"]["types"]]
    return f"<p>{escape(rule['rule_zh'])}<br>{escape(rule['rule_en'])}</p>" + _table(
        LIFE_CIRCLE_HEADERS, rows, numeric={3, 4}
    )


def _communities(report: dict, type_titles: dict[str, str]) -> str:
    minutes = [c["minutes"] for c in report["circles"]]
    rows = [
        [
            _name(c["name"]),
            _int(c["residents"]),
            *(_pct(c[f"share_{m}"]) for m in minutes),
            escape("、".join(type_titles.get(k, k) for k in c["lacks"])),
        ]
        for c in report["communities"]
    ]
    headers = ["社区 Community", "居民 Residents", *(f"≤{m}分钟 ≤{m} min" for m in minutes)]
    return _table([*headers, "缺项 Lacks"], rows, numeric=set(range(1, len(headers))))


def _gaps(report: dict) -> str:
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
    return (
        f"<p><strong>{gaps['compounds']:,}</strong> 个小区 compounds · "
        f"<strong>{gaps['residents']:,}</strong> 名居民 residents<br>"
        f"{escape(rule.get('rule_zh', ''))} · {escape(rule.get('rule_en', ''))}</p>"
        + _table(["#", "小区 Compound", "居民 Residents", "步行距离 Walk"], rows, {0, 2, 3})
    )


def _sensitivity(report: dict) -> str:
    minutes = [c["minutes"] for c in report["circles"]]
    rows = [
        [
            escape(f"{r['label_zh']} · {r['label_en']}"),
            *(_pct(r.get(f"share_{m}")) for m in minutes),
        ]
        for r in report["sensitivity"]
    ]
    return _table(
        ["口径 Variant", *(f"≤{m}分钟 ≤{m} min" for m in minutes)],
        rows,
        numeric=set(range(1, len(minutes) + 1)),
    )


def _capacity(report: dict) -> str:
    capacity = report["capacity"]
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
    return (
        f"<p>每{per}名居民可享的中心容量（E2SFCA，{escape(said[0])}），由低到高。<br>"
        f"Centre capacity per {per} residents (E2SFCA, {escape(said[1])}), least first.</p>"
        + _table(
            ["社区 Community", "居民 Residents", f"容量/{per}人 Capacity per {per}"],
            rows,
            {1, 2},
        )
    )


def _scenario(report: dict, area_names: dict[str, str], type_titles: dict[str, str]) -> str:
    s = report["scenario"]
    minutes = [c["minutes"] for c in report["circles"]]
    rows = [
        [f"≤{m}分钟 ≤{m} min", _pct(s["before"][f"share_{m}"]), _pct(s["after"][f"share_{m}"])]
        for m in minutes
    ]
    areas = [
        [
            escape(area_names.get(a["id"], a["id"])),
            _int(a["residents"]),
            _pct(a["share_before"]),
            _pct(a["share_after"]),
            _int(a["gained_residents"]),
            _int(a["lost_residents"]),
        ]
        for a in s["areas"]
    ]
    return (
        f"<p><strong>{escape(s['name'])}</strong> ({escape(s['created'])}): "
        f"{s['sites']} 个新址 proposed sites, {len(s['closures'])} 处关闭 closures "
        f"({escape(', '.join(s['closures']))})<br>"
        f"新增 gained {s['gain']['residents']:,} 人 residents / {s['gain']['compounds']} 个小区 "
        f"compounds; 失去 lost {s['loss']['residents']:,} / {s['loss']['compounds']}</p>"
        + _table(["全区 District", "前 Before", "后 After"], rows, {1, 2})
        + _table(
            ["类型 Type", "生活圈 Circle", "前 Before", "后 After", "缺项社区 Lacking"],
            [
                [
                    escape(type_titles.get(t["type"], t["type"])),
                    f"{t['circle_minutes']} min ({t['distance_m']:.0f} m)",
                    _pct(t["share_before"]),
                    _pct(t["share_after"]),
                    f"{t['areas_lacking_before']} → {t['areas_lacking_after']}",
                ]
                for t in s["types"]
            ],
            {2, 3, 4},
        )
        + _table(
            ["片区 Area", "居民 Residents", "前 Before", "后 After", "增 Gained", "减 Lost"],
            areas,
            {1, 2, 3, 4, 5},
        )
    )


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
    criterion = report["criterion"]
    widest = report["circles"][-1]["minutes"]
    the_map = report_map(
        report["map_layers"],
        metric_crs,
        widest_minutes=widest,
        outline=report["geometry"],
        label=title["en"],
    )
    notice = (
        "<p class='notice'><strong>合成示例数据</strong>："
        "本报告基于合成的演示数据，并非真实调查数据。"
        "<br><strong>Synthetic demo data</strong>: this report is drawn from invented "
        "demonstration data, not surveyed data.</p>"
        if report["synthetic"]
        else ""
    )
    sources = "; ".join(report["sources"]) or "the district's layers"
    body = (
        f"<h1>{escape(title['zh'])}<br>{escape(title['en'])}</h1>"
        f"<p class='meta'>{escape(report['date'])} ({escape(report['timezone'])}) · "
        f"{_name(report['district'])}"
        + (f" · {_name(report['scope']['name'])}" if report["scope"] else "")
        + "</p>"
        + notice
        + f"<p class='criterion'><strong>口径</strong>：{escape(criterion['rule_zh'])}<br>"
        f"<strong>Criterion</strong>: {escape(criterion['rule_en'])}</p>"
        f"<div class='map'>{the_map}{_legend(report, centre_term)}</div>"
        "<h2>覆盖 Coverage</h2>"
        + _figures(report)
        + "<h2>生活圈配置 Life-circle table</h2>"
        + _life_circle(report)
        + (
            "<h2>社区（覆盖率由低到高） Communities, least covered first</h2>"
            + _communities(report, type_titles)
            if report["communities"]
            else ""
        )
        + "<h2>服务盲区 Gaps</h2>"
        + _gaps(report)
        + "<h2>敏感性 Sensitivity</h2>"
        + _sensitivity(report)
        + ("<h2>容量 Capacity</h2>" + _capacity(report) if report.get("capacity") else "")
        + (
            "<h2>方案效果 Scenario</h2>" + _scenario(report, area_names, type_titles)
            if report["scenario"]
            else ""
        )
        + f"<p class='meta'>来源 Source: {escape(sources)} · geo_service {escape(__version__)}"
        " · 覆盖沿步行路网计算 coverage measured along the walking network</p>"
    )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title['en'])}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )
