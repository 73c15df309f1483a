"""The catalog and planner map a new district starts with (``geo-service init``): entries
for the layers an import writes (boundaries, walking network, demand, facilities) and for
the derived coverage layers, whose columns follow the profile's analysis configuration.

Each function returns plain dicts, validated as :class:`~geo_service.data.catalog.LayerSpec`
when the catalog loads.
"""

from __future__ import annotations

from geo_service.data.profile import DistrictProfile

#: The life circles' minutes (GB 50180-2018), as the coverage settings default to.
LIFE_CIRCLE_MINUTES = (5, 10, 15)


def _prop(name: str, kind: str, zh: str, en: str, **extra) -> dict:
    return {"name": name, "type": kind, "description": {"zh": zh, "en": en}, **extra}


def _names() -> list[dict]:
    return [
        _prop(
            "name",
            "string",
            "名称（当地语言）",
            "Name (local language)",
            title={"zh": "名称", "en": "Name"},
        ),
        _prop("name_en", "string", "英文名称（无则为当地名称）", "Name in English (else local)"),
        _prop("name_zh", "string", "中文名称（无则为当地名称）", "Name in Chinese (else local)"),
    ]


def _osm_ids() -> list[dict]:
    return [
        _prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
        _prop(
            "osm_type",
            "string",
            "OpenStreetMap 类型",
            "OpenStreetMap element type",
            enum=["node", "way", "relation"],
        ),
    ]


_ID = _prop("id", "string", "编号", "Id", required=True, unique=True)
_COMMUNITY = _prop("community_id", "string", "所在社区编号", "Community id")


def _entry(
    layer_id,
    zh,
    en,
    geometry,
    group,
    properties,
    style,
    *,
    source_note,
    synthetic,
    licence="ODbL-1.0 (© OpenStreetMap contributors)",
    access="public",
    derived=False,
):
    return {
        "id": layer_id,
        "title": {"zh": zh, "en": en},
        "description": {"zh": zh, "en": en},
        "geometry_type": geometry,
        "access": access,
        "source": f"{layer_id}.geojson",
        "group": group,
        "derived": derived,
        "properties": properties,
        "style": style,
        "provenance": {"synthetic": synthetic, "method": source_note},
        "licence": licence,
        "keywords": [layer_id.replace("_", " "), "15-minute life circle"],
    }


def source_layer_entries(profile: DistrictProfile) -> list[dict]:
    """Catalog entries of the layers ``geo-service import osm`` writes."""
    note = "Imported from an OpenStreetMap extract by geo-service import osm."
    synthetic = profile.synthetic
    levels = [t.key for t in profile.analysis.levels] or None
    services = [t.key for t in profile.analysis.services] or None
    return [
        _entry(
            "district",
            "区域范围",
            "District",
            "MultiPolygon",
            "base",
            [_ID, *_names()],
            {"color": "#333333", "fill_opacity": 0.0, "line_width": 2.0},
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "communities",
            "社区",
            "Communities",
            "MultiPolygon",
            "boundaries",
            [
                _ID,
                *_names(),
                _prop("admin_level", "integer", "行政级别", "admin_level"),
                _prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
            ],
            {"color": "#7570b3", "fill_opacity": 0.0, "line_width": 1.0},
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "roads",
            "步行路网",
            "Walking network",
            "LineString",
            "base",
            [
                _ID,
                _prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
                _prop(
                    "road_class",
                    "string",
                    "道路类型（highway）",
                    "Road class (highway)",
                    required=True,
                ),
                _prop("name", "string", "名称", "Name"),
                _prop("bridge", "boolean", "是否为桥梁", "Bridge", required=True),
                _prop("tunnel", "boolean", "是否为隧道", "Tunnel", required=True),
                _prop("length_m", "number", "长度", "Length", unit="m", required=True, minimum=0),
            ],
            {"color": "#9e9e9e", "line_width": 1.0},
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "compounds",
            "居住建筑与小区（需求）",
            "Residential buildings (demand)",
            "MultiPolygon",
            "demand",
            [
                _ID,
                *_osm_ids(),
                *_names(),
                _prop(
                    "population",
                    "integer",
                    "居民数",
                    "Residents",
                    unit="persons",
                    required=True,
                    minimum=0,
                    title={"zh": "居民", "en": "Residents"},
                ),
                _prop("households", "integer", "户数", "Households", minimum=0),
                _prop(
                    "population_source",
                    "string",
                    "人口来源",
                    "Where the residents come from",
                    enum=["tag", "floor_area", "table", "landuse_area"],
                ),
                _prop("floor_area_m2", "number", "建筑面积", "Floor area", unit="m²", minimum=0),
                _COMMUNITY,
            ],
            {"color": "#b5534b", "fill_color": "#e8a39c", "fill_opacity": 0.6, "line_width": 0.5},
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "service_centres",
            "服务中心",
            "Service centres",
            "Point",
            "facilities",
            [
                _ID,
                *_osm_ids(),
                *_names(),
                _prop(
                    "level",
                    "string",
                    "级别",
                    "Level",
                    enum=levels,
                    title={"zh": "级别", "en": "Level"},
                ),
                _prop("kind", "string", "OSM 标签", "OSM tag"),
                _prop(
                    "services",
                    "string",
                    "服务（分号分隔）",
                    "Services (';'-separated)",
                    list_separator=";",
                    enum=services,
                    title={"zh": "服务", "en": "Services"},
                ),
                _prop(
                    "opening_hours",
                    "string",
                    "开放时间（OSM 语法）",
                    "Opening hours (OSM syntax)",
                    format="opening_hours",
                    title={"zh": "开放时间", "en": "Opening hours"},
                ),
                _COMMUNITY,
            ],
            {
                "color": "#c0392b",
                "fill_color": "#e74c3c",
                "fill_opacity": 0.9,
                "icon": "star",
                "radius": 6,
            },
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "pocket_parks",
            "公园",
            "Parks",
            "MultiPolygon",
            "facilities",
            [
                _ID,
                *_osm_ids(),
                *_names(),
                _prop("area_m2", "number", "面积", "Area", unit="m²", minimum=0),
                _COMMUNITY,
            ],
            {"color": "#2e7d32", "fill_color": "#66bb6a", "fill_opacity": 0.5},
            source_note=note,
            synthetic=synthetic,
        ),
        _entry(
            "trails",
            "步道",
            "Trails",
            "LineString",
            "facilities",
            [
                _ID,
                _prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
                *_names(),
                _prop("length_m", "number", "长度", "Length", unit="m", minimum=0),
                _COMMUNITY,
            ],
            {"color": "#8e24aa", "line_width": 3.0},
            source_note=note,
            synthetic=synthetic,
        ),
    ]


