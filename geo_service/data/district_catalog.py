"""The catalog and planner map a new district starts with (``geo-service init``): entries
for the layers an import writes (boundaries, walking network, demand, facilities); the
derived layers' entries are in :mod:`~geo_service.pipeline.derived_catalog`.
"""

from __future__ import annotations

from geo_service.data.catalog_entries import (
    COMMUNITY,
    HOUSEHOLDS,
    ID,
    POPULATION,
    entry,
    name_properties,
    osm_id_properties,
    prop,
)
from geo_service.data.profile import DistrictProfile

#: A new district's planner map draws a layer of more features, or of more vertices in
#: all, than these from vector tiles (maps/planner.yaml's values).
TILES_ABOVE = 5000
VERTICES_ABOVE = 200_000


def source_layer_entries(profile: DistrictProfile) -> list[dict]:
    """Catalog entries of the layers ``geo-service import osm`` writes."""
    note = "Imported from an OpenStreetMap extract by geo-service import osm."
    synthetic = profile.synthetic
    levels = [t.key for t in profile.analysis.levels] or None
    services = [t.key for t in profile.analysis.services] or None
    return [
        entry(
            "district",
            "区域范围",
            "District",
            "MultiPolygon",
            "base",
            [ID, *name_properties()],
            {"color": "#333333", "fill_opacity": 0.0, "line_width": 2.0},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "communities",
            "社区",
            "Communities",
            "MultiPolygon",
            "boundaries",
            [
                ID,
                *name_properties(),
                prop("admin_level", "integer", "行政级别", "admin_level"),
                prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
            ],
            {"color": "#7570b3", "fill_opacity": 0.0, "line_width": 1.0},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "roads",
            "步行路网",
            "Walking network",
            "LineString",
            "base",
            [
                ID,
                prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
                prop(
                    "road_class",
                    "string",
                    "道路类型（highway）",
                    "Road class (highway)",
                    required=True,
                ),
                prop("name", "string", "名称", "Name"),
                prop("bridge", "boolean", "是否为桥梁", "Bridge", required=True),
                prop("tunnel", "boolean", "是否为隧道", "Tunnel", required=True),
                prop("length_m", "number", "长度", "Length", unit="m", required=True, minimum=0),
            ],
            {"color": "#9e9e9e", "line_width": 1.0},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "compounds",
            "居住建筑与小区（需求）",
            "Residential buildings (demand)",
            "MultiPolygon",
            "demand",
            [
                ID,
                *osm_id_properties(),
                *name_properties(),
                POPULATION,
                HOUSEHOLDS,
                prop(
                    "population_source",
                    "string",
                    "人口来源",
                    "Where the residents come from",
                    enum=["tag", "floor_area", "table", "landuse_area"],
                ),
                prop("floor_area_m2", "number", "建筑面积", "Floor area", unit="m²", minimum=0),
                COMMUNITY,
            ],
            {"color": "#b5534b", "fill_color": "#e8a39c", "fill_opacity": 0.6, "line_width": 0.5},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "service_centres",
            "服务中心",
            "Service centres",
            "Point",
            "facilities",
            [
                ID,
                *osm_id_properties(),
                *name_properties(),
                prop(
                    "level",
                    "string",
                    "级别",
                    "Level",
                    enum=levels,
                    title={"zh": "级别", "en": "Level"},
                ),
                prop("kind", "string", "OSM 标签", "OSM tag"),
                prop(
                    "services",
                    "string",
                    "服务（分号分隔）",
                    "Services (';'-separated)",
                    list_separator=";",
                    enum=services,
                    title={"zh": "服务", "en": "Services"},
                ),
                prop(
                    "opening_hours",
                    "string",
                    "开放时间（OSM 语法）",
                    "Opening hours (OSM syntax)",
                    format="opening_hours",
                    title={"zh": "开放时间", "en": "Opening hours"},
                ),
                prop(
                    "address",
                    "string",
                    "地址（addr:*）",
                    "Address (addr:*)",
                    title={"zh": "地址", "en": "Address"},
                ),
                prop(
                    "phone",
                    "string",
                    "电话（phone）",
                    "Phone (phone)",
                    title={"zh": "电话", "en": "Phone"},
                ),
                COMMUNITY,
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
        entry(
            "landmarks",
            "地标",
            "Landmarks",
            "Point",
            "base",
            [
                ID,
                *osm_id_properties(),
                *name_properties(),
                prop(
                    "aliases",
                    "string",
                    "别称（alt_name、short_name 等，分号分隔）",
                    "Other names (alt_name, short_name, ...; ';'-separated)",
                    list_separator=";",
                    title={"zh": "别称", "en": "Other names"},
                ),
                prop(
                    "kind",
                    "string",
                    "类别（学校、医院、车站等）",
                    "Kind (school, hospital, station, ...)",
                    title={"zh": "类别", "en": "Kind"},
                ),
                COMMUNITY,
            ],
            {"color": "#5d4037", "fill_color": "#a1887f", "fill_opacity": 0.9, "radius": 5},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "pocket_parks",
            "公园",
            "Parks",
            "MultiPolygon",
            "facilities",
            [
                ID,
                *osm_id_properties(),
                *name_properties(),
                prop("area_m2", "number", "面积", "Area", unit="m²", minimum=0),
                COMMUNITY,
            ],
            {"color": "#2e7d32", "fill_color": "#66bb6a", "fill_opacity": 0.5},
            source_note=note,
            synthetic=synthetic,
        ),
        entry(
            "trails",
            "步道",
            "Trails",
            "LineString",
            "facilities",
            [
                ID,
                prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
                *name_properties(),
                prop("length_m", "number", "长度", "Length", unit="m", minimum=0),
                COMMUNITY,
            ],
            {"color": "#8e24aa", "line_width": 3.0},
            source_note=note,
            synthetic=synthetic,
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
        "tiles_above": TILES_ABOVE,
        "vertices_above": VERTICES_ABOVE,
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
            # Circles under the compounds: a click on a compound is the compound's.
            {
                "layer": "service_circles",
                "group": "coverage",
                "filter": {"facility_set": headline},
                "tooltip": "title_en",
            },
            {
                "layer": "reached_streets",
                "group": "coverage",
                "visible": False,
                "shown_when_empty": "service_circles",
                "filter": {"facility_set": headline},
                "tooltip": "title_en",
            },
            {
                "layer": "compound_coverage",
                "group": "coverage",
                "popup": ["name", "population", f"{headline}_min", f"{headline}_m"],
                "classes": {
                    "property": f"{headline}_min",
                    "breaks": [5, 10, 15, 20],
                    "colors": ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"],
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
            {"layer": "coverage_gaps", "group": "coverage"},
            {"layer": "pocket_parks", "group": "facilities"},
            {"layer": "trails", "group": "facilities"},
            {"layer": "service_centres", "group": "facilities", "cluster": True},
        ],
    }
