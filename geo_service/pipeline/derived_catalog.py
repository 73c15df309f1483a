"""Catalog entries of a new district's derived coverage layers, whose columns follow the
profile's analysis configuration (a column group per facility set, a reach column per
life-circle facility type).

Above the analysis, beside the code that writes these layers: the columns are the
analysis' outputs, and the life-circle types are resolved by
:func:`~geo_service.analysis.facility_sets.life_circle_requirements`.
"""

from __future__ import annotations

from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.data.catalog_entries import (
    COMMUNITY,
    HOUSEHOLDS,
    ID,
    LIFE_CIRCLE_DISTANCE_15_M,
    LIFE_CIRCLE_MINUTES,
    POPULATION,
    entry,
    name_properties,
    prop,
)
from geo_service.data.profile import DistrictProfile


def _set_columns(key: str, zh: str, en: str) -> list[dict]:
    return [
        prop(
            f"{key}_m",
            "number",
            f"到最近{zh}的步行距离",
            f"Walking distance to the nearest {en}",
            unit="m",
            minimum=0,
        ),
        prop(
            f"{key}_min",
            "number",
            f"到最近{zh}的步行时间",
            f"Walking time to the nearest {en}",
            unit="min",
            minimum=0,
            title={"zh": f"步行分钟（{zh}）", "en": f"Walk minutes ({en})"},
        ),
        prop(f"{key}_id", "string", f"最近{zh}的编号", f"Id of the nearest {en}"),
        prop(
            f"{key}_circle",
            "integer",
            f"所在{zh}生活圈（分钟，空值=圈外）",
            f"Smallest life circle of a {en} it falls in (minutes; empty = beyond)",
            unit="min",
        ),
    ]


