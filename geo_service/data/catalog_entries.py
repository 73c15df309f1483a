"""Builders of catalog entries as plain dicts (validated as
:class:`~geo_service.data.catalog.LayerSpec` when the catalog loads): what
:mod:`~geo_service.data.district_catalog` and :mod:`~geo_service.pipeline.derived_catalog`
write for a new district."""

from __future__ import annotations

#: The life circles' minutes (GB 50180-2018), as the coverage settings default to.
LIFE_CIRCLE_MINUTES = (5, 10, 15)
#: The 15-minute circle's default walking distance (GB 50180-2018: 800-1000 m), metres.
LIFE_CIRCLE_DISTANCE_15_M = 1000.0


def prop(name: str, kind: str, zh: str, en: str, **extra) -> dict:
    """A property: name, type, description in Chinese and English, and other fields."""
    return {"name": name, "type": kind, "description": {"zh": zh, "en": en}, **extra}


def name_properties() -> list[dict]:
    """``name`` (local), ``name_en`` and ``name_zh``."""
    return [
        prop(
            "name",
            "string",
            "名称（当地语言）",
            "Name (local language)",
            title={"zh": "名称", "en": "Name"},
        ),
        prop("name_en", "string", "英文名称（无则为当地名称）", "Name in English (else local)"),
        prop("name_zh", "string", "中文名称（无则为当地名称）", "Name in Chinese (else local)"),
    ]


def osm_id_properties() -> list[dict]:
    """``osm_id`` and ``osm_type``."""
    return [
        prop("osm_id", "integer", "OpenStreetMap 编号", "OpenStreetMap id"),
        prop(
            "osm_type",
            "string",
            "OpenStreetMap 类型",
            "OpenStreetMap element type",
            enum=["node", "way", "relation"],
        ),
    ]


ID = prop("id", "string", "编号", "Id", required=True, unique=True)
COMMUNITY = prop("community_id", "string", "所在社区编号", "Community id")
POPULATION = prop("population", "integer", "居民数", "Residents", unit="persons", required=True,
                  minimum=0, title={"zh": "居民", "en": "Residents"})  # fmt: skip
HOUSEHOLDS = prop("households", "integer", "户数", "Households", minimum=0)


def entry(
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