def _set_columns(key: str, zh: str, en: str) -> list[dict]:
    return [
        _prop(
            f"{key}_m",
            "number",
            f"到最近{zh}的步行距离",
            f"Walking distance to the nearest {en}",
            unit="m",
            minimum=0,
        ),
        _prop(
            f"{key}_min",
            "number",
            f"到最近{zh}的步行时间",
            f"Walking time to the nearest {en}",
            unit="min",
            minimum=0,
            title={"zh": f"步行分钟（{zh}）", "en": f"Walk minutes ({en})"},
        ),
        _prop(f"{key}_id", "string", f"最近{zh}的编号", f"Id of the nearest {en}"),
        _prop(
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
        _ID,
        *_names(),
        _COMMUNITY,
        _prop(
            "population",
            "integer",
            "居民数",
            "Residents",
            unit="persons",
            minimum=0,
            required=True,
            title={"zh": "居民", "en": "Residents"},
        ),
        _prop("households", "integer", "户数", "Households", minimum=0),
    ]
    sets = [(s.key, s.title.pick("zh"), s.title.pick("en")) for s in config.facility_sets]
    compound = [
        *base,
        _prop(
            "snap_m",
            "number",
            "起点到路网的距离（已计入）",
            "Distance from the start point to the network (included)",
            unit="m",
            minimum=0,
        ),
        _prop(
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
    share = {"unit": "share 0-1", "minimum": 0, "maximum": 1, "required": True}
    life = [f"svc_{t.key}" for t in config.services] + list(config.life_circle_sets)
    area = [
        _ID,
        *_names(),
        _prop("residents", "integer", "居民数", "Residents", unit="persons", minimum=0),
        _prop("compounds", "integer", "需求要素数", "Demand features", minimum=0),
        *(
            p
            for m in circles
            for p in (
                _prop(
                    f"residents_{m}",
                    "integer",
                    f"{m}分钟内居民",
                    f"Residents within {m} min",
                    unit="persons",
                    minimum=0,
                ),
                _prop(
                    f"compounds_{m}",
                    "integer",
                    f"{m}分钟内要素",
                    f"Features within {m} min",
                    minimum=0,
                ),
                _prop(
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
        _prop(
            "unreached_residents",
            "integer",
            "无法到达的居民",
            "Residents not reached",
            unit="persons",
            minimum=0,
        ),
        _prop(
            "mean_min",
            "number",
            "人口加权平均步行分钟",
            "Population-weighted mean minutes",
            unit="min",
            minimum=0,
        ),
        _prop(
            "p90_min",
            "number",
            "第90百分位步行分钟",
            "90th-percentile minutes",
            unit="min",
            minimum=0,
        ),
        *(
            _prop(
                f"reach_{key}",
                "number",
                f"15分钟可达{key}的居民比例",
                f"Share of residents within 15 min of {key}",
                **share,
            )
            for key in life
        ),
        _prop(
            "lacks",
            "string",
            "15分钟生活圈内缺少的设施",
            "Facility types it lacks",
            list_separator=";",
            enum=life or None,
        ),
        _prop("lacks_count", "integer", "缺少的设施类型数", "Facility types lacking", minimum=0),
    ]
    gap = config.gap_set
    gap_title = next(s for s in sets if s[0] == gap)
    gaps = [
        _prop(
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
        _ID,
        _prop(
            "facility_set",
            "string",
            "设施类别",
            "Facility set",
            required=True,
            enum=[s[0] for s in sets],
        ),
        _prop("title_zh", "string", "标题", "Title (Chinese)", required=True),
        _prop("title_en", "string", "标题（英文）", "Title (English)", required=True),
        _prop(
            "minutes",
            "integer",
            "生活圈（分钟）",
            "Life circle (minutes)",
            unit="min",
            required=True,
        ),
        _prop("distance_m", "number", "步行距离", "Walking distance", unit="m", required=True),
        _prop("facilities", "integer", "设施数", "Facilities", minimum=0),
        _prop("area_km2", "number", "面积", "Area", unit="km²", minimum=0),
    ]
    options = {
        "source_note": note,
        "synthetic": profile.synthetic,
        "licence": licence,
        "derived": True,
    }
    return [
        _entry(
            "compound_coverage",
            "需求点步行可达性",
            "Walking access of the demand",
            "MultiPolygon",
            "coverage",
            compound,
            {"color": "#555555", "fill_color": "#fdae61", "fill_opacity": 0.7},
            **options,
        ),
        _entry(
            "community_coverage",
            "社区生活圈覆盖",
            "Community life-circle coverage",
            "MultiPolygon",
            "coverage",
            area,
            {"color": "#555555", "fill_color": "#31a354", "fill_opacity": 0.6},
            **options,
        ),
        _entry(
            "coverage_gaps",
            "服务盲区",
            "Coverage gaps",
            "MultiPolygon",
            "coverage",
            gaps,
            {"color": "#49006a", "fill_color": "#c51b8a", "fill_opacity": 0.85},
            **options,
        ),
        _entry(
            "service_circles",
            "服务圈（沿街道）",
            "Service circles (along the streets)",
            "MultiPolygon",
            "coverage",
            service_circles,
            {"color": "#2171b5", "fill_color": "#6baed6", "fill_opacity": 0.35},
            **options,
        ),
    ]


def planner_definition(profile: DistrictProfile) -> dict:
    """The planner map (``maps/planner.yaml``) of a new district."""
    headline = profile.analysis.headline_set
    return {
        "id": "planner",
        "title": {
            "zh": f"{profile.name.pick('zh')} 15分钟生活圈",
            "en": f"{profile.name.pick('en')}: 15-minute life circle",
        },
        "max_zoom": 19,
        "min_zoom": 10,
        "groups": [
            {"id": "basemap", "title": {"zh": "底图", "en": "Basemap"}},
            {"id": "boundaries", "title": {"zh": "边界", "en": "Boundaries"}},
            {"id": "facilities", "title": {"zh": "服务设施", "en": "Facilities"}},
            {"id": "coverage", "title": {"zh": "覆盖分析", "en": "Coverage"}},
        ],
        "layers": [
            {"layer": "roads", "group": "basemap", "interactive": False, "popup": []},
            {"layer": "district", "group": "basemap", "fill": False, "interactive": False},
            {"layer": "communities", "group": "boundaries", "fill": False},
            {"layer": "community_coverage", "group": "coverage", "visible": False},
            {
                "layer": "compound_coverage",
                "group": "coverage",
                "popup": ["name", "population", f"{headline}_min", f"{headline}_m"],
                "classes": {
                    "property": f"{headline}_min",
                    "breaks": [5, 10, 15, 20],
                    "colors": ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"],
                    "labels": [
                        {"zh": "≤5分钟", "en": "≤5 min walk"},
                        {"zh": "5–10分钟", "en": "5–10 min"},
                        {"zh": "10–15分钟", "en": "10–15 min"},
                        {"zh": "15–20分钟", "en": "15–20 min"},
                        {"zh": ">20分钟", "en": ">20 min"},
                    ],
                    "missing": {"zh": "无法到达", "en": "Not reachable"},
                },
            },
            {
                "layer": "service_circles",
                "group": "coverage",
                "filter": {"facility_set": headline},
                "tooltip": "title_en",
            },
            {"layer": "coverage_gaps", "group": "coverage"},
            {"layer": "pocket_parks", "group": "facilities"},
            {"layer": "trails", "group": "facilities"},
            {"layer": "service_centres", "group": "facilities", "cluster": True},
        ],
    }
