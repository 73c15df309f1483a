"""The report as an Excel workbook: one sheet per table, Chinese and English headers,
names, and shares stored as numbers formatted as percentages (values, not formulas)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

PERCENT = "0.0%"


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list], percent: set[int]):
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for k in percent:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=k + 1, max_col=k + 1):
            cell.number_format = PERCENT
    for k, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = max(10, min(48, len(header) + 4))
    sheet.freeze_panes = "A2"
    return sheet


def report_workbook(report: dict, type_titles: dict[str, str], area_names: dict[str, str]) -> bytes:
    """The workbook's bytes (.xlsx)."""
    book = Workbook()
    book.remove(book.active)
    minutes = [c["minutes"] for c in report["circles"]]
    criterion = report["criterion"]
    figures = report["figures"]
    summary = _sheet(
        book,
        "概况 Summary",
        ["项目 Item", "数值 Value"],
        [
            ["报告 Report", f"{report['title']['zh']} / {report['title']['en']}"],
            ["日期 Date", f"{report['date']} ({report['timezone']})"],
            ["口径 Criterion", f"{criterion['rule_zh']} / {criterion['rule_en']}"],
            ["居民 Residents", figures["residents"]],
            *([f"{m}分钟覆盖率 Share within {m} min", figures[f"share_{m}"]] for m in minutes),
            *(
                [f"{m}分钟内居民 Residents within {m} min", figures[f"residents_{m}"]]
                for m in minutes
            ),
            ["平均步行分钟 Mean minutes", figures["mean_min"]],
            ["服务盲区小区 Gap compounds", report["gaps"]["compounds"]],
            ["服务盲区居民 Gap residents", report["gaps"]["residents"]],
            *(
                [["数据 Data", "合成示例数据 Synthetic demo data, not surveyed"]]
                if report["synthetic"]
                else []
            ),
        ],
        percent=set(),
    )
    for label, value in summary.iter_rows(min_row=2, max_col=2):
        if str(label.value).startswith(tuple(f"{m}分钟覆盖率" for m in minutes)):
            value.number_format = PERCENT
    _sheet(
        book,
        "生活圈 Life circle",
        [
            "类型 Type",
            "生活圈（分钟） Circle (min)",
            "距离（米） Distance (m)",
            "中心级别 Centre levels",
            "可达居民比例 Share reaching",
            "缺项社区 Areas lacking",
            "社区数 Areas",
            "依据 Basis",
        ],
        [
            [
                f"{t['title']['zh']} / {t['title']['en']}",
                t["circle_minutes"],
                t["distance_m"],
                " / ".join(t["centre_levels"]) or "任一级 any",
                t["share"],
                t.get("areas_lacking"),
                t.get("areas"),
                f"{t['basis']['zh']} / {t['basis']['en']}",
            ]
            for t in report["life_circle"]["types"]
        ],
        percent={4},
    )
    if report["communities"]:
        _sheet(
            book,
            "社区 Communities",
            [
                "编号 Id",
                "社区 Community",
                "Community (en)",
                "居民 Residents",
                *(f"{m}分钟覆盖率 Share within {m} min" for m in minutes),
                "缺项 Lacks",
            ],
            [
                [
                    c["id"],
                    c["name"]["zh"],
                    c["name"]["en"],
                    c["residents"],
                    *(c[f"share_{m}"] for m in minutes),
                    "、".join(type_titles.get(k, k) for k in c["lacks"]),
                ]
                for c in report["communities"]
            ],
            percent=set(range(4, 4 + len(minutes))),
        )
    _sheet(
        book,
        "服务盲区 Gaps",
        [
            "排名 Rank",
            "编号 Id",
            "小区 Compound",
            "Compound (en)",
            "居民 Residents",
            "步行距离（米） Walk (m)",
        ],
        [
            [g["rank"], g["id"], g["name"]["zh"], g["name"]["en"], g["residents"], g["metres"]]
            for g in report["gaps"]["rows"]
        ],
        percent=set(),
    )
    _sheet(
        book,
        "敏感性 Sensitivity",
        ["口径 Variant", "Variant (en)", *(f"{m}分钟覆盖率 Share within {m} min" for m in minutes)],
        [
            [r["label_zh"], r["label_en"], *(r.get(f"share_{m}") for m in minutes)]
            for r in report["sensitivity"]
        ],
        percent=set(range(2, 2 + len(minutes))),
    )
    capacity = report.get("capacity")
    if capacity:
        per = f"{capacity['per_residents']:,.0f}"
        _sheet(
            book,
            "容量 Capacity",
            ["编号 Id", "社区 Community", "Community (en)", "居民 Residents",
             f"容量/{per}人 Capacity per {per} (E2SFCA)"],
            [
                [r["id"], r["name"]["zh"], r["name"]["en"], r["residents"], r["score"]]
                for r in capacity["rows"]
            ],
            percent=set(),
        )  # fmt: skip
    scenario = report["scenario"]
    if scenario:
        _sheet(
            book,
            "方案 Scenario",
            [
                "片区 Area",
                "级别 Level",
                "居民 Residents",
                "前 Before",
                "后 After",
                "增 Gained",
                "减 Lost",
            ],
            [
                [
                    area_names.get(a["id"], a["id"]),
                    a["level"],
                    a["residents"],
                    a["share_before"],
                    a["share_after"],
                    a["gained_residents"],
                    a["lost_residents"],
                ]
                for a in scenario["areas"]
            ],
            percent={3, 4},
        )
        _sheet(
            book,
            "方案类型 Scenario types",
            [
                "类型 Type",
                "生活圈（分钟） Circle (min)",
                "前 Before",
                "后 After",
                "缺项社区（前） Lacking before",
                "缺项社区（后） Lacking after",
            ],
            [
                [
                    type_titles.get(t["type"], t["type"]),
                    t["circle_minutes"],
                    t["share_before"],
                    t["share_after"],
                    t["areas_lacking_before"],
                    t["areas_lacking_after"],
                ]
                for t in scenario["types"]
            ],
            percent={2, 3},
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