def derived_layer_entries(profile: DistrictProfile) -> list[dict]:
    """Catalog entries of the derived coverage layers, with a column group per facility set
    and a reach column per life-circle facility type."""
    config = profile.analysis
    note = (
        "Computed by geo-service coverage: walking distances along the roads layer in the "
        f"district's metric CRS ({profile.metric_crs}), multi-source Dijkstra from every "
        "facility, snap distance added; recomputed when an input or a parameter changes."
    )
    licence = "derived from the district's layers (same licence)"
    base = [
        ID,
        *name_properties(),
        COMMUNITY,
        POPULATION,
        HOUSEHOLDS,
    ]
    sets = [(s.key, s.title.pick("zh"), s.title.pick("en")) for s in config.facility_sets]
    compound = [
        *base,
        prop(
            "snap_m",
            "number",
            "起点到路网的距离（已计入）",
            "Distance from the start point to the network (included)",
            unit="m",
            minimum=0,
        ),
        prop(
            "snap_status",
            "string",
            "接入路网的状态",
            "How it was joined to the network",
            required=True,
            enum=["ok", "nearest_road_isolated", "too_far", "invalid_point", "no_access_point"],
        ),
        *(column for key, zh, en in sets for column in _set_columns(key, zh, en)),
    ]
    circles = LIFE_CIRCLE_MINUTES
    # empty (null) for an area where nobody lives
    share = {"unit": "share 0-1", "minimum": 0, "maximum": 1}
    requirements = life_circle_requirements(config)
    life = [r.key for r in requirements]
    area = [
        ID,
        *name_properties(),
        prop("residents", "integer", "居民数", "Residents", unit="persons", minimum=0),
        prop("compounds", "integer", "需求要素数", "Demand features", minimum=0),
        *(
            p
            for m in circles
            for p in (
                prop(
                    f"residents_{m}",
                    "integer",
                    f"{m}分钟内居民",
                    f"Residents within {m} min",
                    unit="persons",
                    minimum=0,
                ),
                prop(
                    f"compounds_{m}",
                    "integer",
                    f"{m}分钟内要素",
                    f"Features within {m} min",
                    minimum=0,
                ),
                prop(
                    f"share_{m}",
                    "number",
                    f"{m}分钟覆盖率",
                    f"Share within {m} min",
                    unit="share 0-1",
                    minimum=0,
                    maximum=1,
                    title={"zh": f"{m}分钟覆盖率", "en": f"Share within {m} min"},
                ),
            )
        ),
        prop(
            "unreached_residents",
            "integer",
            "无法到达的居民",
            "Residents not reached",
            unit="persons",
            minimum=0,
        ),
        prop(
            "mean_min",
            "number",
            "人口加权平均步行分钟",
            "Population-weighted mean minutes",
            unit="min",
            minimum=0,
        ),
        prop(
            "p90_min",
            "number",
            "第90百分位步行分钟",
            "90th-percentile minutes",
            unit="min",
            minimum=0,
        ),
        *(
            prop(
                f"reach_{r.key}",
                "number",
                f"{r.circle}分钟生活圈内可达{r.facilities.title_zh}的居民比例",
                f"Share of residents reaching {r.facilities.title_en} within the "
                f"{r.circle}-minute circle",
                **share,
            )
            for r in requirements
        ),
        prop(
            "lacks",
            "string",
            "缺少的设施类型（各按其生活圈）",
            "Facility types it lacks (each within its own life circle)",
            list_separator=";",
            enum=life or None,
        ),
        prop("lacks_count", "integer", "缺少的设施类型数", "Facility types lacking", minimum=0),
    ]
    gap = config.gap_set
    gap_title = next(s for s in sets if s[0] == gap)
    headline = next(s for s in sets if s[0] == config.headline_set)
    gaps = [
        prop(
            "rank",
            "integer",
            "按居民数排序的名次",
            "Rank by residents",
            required=True,
            minimum=1,
            title={"zh": "排名", "en": "Rank"},
        ),
        *base,
        *_set_columns(gap, gap_title[1], gap_title[2])[:3],
    ]
    service_circles = [
        ID,
        prop(
            "facility_set",
            "string",
            "设施类别",
            "Facility set",
            required=True,
            enum=[s[0] for s in sets],
        ),
        prop("title_zh", "string", "标题", "Title (Chinese)", required=True),
        prop("title_en", "string", "标题（英文）", "Title (English)", required=True),
        prop(
            "minutes",
            "integer",
            "生活圈（分钟）",
            "Life circle (minutes)",
            unit="min",
            required=True,
        ),
        prop("distance_m", "number", "步行距离", "Walking distance", unit="m", required=True),
        prop("facilities", "integer", "设施数", "Facilities", minimum=0),
        prop("area_km2", "number", "面积", "Area", unit="km²", minimum=0),
    ]
    reached_streets = [
        *service_circles[:-1],
        prop("length_km", "number", "街道长度", "Length of the streets", unit="km", minimum=0),
    ]
    options = {
        "source_note": note,
        "synthetic": profile.synthetic,
        "licence": licence,
        "derived": True,
    }
    return [
        entry(
            "compound_coverage",
            "需求点步行可达性",
            "Walking access of the demand",
            "MultiPolygon",
            "coverage",
            compound,
            {"color": "#555555", "fill_color": "#fdae61", "fill_opacity": 0.7},
            **options,
        ),
        entry(
            "community_coverage",
            f"社区覆盖率（{headline[1]}）",
            f"Community coverage by {headline[2]}",
            "MultiPolygon",
            "coverage",
            area,
            {"color": "#555555", "fill_color": "#31a354", "fill_opacity": 0.6},
            **options,
        ),
        entry(
            "coverage_gaps",
            f"服务盲区（步行{LIFE_CIRCLE_DISTANCE_15_M:g}米内无{gap_title[1]}）",
            f"Gaps: no {gap_title[2]} within {LIFE_CIRCLE_DISTANCE_15_M:g} m on foot",
            "MultiPolygon",
            "coverage",
            gaps,
            {"color": "#49006a", "fill_color": "#c51b8a", "fill_opacity": 0.85},
            **options,
        ),
        entry(
            "service_circles",
            "服务圈（沿街道）",
            "Service circles (along the streets)",
            "MultiPolygon",
            "coverage",
            service_circles,
            {"color": "#2171b5", "fill_color": "#6baed6", "fill_opacity": 0.35},
            **options,
        ),
        entry(
            "reached_streets",
            "可达街道（5/10/15分钟）",
            "Streets reached (5/10/15 minutes)",
            "MultiLineString",
            "coverage",
            reached_streets,
            {"color": "#2171b5", "line_width": 2.0},
            **options,
        ),
    ]
